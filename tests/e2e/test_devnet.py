"""``opnode devnet`` end to end (issue 7), with real processes: anvil + beacon shim, embedded engines, the sequencer,
source nodes, the real batcher process and the traffic generator.

- blobs, as the CLI (subprocess): the READY line, every source's safe chain equal to the sequencer's hash by hash
  through the Holocene, Isthmus, Jovian and Karst activations with deposits, SystemConfig updates and a batcher key
  rotation on L1 (a light node's too, following the source across Karst), the ``--json`` checks all passing (Karst's
  activation block: deposits only, its 31 upgrade deposits last, gas limit plus 55,370,657 and back), and no
  process left once it exits on SIGTERM;
- calldata with ``--faults`` (subprocess): the sources still converge and the summary shows every drop's reason;
- calldata in-process: an L1 reorg of three or more L1 blocks holding batches (anvil snapshot/revert) makes the
  sources reset and re-converge and the batcher post again; then a source is killed with SIGKILL mid-run,
  restarted, and re-converges.

Fork offsets are a few seconds and blocks one second long, so every run goes through all four activations while
the traffic runs. Every wait is on a condition with a bounded timeout.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import trio

from derivation.protocol.crypto import address_from_private_key, keccak256
from derivation.protocol.hexutil import from_hex, parse_quantity, to_hex
from derivation.protocol.l1_info import decode_l1_info
from derivation.protocol.rollup_config import Fork, RollupConfig
from opnode.tools.batcher.faults import EXPECTED_DROPS, FaultKind
from opnode.tools.devnet.run import DEVNET_FAULTS, Devnet, DevnetOptions
from opnode.tools.devnet.stack import BASEFEE_SCALAR, NEXT_BATCHER_KEY
from opnode.tools.devnet.summary import JsonRpc, activation_block, parse_drops
from opnode.tools.l1contracts.portal import TRANSACTION_DEPOSITED
from opnode.tools.l1contracts.system_config import CONFIG_UPDATE
from tests.e2e.waiting import wait as _wait

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FORK_ARGS = ["--block-time", "1", "--fork.holocene", "12", "--fork.isthmus", "20", "--fork.jovian", "28",
             "--fork.karst", "36"]
FORKS = {Fork.GRANITE: 0, Fork.HOLOCENE: 12, Fork.ISTHMUS: 20, Fork.JOVIAN: 28, Fork.KARST: 36}
KARST_UPGRADE_GAS = 55_370_657  # issue 13 / live-forks.md: the final bundle's total gas
BATCHER_TYPE = 0  # ConfigUpdate updateType of setBatcherHash
NEXT_BATCHER = to_hex(address_from_private_key(from_hex(NEXT_BATCHER_KEY, 32)))


# ------------------------------------------------------------------------------------------------ helpers


def _rpc(url: str, method: str, *params):
    body = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
                      timeout=10).json()
    if body.get("error"):
        raise RuntimeError(f"{method}: {body['error']}")
    return body["result"]


def _status(url: str) -> dict | None:
    try:
        return _rpc(url, "optimism_syncStatus")
    except (httpx.HTTPError, RuntimeError, ValueError):
        return None


def _logs(l1: str, address: bytes, event: str) -> list[dict]:
    return _rpc(l1, "eth_getLogs", {"address": to_hex(address), "topics": [to_hex(keccak256(event.encode()))],
                                    "fromBlock": "0x0", "toBlock": "latest"})


def _survivors(needle: str) -> list[str]:
    """Processes whose command line holds ``needle``: the devnet's work directory names every engine, node and the
    batcher; the L1 URL names the beacon shim."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmd and state != "Z":
            out.append(f"{d.name}: {cmd[:200]}")
    return out


def _refuses(url: str) -> bool:
    try:
        httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=2)
    except httpx.TransportError:
        return True
    return False


class DevnetProcess:
    """``opnode devnet`` as a subprocess: READY read from stdout, stderr kept in a file."""

    def __init__(self, tmp: Path, *args: str):
        self.workdir = tmp / "devnet"
        self.json_path = tmp / "summary.json"
        self.stderr_path = tmp / "devnet.stderr"
        self._stderr = open(self.stderr_path, "wb")  # noqa: SIM115 (closed in finish)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "opnode", "devnet", "--workdir", str(self.workdir), "--json", str(self.json_path),
             *FORK_ARGS, *args], stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL, cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)))
        self.ready = self._read_ready(timeout=120)

    def _read_ready(self, timeout: float) -> dict:
        deadline, buf = time.monotonic() + timeout, b""
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
                for line in buf.split(b"\n")[:-1]:
                    if line.startswith(b"READY "):
                        return json.loads(line[len(b"READY "):])
                    raise AssertionError(f"unexpected stdout line before READY: {line[:200]!r}")
            elif self.proc.poll() is not None:
                break
        self.proc.kill()
        raise AssertionError(f"no READY line (exit {self.proc.poll()}):\n{self.stderr()}")

    def stderr(self) -> str:
        return self.stderr_path.read_bytes()[-4000:].decode(errors="replace")

    def node(self, name: str) -> dict:
        return next(n for n in self.ready["nodes"] if n["name"] == name)

    def finish(self) -> tuple[int, dict | None, str]:
        """SIGTERM, then the exit code, the --json summary and anything printed on stdout after READY."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        self._stderr.close()
        summary = json.loads(self.json_path.read_text()) if self.json_path.exists() else None
        return self.proc.returncode, summary, out.decode(errors="replace")


def _check_ready_shape(ready: dict, sources: int, light_nodes: int = 0) -> None:
    assert set(ready) == {"l1", "nodes", "rollup_config"}
    assert set(ready["l1"]) == {"rpc", "beacon"}
    assert Path(ready["rollup_config"]).is_file()
    roles = [n["role"] for n in ready["nodes"]]
    assert roles == ["sequencer"] + ["source"] * sources + ["light"] * light_nodes
    source_names = {n["name"] for n in ready["nodes"] if n["role"] == "source"}
    for n in ready["nodes"]:
        assert set(n) == {"name", "pid", "role", "rpc", "engine_rpc", "metrics", "follows"}
        assert isinstance(n["pid"], int) and n["pid"] > 0
        assert n["metrics"].startswith("http://127.0.0.1:")
        assert n["follows"] in source_names if n["role"] == "light" else n["follows"] is None
        assert _rpc(n["engine_rpc"], "eth_chainId") == "0x385"  # the engine's eth RPC answers, without JWT
    assert parse_quantity(_rpc(ready["l1"]["rpc"], "eth_chainId")) == 900
    assert httpx.get(ready["l1"]["beacon"] + "/eth/v1/beacon/genesis", timeout=5).status_code == 200


def _wait_for_the_story(dv: DevnetProcess, cfg: RollupConfig, timeout: float) -> None:
    """Until every source's safe chain holds Karst's activation block, three deposits and four SystemConfig
    updates including the batcher key rotation, and safe blocks batched with the new key; and every light node's
    safe chain holds Karst's activation block too (it follows its source, a poll behind)."""
    l1 = dv.ready["l1"]["rpc"]
    sources = [n for n in dv.ready["nodes"] if n["role"] == "source"]
    light = [n for n in dv.ready["nodes"] if n["role"] == "light"]
    last_fork = activation_block(cfg, Fork.KARST)

    def told() -> bool:
        deposits = _logs(l1, cfg.deposit_contract_address, TRANSACTION_DEPOSITED)
        updates = _logs(l1, cfg.l1_system_config_address, CONFIG_UPDATE)
        rotation = [u for u in updates if parse_quantity(u["topics"][2]) == BATCHER_TYPE]
        if len(deposits) < 3 or len(updates) < 4 or not rotation:
            return False
        need = max(parse_quantity(x["blockNumber"]) for x in [*deposits[:3], *updates[:4], rotation[0]]) + 4
        for s in sources:
            st = _status(s["rpc"])
            if st is None or st["safe_l2"]["number"] < last_fork + 2 or st["safe_l2"]["l1origin"]["number"] < need:
                return False
        for n in light:
            st = _status(n["rpc"])
            if st is None or st["safe_l2"]["number"] < last_fork + 2:
                return False
        return True

    _wait(told, timeout, "deposits, SystemConfig updates and the rotation in the sources' safe chains")


def _check_summary(summary: dict, *, da: str) -> None:
    checks = summary["checks"]
    assert set(checks) >= {"safe_chain_matches_sequencer", "forks_activated", "deposits_included", "batches_by_da",
                           "dropped_by_reason"}
    failed = {k: v for k, v in checks.items() if not v["ok"]}
    assert not failed and not summary["errors"] and summary["ok"], (failed, summary["errors"])
    for node in checks["safe_chain_matches_sequencer"]["nodes"].values():
        assert node["compared"] == node["safe"] > activation_block_of(summary, "karst")
    forks = checks["forks_activated"]["forks"]
    named = ("holocene", "isthmus", "jovian", "karst")
    assert [forks[f]["block"] > 0 and not forks[f]["pending"] for f in named] == [True] * 4
    assert forks["isthmus"]["upgrade_txs"] > 0 and forks["jovian"]["upgrade_txs"] > 0
    assert (forks["karst"]["upgrade_txs"], forks["karst"]["upgrade_gas"]) == (31, KARST_UPGRADE_GAS)
    assert all(n["on_l1"] >= 3 for n in checks["deposits_included"]["nodes"].values())
    assert checks["batches_by_da"]["by_da"].get(da, 0) >= 2
    other = {"calldata": "blobs", "blobs": "calldata"}[da]
    assert checks["batches_by_da"]["by_da"].get(other, 0) == 0
    assert summary["batcher"]["signer"] == NEXT_BATCHER  # the rotation went through the handshake
    assert summary["traffic"]["config_updates"].get("setBatcherHash") == 1
    assert summary["traffic"]["l2_included"] > 10
    samples = summary["samples"]
    assert len(samples) >= 10
    seq_heads = [s["nodes"]["sequencer"]["unsafe"] for s in samples if s["nodes"].get("sequencer")]
    assert seq_heads == sorted(seq_heads) and seq_heads[-1] > seq_heads[0]


def activation_block_of(summary: dict, fork: str) -> int:
    return summary["checks"]["forks_activated"]["forks"][fork]["block"]


def _check_nothing_left(dv: DevnetProcess) -> None:
    for n in dv.ready["nodes"]:
        with pytest.raises(ProcessLookupError):
            os.kill(n["pid"], 0)
    assert _survivors(str(dv.workdir)) == [] and _survivors("--anvil " + dv.ready["l1"]["rpc"]) == []
    assert _refuses(dv.ready["l1"]["rpc"])  # anvil (started with --port 0: only its URL names it)


def _rollup(dv: DevnetProcess) -> RollupConfig:
    return RollupConfig.from_json(json.loads(Path(dv.ready["rollup_config"]).read_text()))


# ------------------------------------------------------------------------------------------------ tests


def _base_fee_scalars(dv: DevnetProcess, node: str) -> set[int]:
    """The Ecotone base fee scalars in the L1-info deposits of ``node``'s safe chain (SystemConfig on L2)."""
    n = dv.node(node)
    safe = _status(n["rpc"])["safe_l2"]["number"]
    rpc = JsonRpc()
    try:
        blocks = rpc.blocks(n["engine_rpc"], list(range(1, safe + 1)), full=True)
    finally:
        rpc.close()
    return {decode_l1_info(from_hex(b["transactions"][0]["input"])).base_fee_scalar for b in blocks}


@pytest.mark.long  # ~1-2 min: `make test-long`
def test_devnet_with_blobs_converges_through_the_forks_and_leaves_nothing_behind(tmp_path):
    dv = DevnetProcess(tmp_path, "--da", "blobs", "--sources", "1", "--light-nodes", "1")
    try:
        _check_ready_shape(dv.ready, sources=1, light_nodes=1)
        _wait_for_the_story(dv, _rollup(dv), timeout=150)
        # the traffic's setGasConfigEcotone (its second SystemConfig update) reached L2 through derivation
        scalars = _base_fee_scalars(dv, "source-A")
        assert BASEFEE_SCALAR in scalars and len(scalars) >= 2, scalars
    finally:
        code, summary, out = dv.finish()
    assert code == 0, dv.stderr()
    assert out == ""  # READY was the only line on stdout
    _check_summary(summary, da="blobs")
    _check_nothing_left(dv)


@pytest.mark.long  # ~1-2 min: `make test-long`
def test_devnet_with_faults_converges_and_reports_each_drop(tmp_path):
    dv = DevnetProcess(tmp_path, "--da", "calldata", "--faults", "--sources", "1", "--light-nodes", "0")
    kinds = DEVNET_FAULTS.split(",")
    try:
        cfg = _rollup(dv)
        batcher_events = dv.workdir / "logs" / "batcher-events.jsonl"

        def faults_posted() -> set[str]:
            if not batcher_events.exists():
                return set()
            lines = [json.loads(x) for x in batcher_events.read_text().splitlines() if x.strip()]
            return {e["kind"] for e in lines if e["event"] == "fault"}

        _wait(lambda: faults_posted() >= set(kinds), 150, f"the batcher to post every fault ({kinds})")
        _wait_for_the_story(dv, cfg, timeout=90)
        # the sources' safe heads pass the sequencer's head as it was once every fault was on L1
        seq = _status(dv.node("sequencer")["rpc"])["unsafe_l2"]["number"]
        _wait(lambda: all((_status(n["rpc"]) or {}).get("safe_l2", {}).get("number", -1) >= seq
                          for n in dv.ready["nodes"] if n["role"] == "source"), 90, f"safe heads past {seq}")
        drops = parse_drops(httpx.get(dv.node("source-A")["metrics"] + "/metrics", timeout=5).text)
    finally:
        code, summary, _ = dv.finish()
    assert code == 0, dv.stderr()
    _check_summary(summary, da="calldata")
    by_reason = summary["checks"]["dropped_by_reason"]["by_reason"]
    assert drops and set(drops) <= set(summary["checks"]["dropped_by_reason"]["nodes"]["source-A"])
    assert set(summary["batcher"]["faults"]) == set(kinds)
    for kind in kinds:  # each fault shows in the drops with one of the reasons derivation gives for it
        assert EXPECTED_DROPS[FaultKind(kind)] & set(by_reason), (kind, by_reason)
    assert by_reason.get("invalid_batcher_tx_data", 0) >= 1 and by_reason.get("parent_hash_mismatch", 0) >= 1
    _check_nothing_left(dv)


class LiveInThread:
    """``Devnet.live`` (traffic and sampler) in its own trio run on a background thread, so that the test's main
    thread can block on processes: those must be started from the main thread (see opnode/devnet/run.py)."""

    def __init__(self, devnet: Devnet):
        self.devnet = devnet
        self.ready = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="devnet-live", daemon=True)
        self.thread.start()
        assert self.ready.wait(30), "the devnet's live tasks did not start"

    def _run(self) -> None:
        try:
            trio.run(self._main)
        except BaseException as e:  # reported by stop()
            self.failure = e
            self.ready.set()

    async def _main(self) -> None:
        self.token = trio.lowlevel.current_trio_token()
        async with trio.open_nursery() as nursery:
            self.scope = nursery.cancel_scope
            await nursery.start(self.devnet.live)
            self.ready.set()

    def stop(self) -> None:
        if self.thread.is_alive():
            trio.from_thread.run_sync(self.scope.cancel, trio_token=self.token)
            self.thread.join(30)
        assert self.failure is None, self.failure


@pytest.mark.long  # ~1-2 min: `make test-long`
def test_devnet_l1_reorg_and_a_killed_source(tmp_path):
    """In-process: the Devnet orchestration with calldata; an L1 reorg, then kill -9 and restart of the source."""
    opts = DevnetOptions(sources=1, light_nodes=0, da="calldata", block_time=1, forks=FORKS, workdir=tmp_path,
                         sequencer_l1_confs=20,
                         # channels every L1 block, remembered deep enough to notice a reorg of several blocks
                         batcher_args=("--max-channel-duration", "0", "--num-confirmations", "10"))
    devnet = Devnet(opts, tmp_path)
    devnet.start()
    live = None
    try:
        live = LiveInThread(devnet)
        stack = devnet.stack
        seq, src = stack.node("sequencer"), stack.node("source-A")
        anvil = stack.anvil

        def batcher() -> dict:
            return stack.rpc(devnet.batcher_url, "batcher_status")

        def converged(past: int) -> bool:
            st = stack.sync_status(src)
            n = st["safe_l2"]["number"]
            return n >= past and stack.block_hash(src, n) == stack.block_hash(seq, n)

        # after the key rotation (its L1 block must not be reverted) and through the forks
        jovian = activation_block(stack.files.rollup_config, Fork.JOVIAN)
        _wait(lambda: devnet.traffic and devnet.traffic.counters.rotations and batcher()["signer"] == NEXT_BATCHER,
              90, "the batcher key rotation")
        _wait(lambda: converged(jovian + 2), 90, "the source past Jovian")

        # ---- an L1 reorg of three or more L1 blocks holding batches
        resets_before = _pipeline_resets(src.metrics)
        snapshot = anvil.rpc("evm_snapshot")
        base = parse_quantity(anvil.rpc("eth_blockNumber"))

        def batch_blocks_after_base() -> set[int]:
            lines = [json.loads(x) for x in devnet.events_path.read_text().splitlines() if x.strip()]
            return {e["l1_block"] for e in lines if e["event"] == "tx_included" and e["l1_block"] > base}

        third = sorted(_wait(lambda: len(b := batch_blocks_after_base()) >= 3 and b, 60,
                             "batches in three new L1 blocks"))[2]
        _wait(lambda: stack.sync_status(src)["current_l1"]["number"] >= third, 60,
              "the source to derive from the blocks to revert")
        lost_safe = stack.sync_status(src)["safe_l2"]["number"]
        reverted = batch_blocks_after_base()
        depth = parse_quantity(anvil.rpc("eth_blockNumber")) - base
        assert 3 <= depth < opts.sequencer_l1_confs, f"a reorg {depth} deep would move the sequencer's L1 origins"
        assert anvil.rpc("evm_revert", snapshot) is True
        deposits_at_reorg = sum(devnet.traffic.counters.deposits.values())
        _wait(lambda: batcher()["rewinds"].get("l1_reorg"), 60, "the batcher to see the reorg")
        seq_head = stack.sync_status(seq)["unsafe_l2"]["number"]
        _wait(lambda: converged(max(seq_head, lost_safe) + 2), 120, "the source to re-converge")
        assert _pipeline_resets(src.metrics) > resets_before
        # derived again from batches posted again into the new L1 blocks past the fork point
        current = stack.sync_status(src)["current_l1"]
        assert len(reverted) >= 3 and current["number"] > base
        assert anvil.rpc("eth_getBlockByNumber", hex(current["number"]), False)["hash"] == current["hash"]
        lines = [json.loads(x) for x in devnet.events_path.read_text().splitlines() if x.strip()]
        rewind = next(i for i, e in enumerate(lines) if e["event"] == "rewind" and e["reason"] == "l1_reorg")
        assert {e["l1_block"] for e in lines[rewind:] if e["event"] == "tx_included" and e["l1_block"] > base}

        # ---- kill -9 the source mid-run, let the chain move on, restart it
        src.proc.kill9()
        before = stack.sync_status(seq)["unsafe_l2"]["number"]
        _wait(lambda: stack.sync_status(seq)["unsafe_l2"]["number"] >= before + 5, 60, "blocks while it is down")
        stack.start_node(src)
        first = stack.sync_status(src)
        assert first["safe_l2"]["number"] > 0  # resumed from its own engine and safe-head DB, not from genesis
        head = stack.sync_status(seq)["unsafe_l2"]["number"]
        _wait(lambda: converged(head + 2), 120, "the restarted source to re-converge")

        # the traffic's L1 senders recounted their nonces after the reorg dropped their mined transactions
        _wait(lambda: sum(devnet.traffic.counters.deposits.values()) > deposits_at_reorg, 120,
              "deposits made again after the reorg")

        summary = devnet.summary()
        failed = {k: v for k, v in summary["checks"].items() if not v["ok"]}
        assert not failed and not summary["errors"], (failed, summary["errors"])
        assert summary["checks"]["batches_by_da"]["by_da"]["calldata"] >= 3
        assert summary["checks"]["batches_by_da"]["rewinds"].get("l1_reorg", 0) >= 1
    finally:
        if live is not None:
            live.stop()
        devnet.stop()
    assert all(not n.proc.alive() and not n.engine.alive() for n in devnet.stack.nodes)
    assert not devnet.stack.batcher.alive() and _survivors(str(tmp_path)) == []


def _pipeline_resets(metrics_url: str) -> float:
    text = httpx.get(metrics_url + "/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith("op_node_default_pipeline_resets_total "):
            return float(line.split()[1])
    return 0.0


# ------------------------------------------------------------------------------------------------ summary parts


def test_drops_are_read_from_the_nodes_real_metrics_exposition():
    from derivation.events import Dropped, DropReason
    from opnode.node.metrics import Metrics

    m = Metrics()
    for _ in range(3):
        m.record_derivation_event(Dropped(None, "data", DropReason.INVALID_BATCHER_TX_DATA, "garbage"))
    m.record_derivation_event(Dropped(None, "batch", DropReason.PARENT_HASH_MISMATCH, "wrong parent"))
    assert parse_drops(m.exposition().decode()) == {"data/invalid_batcher_tx_data": 3.0,
                                                    "batch/parent_hash_mismatch": 1.0}
    assert parse_drops(Metrics().exposition().decode()) == {}


def test_fork_activation_blocks_and_the_batches_check():
    from opnode.node.networks import load_rollup_config
    from opnode.tools.devnet.summary import NodeRef, check_batches, check_forks

    cfg = load_rollup_config("op-sepolia")
    g = cfg.genesis.l2_time
    times = {Fork.HOLOCENE: g, Fork.ISTHMUS: g + 3 * cfg.block_time, Fork.JOVIAN: g + 3 * cfg.block_time + 1}
    cfg = cfg.with_fork_times(times)
    assert activation_block(cfg, Fork.HOLOCENE) is None  # active at genesis: no activation block
    assert activation_block(cfg, Fork.ISTHMUS) == cfg.genesis.l2.number + 3
    assert activation_block(cfg, Fork.JOVIAN) == cfg.genesis.l2.number + 4  # the first block at or after the time
    for n in (3, 4):
        t = cfg.timestamp_for_block(cfg.genesis.l2.number + n)
        assert cfg.is_activation_block(Fork.ISTHMUS if n == 3 else Fork.JOVIAN, t)
    # a run that ends before a fork: pending, reported, not failed (nothing is read from the nodes for it)
    src = NodeRef("source-A", "source", "http://127.0.0.1:1", "http://127.0.0.1:1")
    pending = check_forks(None, cfg, [src], {"source-A": cfg.genesis.l2.number + 2})
    forks = pending["forks"]
    assert pending["ok"] and forks["isthmus"]["pending"] and forks["jovian"]["pending"] and forks["holocene"]["ok"]
    status = {"txs_included_by_da": {"blobs": 2}, "rewinds": {"l1_reorg": 1}}
    assert check_batches(status, "blobs")["ok"] and check_batches(status, "auto")["ok"]
    assert not check_batches(status, "calldata")["ok"] and not check_batches(None, "auto")["ok"]


@pytest.mark.parametrize("args", [["--sources", "0"], ["--da", "tape"], ["--fork.holocene", "50", "--fork.isthmus",
                                                                        "10"], ["--json", "/nonexistent/dir/x.json"],
                                  ["--block-time", "0"]])
def test_bad_input_is_one_line_and_exit_2(args):
    p = subprocess.run([sys.executable, "-m", "opnode", "devnet", *args], capture_output=True, cwd=ROOT, timeout=60,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    err = p.stderr.decode().strip()
    assert p.returncode == 2 and p.stdout == b"" and err.startswith("opnode: error: ") and "\n" not in err, err


def test_karst_activation_block_check_names_each_broken_rule():
    """The summary's Karst rules on hand-built blocks: each broken rule is reported, the right block passes."""
    from derivation.protocol.upgrades import upgrade_transactions
    from opnode.node.networks import load_rollup_config
    from opnode.tools.devnet.summary import check_activation_block

    cfg = load_rollup_config("op-sepolia")
    t = cfg.fork_time(Fork.KARST)
    upgrades = [to_hex(u.tx.hash) for u in upgrade_transactions(Fork.KARST)]
    gas = 60_000_000

    def blocks(txs, at_gas=gas + KARST_UPGRADE_GAS, after_gas=gas, at_time=t):
        return [{"timestamp": hex(t - 2), "gasLimit": hex(gas), "transactions": []},
                {"timestamp": hex(at_time), "gasLimit": hex(at_gas), "transactions": txs},
                {"timestamp": hex(t + 2), "gasLimit": hex(after_gas), "transactions": []}]

    info, user = {"hash": "0x" + "11" * 32, "type": "0x7e"}, {"hash": "0x" + "22" * 32, "type": "0x7e"}
    nuts = [{"hash": h, "type": "0x7e"} for h in upgrades]
    assert len(nuts) == 31
    assert check_activation_block(cfg, Fork.KARST, blocks([info, user, *nuts]), upgrades) is None
    assert check_activation_block(cfg, Fork.KARST, blocks([info, *nuts])[:2] + [None], upgrades) is None
    assert "non-deposit" in check_activation_block(
        cfg, Fork.KARST, blocks([info, {"hash": "0x" + "33" * 32, "type": "0x2"}, *nuts]), upgrades)
    assert "last" in check_activation_block(cfg, Fork.KARST, blocks([info, *nuts, user]), upgrades)
    assert "missing" in check_activation_block(cfg, Fork.KARST, blocks([info, *nuts[1:]]), upgrades)
    assert "gas limit" in check_activation_block(cfg, Fork.KARST, blocks([info, *nuts], at_gas=gas), upgrades)
    assert "kept" in check_activation_block(cfg, Fork.KARST, blocks([info, *nuts], after_gas=gas + KARST_UPGRADE_GAS),
                                            upgrades)
    assert "fork time" in check_activation_block(cfg, Fork.KARST, blocks([info, *nuts], at_time=t - 1), upgrades)
