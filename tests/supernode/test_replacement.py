"""A supernode chain's engine side against real embedded engines (in-memory L1): derivation moves local-safe only
while safe waits for the verifier (``cross_safe_gate``); a block on the denylist is re-derived as its deposits-only
version (specs interop/derivation.md §Replacing Invalid Blocks; op-node payload_process.go IsDenied →
DepositsOnlyPayloadAttributesRequestEvent, karlfloersch/optimism @f0b2b80e); the same block arriving by gossip is
dropped; ``rewind_to`` + a reset re-derives an already-derived block that became denied."""

from __future__ import annotations

import trio

from derivation.protocol.rollup_config import Fork
from engine.execution.service import EngineService
from engine.heads import Outcome
from opnode.testing.runtime import SECRET, Node, make_world
from tests.runtime.test_driver_engines import _post, _run_until, _sequence


async def _two_nodes(nursery, denied):
    w, genesis = make_world({Fork.HOLOCENE: 0})
    pa = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    pb = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    seq = Node(w, f"http://127.0.0.1:{pa.auth}", derive=False)
    ver = Node(w, f"http://127.0.0.1:{pb.auth}", derive=True, cross_safe_gate=True,
               denied=lambda n, h: (n, h) in denied)
    await nursery.start(seq.driver.run)
    return w, seq, ver


async def test_denied_block_is_derived_as_deposits_only_and_dropped_from_gossip(nursery):
    denied: set = set()
    w, seq, ver = await _two_nodes(nursery, denied)
    w.l1.mine()
    batches = await _sequence(w, seq, 4, 1, [0])
    env2 = batches[1][2]
    denied.add((env2.number, env2.block_hash))
    await nursery.start(ver.driver.run)
    ver.driver.submit_unsafe(batches[0][2])
    ver.driver.submit_unsafe(env2)  # gossip of the denied block: dropped
    await _run_until(ver, lambda: ver.ctrl.unsafe.number == 1)
    await trio.sleep(0.3)
    assert ver.ctrl.unsafe.number == 1
    _post(w, batches)
    w.l1.mine()
    await _run_until(ver, lambda: Outcome.DEPOSITS_ONLY in ver.outcomes and ver.ctrl.heads.local_safe.number >= 2)
    blk = await ver.client.block(2, full=True)
    assert blk["hash"] != "0x" + env2.block_hash.hex()
    assert all(int(t["type"], 16) == 0x7E for t in blk["transactions"])
    assert ver.ctrl.safe.number == 0  # cross-safe waits for the verifier
    await ver.ctrl.sync_forkchoice()
    assert ver.status.status().safe_l2.number == 0 and ver.status.status().local_safe_l2.number >= 2
    ref1 = await ver.ctrl.block_ref(1)
    assert ver.ctrl.set_cross_safe(ref1) and ver.ctrl.safe == ref1
    assert not ver.ctrl.set_cross_safe(await ver.ctrl.block_ref(0))  # only forward


async def test_block_denied_after_derivation_is_replaced_on_rewind(nursery):
    denied: set = set()
    w, seq, ver = await _two_nodes(nursery, denied)
    w.l1.mine()
    batches = await _sequence(w, seq, 4, 1, [0])
    _post(w, batches)
    w.l1.mine()
    await nursery.start(ver.driver.run)
    await _run_until(ver, lambda: ver.ctrl.heads.local_safe.number == 4)
    env2 = batches[1][2]
    assert (await ver.client.block(2))["hash"] == "0x" + env2.block_hash.hex()
    denied.add((2, env2.block_hash))  # the verifier found block 2 invalid
    parent = await ver.ctrl.block_ref(1)
    ver.ctrl.rewind_to(parent, ver.ctrl.safe)
    await ver.ctrl.sync_forkchoice()
    assert ver.ctrl.unsafe == parent and ver.ctrl.heads.local_safe == parent
    ver.driver.request_reset("test: block 2 invalidated")
    await _run_until(ver, lambda: Outcome.DEPOSITS_ONLY in ver.outcomes and ver.ctrl.heads.local_safe.number >= 2)
    blk = await ver.client.block(2, full=True)
    assert blk["hash"] != "0x" + env2.block_hash.hex()
    assert all(int(t["type"], 16) == 0x7E for t in blk["transactions"])
