"""Following a source node: what is accepted, what is dropped and counted, and how the heads move (op-node's Light
CL, follow-and-rpc.md §1.6-1.7)."""

from __future__ import annotations

import json

import httpx
import trio

from derivation.protocol.rollup_config import Fork
from derivation.protocol.types import ZERO_L1_REF, L2BlockRef
from engine.execution.service import EngineService
from engine.heads import FollowOutcome
from opnode.node.runtime import follow
from opnode.node.runtime.follow import FollowSource
from opnode.node.sync_status import SyncStatus
from opnode.testing.runtime import SECRET, Node, make_world
from tests.runtime.test_driver_engines import _sequence


def _status(**refs) -> SyncStatus:
    return SyncStatus(**refs)


def _source(w, handler, **kw):
    transport = httpx.MockTransport(handler)
    results = []

    async def l1(n):
        if n >= len(w.l1.canonical):
            raise LookupError("not found")
        return w.l1.canonical[n].info.ref

    fs = FollowSource("http://source/901", timeout=1, interval=0.1, l1_ref_by_number=l1, ctrl=None, driver=None,
                      count=results.append, **kw)
    return fs, fs.client(transport), results


def _ref(w, number, l1_number, seq=0):
    h = bytes([number]) * 32
    return L2BlockRef(h, number, bytes([number - 1]) * 32, w.cfg.genesis.l2_time + 2 * number,
                      w.l1.canonical[l1_number].info.id, seq)


async def test_validation_rules_and_metrics():
    w, _ = make_world({Fork.HOLOCENE: 0})
    for _ in range(5):
        w.l1.mine()
    good = _status(safe_l2=_ref(w, 6, 2), local_safe_l2=_ref(w, 8, 3), finalized_l2=_ref(w, 4, 1),
                   current_l1=w.l1.canonical[5].info.ref)
    bad_origin = _status(safe_l2=_ref(w, 6, 2), local_safe_l2=_ref(w, 8, 3).__class__(
        b"\x08" * 32, 8, b"\x07" * 32, 0, w.l1.canonical[2].info.id.__class__(b"\xee" * 32, 3), 0))
    cases = [
        (good, True, None),
        (_status(safe_l2=_ref(w, 9, 3), local_safe_l2=_ref(w, 8, 3)), False, follow.INVALID),
        (_status(safe_l2=_ref(w, 6, 2), local_safe_l2=_ref(w, 8, 3), finalized_l2=_ref(w, 7, 2)), False,
         follow.INVALID),
        (bad_origin, False, follow.L1_MISMATCH),
        (good.replace(current_l1=ZERO_L1_REF.__class__(b"\x01" * 32, 99, b"\x00" * 32, 0)), False, follow.L1_LOOKUP),
    ]
    for st, ok, result in cases:
        fs, http, results = _source(w, lambda req: httpx.Response(200, json={}))
        assert await fs.validate(st) is ok
        assert results == ([] if ok else [result])
        await http.aclose()


async def test_tolerated_and_refused_responses():
    w, _ = make_world({Fork.HOLOCENE: 0})
    w.l1.mine()
    full = _status(safe_l2=_ref(w, 1, 1), local_safe_l2=_ref(w, 2, 1)).to_json()
    kona = {k: v for k, v in full.items() if k != "pending_safe_l2"}
    proxyd = json.loads(json.dumps(dict(sorted(full.items()))), parse_int=float)  # keys sorted, numbers as floats
    answers = {
        "kona": (200, {"jsonrpc": "2.0", "id": 1, "result": kona}, True),
        "proxyd": (200, {"jsonrpc": "2.0", "id": 1, "result": proxyd}, True),
        "proxyd-not-ready": (503, {"jsonrpc": "2.0", "id": 1, "error": {"code": -32025,
                                                                         "message": "optimism_syncStatus not available"}},
                             False),
        "supernode-404": (404, None, False),
        "garbage": (200, "not json at all", False),
    }
    for name, (code, body, ok) in answers.items():
        def handler(req, code=code, body=body):
            return httpx.Response(code, json=body) if isinstance(body, dict) else httpx.Response(code, text=str(body))
        fs, http, results = _source(w, handler)
        st = await fs.fetch(http)
        assert (st is not None) == ok, name
        assert results == ([] if ok else [follow.FETCH]), name
        if ok:
            assert st.local_safe_l2.number == 2 and st.safe_l2.number == 1
        await http.aclose()


async def test_hung_source_times_out():
    w, _ = make_world({Fork.HOLOCENE: 0})

    def hung(req):
        raise httpx.ReadTimeout("the source did not answer within the timeout")

    fs, http, results = _source(w, hung)
    with trio.fail_after(5):
        assert await fs.fetch(http) is None
    assert results == [follow.FETCH]
    await http.aclose()


async def test_light_node_heads_follow_the_source(nursery):
    w, genesis = make_world({Fork.HOLOCENE: 0})
    pa = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    pb = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0,
                                           sync_peers=[f"http://127.0.0.1:{pa.http}"]).run)
    seq = Node(w, f"http://127.0.0.1:{pa.auth}", derive=False)
    light = Node(w, f"http://127.0.0.1:{pb.auth}", derive=False)
    await nursery.start(seq.driver.run)
    await nursery.start(light.driver.run)
    w.l1.mine()
    built = await _sequence(w, seq, 10, 1, [0])
    refs = [await seq.ctrl.block_ref(i) for i in range(11)]
    # The source is ahead of the light node: unsafe moves to its local safe head and the engine syncs it.
    outcome = await light.ctrl.follow_source(refs[6], refs[8], refs[4])
    assert outcome is FollowOutcome.AHEAD
    assert (light.ctrl.unsafe, light.ctrl.safe, light.ctrl.finalized) == (refs[8], refs[6], refs[4])
    with trio.fail_after(30):
        while not await light.ctrl.sync_forkchoice():
            await trio.sleep(0.1)
    assert (await light.ctrl.block_ref("latest")) == refs[8]
    # Gossip brings the unsafe tip; the next update consolidates against the engine's blocks.
    for _, _, env in built[8:]:
        light.driver.submit_unsafe(env)
    with trio.fail_after(10):
        while light.ctrl.unsafe != refs[10]:
            light.driver.wake()
            await trio.sleep(0.05)
    assert await light.ctrl.follow_source(refs[9], refs[9], refs[6]) is FollowOutcome.CONSOLIDATED
    assert (light.ctrl.unsafe, light.ctrl.safe, light.ctrl.finalized) == (refs[10], refs[9], refs[6])
    # Finalized never moves back and never past safe; safe never moves back.
    await light.ctrl.follow_source(refs[7], refs[9], refs[5])
    assert (light.ctrl.safe, light.ctrl.finalized) == (refs[9], refs[6])
