"""The log lines operators' runbooks grep, with op-node's messages and key=value fields (not inside ``msg``), in the
three formats: ``Safety levels``, ``Sync progress`` (and its paced form while catching up), the ``Follow Upstream`` /
``Follow Source: …`` lines of a light node and the sequencer's lines.

Expected texts are op-node's (okx/optimism@7573e762, 2026-06-30: op-node/node/node.go, rollup/driver/driver.go,
rollup/engine/engine_controller.go, rollup/sequencing/sequencer.go) and go-ethereum's renderings of block refs
(op-service/eth/id.go ``String``/``TerminalString``; ``json.Marshal`` in the json handler)."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import httpx
import pytest

from derivation.protocol.rollup_config import Fork
from derivation.protocol.types import ZERO_L2_REF, BlockID, L1BlockRef, L2BlockRef
from engine.controller import FollowOutcome, Heads
from opnode.node.config import FollowSourceConfig
from opnode.node.logs import get_logger
from opnode.node.networks import load_rollup_config
from opnode.node.runtime.follow import FollowSource
from opnode.node.runtime.node import OpNode
from opnode.node.sync_progress import SyncProgressLog
from opnode.node.sync_status import SyncStatus
from opnode.testing.runtime import make_world
from tests.runtime.test_sequencer import _advance, _setup

FORMATS = ("logfmt", "terminal", "json")
_LOGFMT_PAIR = re.compile(r'("(?:[^"\\]|\\.)*"|[^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)')


def _unquote(s: str) -> str:
    return json.loads(s) if s.startswith('"') else s


def parse(line: str, fmt: str) -> tuple[str, str, dict]:
    """(level, msg, fields) of one line: what a log shipper or a grep sees."""
    if fmt == "json":
        obj = json.loads(line)
        return obj.pop("lvl"), obj.pop("msg"), {k: v for k, v in obj.items() if k != "t"}
    if fmt == "logfmt":
        pairs = {_unquote(k): _unquote(v) for k, v in _LOGFMT_PAIR.findall(line)}
        assert pairs.pop("t")
        return pairs.pop("lvl"), pairs.pop("msg"), pairs
    m = re.fullmatch(r"(\w+) ?\[\d\d-\d\d\|\d\d:\d\d:\d\d\.\d{3}\] (.*)", line)
    assert m, line
    level, rest = m.group(1).lower(), m.group(2)
    # go-ethereum pads the message to 40 columns, then one space and the fields
    f = re.compile(r' (?=(?:"(?:[^"\\]|\\.)*"|[^\s="]+)=)').search(rest, min(len(rest), 39))
    msg, fields = (rest, "") if f is None else (rest[:f.start()], rest[f.start():])
    msg = msg.rstrip()
    return level, msg, {_unquote(k): _unquote(v) for k, v in _LOGFMT_PAIR.findall(fields)}


def lines(buf, fmt: str) -> list[tuple[str, str, dict]]:
    return [parse(x, fmt) for x in buf.getvalue().splitlines() if x.strip()]


def find(buf, fmt: str, msg: str) -> list[tuple[str, dict]]:
    return [(lvl, f) for lvl, m, f in lines(buf, fmt) if m == msg]


def ref(v, fmt: str):
    """A block ref as go-ethereum prints it in ``fmt``."""
    if fmt == "json":
        return v.to_json()
    h = v.hash.hex()
    return f"0x{h[:6]}..{h[-6:]}:{v.number}" if fmt == "terminal" else f"0x{h}:{v.number}"


def num(v, fmt: str):
    return v if fmt == "json" else str(v)


def _l2(n: int, time: int = 0) -> L2BlockRef:
    return L2BlockRef(bytes([n]) * 32, n, bytes([n - 1 if n else 0]) * 32, time, BlockID(b"\xee" * 32, n // 2), 0)


# ----------------------------------------------------------------------------------------------------- safety levels


def _node(follow: str | None) -> OpNode:
    config = SimpleNamespace(rollup=load_rollup_config(network="op-sepolia"),
                             follow_source=FollowSourceConfig(follow, 10.0) if follow else None)
    return OpNode(config)


@pytest.mark.parametrize("fmt", FORMATS)
def test_safety_levels_line(capture, fmt):
    buf = capture(format=fmt)
    _node(None)._safety_levels()
    _node("http://source:9545/901")._safety_levels()
    assert find(buf, fmt, "Safety levels") == [("info", {"unsafe": "enabled", "safe": "enabled"}),
                                               ("info", {"unsafe": "enabled", "safe": "http://source:9545/901"})]


# ----------------------------------------------------------------------------------------------------- sync progress


class _Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize("fmt", FORMATS)
def test_sync_progress_reasons_and_fields(capture, fmt):
    buf = capture(format=fmt)
    wall = _Clock(1_000.0)
    progress = SyncProgressLog(get_logger("opnode.node"), clock=wall, monotonic=_Clock(0.0))
    a, b, c = _l2(1, 998), _l2(2, 999), _l2(3, 1000)
    at_tip = Heads(unsafe=a, pending_safe=a, local_safe=a, safe=a, finalized=ZERO_L2_REF)
    steps = [
        (Heads(unsafe=b, pending_safe=a, local_safe=a, safe=a), "new chain head block"),
        (Heads(unsafe=b, pending_safe=b, local_safe=a, safe=a), "pending new safe block"),
        (Heads(unsafe=b, pending_safe=b, local_safe=b, safe=b), "consolidated block with L1"),
        (Heads(unsafe=b, pending_safe=b, local_safe=b, safe=b, finalized=a), "finalized block"),
        (Heads(unsafe=c, pending_safe=c, local_safe=c, safe=c, finalized=a), None),  # safe was at unsafe: derived
    ]
    old = at_tip
    for new, _ in steps:
        progress.on_heads(old, new)
        old = new
    progress.on_heads(old, old)  # nothing changed: no line
    got = find(buf, fmt, "Sync progress")
    assert [f["reason"] for _, f in got] == [r or "derived safe block from L1" for _, r in steps]
    lvl, last = got[-1]
    assert lvl == "info" and last == {
        "reason": "derived safe block from L1", "l2_finalized": ref(a, fmt), "l2_safe": ref(c, fmt),
        "l2_pending_safe": ref(c, fmt), "l2_unsafe": ref(c, fmt), "l2_backup_unsafe": ref(ZERO_L2_REF, fmt),
        "l2_time": num(1000, fmt)}


@pytest.mark.parametrize("fmt", FORMATS)
def test_sync_progress_is_paced_while_catching_up(capture, fmt):
    buf = capture(format=fmt)
    mono = _Clock(0.0)
    progress = SyncProgressLog(get_logger("opnode.node"), clock=_Clock(10_000.0), monotonic=mono, interval=10.0,
                               catchup_lag=60.0)
    heads = Heads()
    for n in range(1, 31):  # one block a second of monotonic time, each 9,000 s behind the wall clock
        new = Heads(unsafe=_l2(n, 1_000 + n))
        progress.on_heads(heads, new)
        heads = new
        mono.t += 1.0
    got = find(buf, fmt, "Sync progress")
    # the first change, then one line per 10 s with the changes it stands for
    assert [(f["l2_unsafe"], f["updates"]) for _, f in got] == [
        (ref(_l2(n, 1_000 + n), fmt), num(k, fmt)) for n, k in ((1, 1), (11, 10), (21, 10))]
    assert got[1][1]["l2_lag"] == num(10_000 - 1_011, fmt)
    # at the tip: every change again, without the catch-up fields
    progress.on_heads(heads, Heads(unsafe=_l2(40, 10_000)))
    lvl, tip = find(buf, fmt, "Sync progress")[-1]
    assert tip["l2_unsafe"] == ref(_l2(40, 10_000), fmt) and "updates" not in tip and "l2_lag" not in tip


# ----------------------------------------------------------------------------------------------------- follow source


def _follow_world():
    w, _ = make_world({Fork.HOLOCENE: 0})
    for _ in range(5):
        w.l1.mine()

    async def l1(n):
        if n >= len(w.l1.canonical):
            raise LookupError("not found")
        return w.l1.canonical[n].info.ref

    def l2(number, l1_number):
        return L2BlockRef(bytes([number]) * 32, number, bytes([number - 1]) * 32, w.cfg.genesis.l2_time + 2 * number,
                          w.l1.canonical[l1_number].info.id, 0)

    return w, l1, l2


class _Ctrl:
    def __init__(self, unsafe, safe, outcome):
        self.unsafe, self.safe, self.outcome = unsafe, safe, outcome

    async def follow_source(self, *a):
        return self.outcome


@pytest.mark.parametrize("fmt", FORMATS)
async def test_follow_upstream_and_follow_source_lines(capture, fmt):
    buf = capture(format=fmt, level="debug")
    w, l1, l2 = _follow_world()
    cur = w.l1.canonical[5].info.ref
    good = SyncStatus(safe_l2=l2(6, 2), local_safe_l2=l2(8, 3), finalized_l2=l2(4, 1), current_l1=cur)
    own_unsafe, own_safe = l2(9, 3), l2(5, 2)
    for outcome in FollowOutcome:
        fs = FollowSource("http://source/901", timeout=1, interval=1, l1_ref_by_number=l1,
                          ctrl=_Ctrl(own_unsafe, own_safe, outcome), driver=SimpleNamespace(wake=lambda: None))
        assert await fs.validate(good)
        fs._pending = good
        await fs.apply()
    upstream = find(buf, fmt, "Follow Upstream")
    assert len(upstream) == len(FollowOutcome) and upstream[0] == ("info", {
        "eSafe": ref(good.safe_l2, fmt), "eLocalSafe": ref(good.local_safe_l2, fmt),
        "eFinalized": ref(good.finalized_l2, fmt), "eCurrentL1": ref(cur, fmt)})
    refs = {"currentUnsafe": ref(own_unsafe, fmt), "currentSafe": ref(own_safe, fmt),
            "externalSafe": ref(good.safe_l2, fmt), "externalLocalSafe": ref(good.local_safe_l2, fmt),
            "externalFinalized": ref(good.finalized_l2, fmt)}
    assert find(buf, fmt, "Follow Source: Process external refs") == [("info", refs)] * len(FollowOutcome)
    for msg, level in (("Follow Source: EL Sync: External local safe ahead of current unsafe", "debug"),
                       ("Follow Source: EL Sync in progress", "debug"), ("Follow Source: Consolidation", "debug"),
                       ("Follow Source: Reorg. May Trigger EL sync", "warn")):
        assert find(buf, fmt, msg) == [(level, refs)], msg


@pytest.mark.parametrize("fmt", FORMATS)
async def test_follow_upstream_warnings(capture, fmt):
    buf = capture(format=fmt)
    w, l1, l2 = _follow_world()
    fs = FollowSource("http://source/901", timeout=1, interval=1, l1_ref_by_number=l1, ctrl=None, driver=None)
    assert not await fs.validate(SyncStatus(safe_l2=l2(9, 3), local_safe_l2=l2(8, 3)))
    assert not await fs.validate(SyncStatus(safe_l2=l2(6, 2), local_safe_l2=l2(8, 3), finalized_l2=l2(7, 2)))
    forged = BlockID(b"\xee" * 32, 3)
    bad_local = L2BlockRef(b"\x08" * 32, 8, b"\x07" * 32, 0, forged, 0)
    assert not await fs.validate(SyncStatus(safe_l2=l2(6, 2), local_safe_l2=bad_local))
    gone = L1BlockRef(b"\x01" * 32, 99, b"\x00" * 32, 0)
    assert not await fs.validate(SyncStatus(safe_l2=l2(6, 2), local_safe_l2=l2(8, 3), finalized_l2=l2(4, 1),
                                            current_l1=gone))

    async def hang(request):
        raise httpx.ConnectError("connection refused", request=request)

    async with fs.client(httpx.MockTransport(hang)) as http:
        assert await fs.fetch(http) is None
    assert find(buf, fmt, "Follow Upstream: Invalid external state, safe is ahead of local safe") == [
        ("warn", {"safe": num(9, fmt), "localSafe": num(8, fmt)})]
    assert find(buf, fmt, "Follow Upstream: Invalid external state, finalized is ahead of safe") == [
        ("warn", {"safe": num(6, fmt), "finalized": num(7, fmt)})]
    assert find(buf, fmt, "Follow Upstream: Invalid external local safe: L1 origin of external local safe head "
                          "mismatch") == [("warn", {"actual": ref(w.l1.canonical[3].info.ref, fmt),
                                                    "expected": ref(forged, fmt)})]
    assert find(buf, fmt, "Follow Upstream: Failed to look up external currentL1") == [
        ("warn", {"err": "not found"})]
    assert find(buf, fmt, "Follow Upstream: Failed to fetch status") == [("warn", {"err": "http://source/901: optimism_syncStatus: ConnectError: connection refused"})]


# ----------------------------------------------------------------------------------------------------- sequencer


@pytest.mark.parametrize("fmt", FORMATS)
async def test_sequencer_lines(capture, nursery, fmt):
    buf = capture(format=fmt)
    w, node, seq, clock, _ = await _setup(nursery, {Fork.HOLOCENE: 0})
    w.l1.mine()
    await _advance(node, seq, clock, 4)
    head = seq.stop()
    seq.start(head)
    sealed = find(buf, fmt, "Sequencer sealed block")
    assert sealed, buf.getvalue()
    lvl, first = sealed[0]
    assert lvl == "info" and set(first) == {"block", "parent", "txs", "time"}
    started = find(buf, fmt, "Started sequencing new block")
    inserted = find(buf, fmt, "Sequencer inserted block")
    assert len(started) == len(inserted) == len(sealed) == node.ctrl.unsafe.number
    assert inserted[-1] == ("info", {"block": ref(node.ctrl.unsafe, fmt), "parent": sealed[-1][1]["parent"]})
    assert sealed[-1][1]["block"] == ref(node.ctrl.unsafe.id, fmt)
    assert sealed[-1][1]["time"] == num(node.ctrl.unsafe.time, fmt)
    assert set(started[0][1]) == {"parent", "l1Origin"}
    assert find(buf, fmt, "Sequencer has been stopped") == [("info", {})]
    ((lvl, f),) = find(buf, fmt, "Sequencer has been started")
    assert lvl == "info" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", f["next action"])


# ----------------------------------------------------------------------------------------------------- unsafe blocks


class _UnsafeCtrl:
    def __init__(self, head):
        self.unsafe, self.safe, self.el_syncing = head, ZERO_L2_REF, False

    async def insert_unsafe(self, env):
        self.unsafe = _l2(env.number)
        return True

    async def sync_forkchoice(self):
        pass


@pytest.mark.parametrize("fmt", FORMATS)
async def test_inserted_unsafe_block_line(capture, fmt):
    from opnode.node.runtime.unsafe import UnsafePayloads

    buf = capture(format=fmt)
    ctrl = _UnsafeCtrl(_l2(4))
    q = UnsafePayloads(ctrl)
    env = SimpleNamespace(block_hash=_l2(5).hash, number=5, parent_hash=_l2(4).hash,
                          payload=SimpleNamespace(gas_used=3_000_000))
    q.submit(env)
    await q.insert()
    ((lvl, f),) = find(buf, fmt, "Inserted new L2 unsafe block")
    assert lvl == "info" and set(f) == {"hash", "number", "insert_time", "mgas", "mgasps"}
    assert f["hash"] == "0x" + "05" * 32 and f["number"] == num(5, fmt) and f["mgas"] == num(3, fmt)
    assert re.fullmatch(r"\d+\.\d{3}ms", f["insert_time"])
