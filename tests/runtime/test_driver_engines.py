"""The driver and the engine controller against real embedded engines: a sequencer builds blocks on engine A, a
batcher posts them to (in-memory) L1, and a verifier derives them into engine B through the Engine API; the two
engines end with the same block hashes. Also: consolidation of gossiped unsafe blocks, Holocene's deposit-only
replacement of an invalid payload, finality, and restart from the engine's heads."""

from __future__ import annotations

import dataclasses
from collections import Counter

import trio

from derivation.protocol.batches import SingularBatch
from derivation.protocol.rollup_config import Fork
from derivation.protocol.types import BlockID
from derivation.providers import DataKind, DataRequest
from derivation.stages.attributes_builder import AttributesBuilder
from engine.client import EngineTransportError, UnknownPayload
from engine.execution.service import EngineService
from engine.heads import Outcome
from opnode.node.runtime.l2_data import NodeL2Source
from opnode.testing.engine import key, transfer
from opnode.testing.harness import World
from opnode.testing.harness.world import L1_CHAIN
from opnode.testing.runtime import SECRET, Node, make_world
from opnode.tools.batcher.channel_out import ChannelOut


async def _sequence(w: World, seq: Node, n: int, txs_per_block: int, nonce: list[int]):
    """Build ``n`` blocks on the sequencer's engine; returns their singular batches and sequence numbers."""
    builder = AttributesBuilder(w.cfg, L1_CHAIN, w.l1, seq.l2)
    out = []
    for _ in range(n):
        parent = seq.ctrl.unsafe
        ts = parent.time + w.cfg.block_time
        cur = w.l1.block_by_hash(parent.l1_origin.hash)
        nxt = w.l1.canonical[cur.number + 1].info if cur.number + 1 < len(w.l1.canonical) else None
        epoch = nxt if nxt is not None and nxt.time <= ts else cur
        epoch_id = BlockID(epoch.hash, epoch.number)
        attrs = await seq.driver.resolve(lambda p=parent, e=epoch_id: builder.prepare(p, e))
        user = []
        if not w.cfg.is_activation_block(Fork.JOVIAN, ts):
            for _ in range(txs_per_block):
                user.append(transfer(key(0), nonce[0], b"\x55" * 20, 1).raw)
                nonce[0] += 1
        attrs = dataclasses.replace(attrs, transactions=attrs.transactions + tuple(user))
        env, ref = await seq.ctrl.sequence(attrs)
        await seq.ctrl.sync_forkchoice()
        out.append((SingularBatch(parent.hash, epoch.number, epoch.hash, ts, tuple(user)), ref.sequence_number, env))
    return out


def _count_calls(node: Node) -> Counter:
    """Count the node's engine calls by method."""
    calls, call = Counter(), node.client.call

    async def counted(method, *params):
        calls[method] += 1
        return await call(method, *params)

    node.client.call = counted
    return calls


async def _check_l2_view(node: Node, block_hash: bytes):
    """What the driver handed the pipeline's L2 view equals the block fetched back from the engine."""
    fresh = NodeL2Source(node.l2.cfg, node.client)
    await fresh.fetch(DataRequest(DataKind.L2_BLOCK_BY_HASH, block_hash))
    assert node.l2.block_ref_by_hash(block_hash) == fresh.block_ref_by_hash(block_hash)
    assert node.l2.system_config(block_hash) == fresh.system_config(block_hash)
    n = fresh.block_ref_by_hash(block_hash).number
    assert node.l2.block_ref_by_number(n).hash == block_hash


def _post(w: World, batches, span=True):
    ch = ChannelOut(bytes([len(w.l1.canonical)]) * 16, span=span, chain_id=w.cfg.l2_chain_id,
                    genesis_time=w.cfg.genesis.l2_time)
    for b, seq, _ in batches:
        ch.add_block(b, seq)
    w.post_frames(ch.frames(100_000))


async def _run_until(node: Node, predicate, timeout=60):
    with trio.move_on_after(timeout):
        while not predicate():
            node.driver.wake()
            await trio.sleep(0.05)
        return
    h = node.ctrl.heads
    raise AssertionError(f"timed out: unsafe {h.unsafe.number} safe {h.safe.number} pending {h.pending_safe.number}, "
                         f"origin {node.pipeline.origin}, outcomes {node.outcomes[-5:]}, events {[str(e)[:200] for e in node.events[-8:]]}")


async def test_verifier_derives_the_sequencers_chain_into_its_own_engine(nursery):
    w, genesis = make_world({Fork.HOLOCENE: 0, Fork.ISTHMUS: 24, Fork.JOVIAN: 48})
    pa = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    pb = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    seq = Node(w, f"http://127.0.0.1:{pa.auth}", derive=False)
    ver = Node(w, f"http://127.0.0.1:{pb.auth}", derive=True)
    await nursery.start(seq.driver.run)
    nonce = [0]
    all_batches = []
    for _ in range(6):
        w.l1.mine()
        batches = await _sequence(w, seq, 6, 3, nonce)
        all_batches += batches
        _post(w, batches)
    w.l1.mine(n=4)
    calls = _count_calls(ver)
    await nursery.start(ver.driver.run)
    target = all_batches[-1][2].block_hash
    await _run_until(ver, lambda: ver.ctrl.safe.hash == target)
    # The derived blocks reach the pipeline from the controller, not fetched back (the reset reads a few).
    inserted = sum(n for m, n in calls.items() if m.startswith("engine_newPayload"))
    assert inserted == len(all_batches) and calls["eth_getBlockByHash"] <= 2, calls
    await _check_l2_view(ver, target)
    for _, _, env in all_batches:
        got = await ver.client.block(env.number)
        assert got["hash"] == "0x" + env.block_hash.hex()
    assert Outcome.BUILT in ver.outcomes and ver.ctrl.finalized.number > 0
    assert ver.ctrl.finalized.number <= ver.ctrl.safe.number


async def test_gossiped_unsafe_blocks_are_consolidated_not_rebuilt(nursery):
    w, genesis = make_world({Fork.HOLOCENE: 0})
    pa = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    pb = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    seq = Node(w, f"http://127.0.0.1:{pa.auth}", derive=False)
    ver = Node(w, f"http://127.0.0.1:{pb.auth}", derive=True)
    await nursery.start(seq.driver.run)
    w.l1.mine()
    batches = await _sequence(w, seq, 12, 2, [0])
    await nursery.start(ver.driver.run)
    for _, _, env in batches:  # the unsafe blocks arrive first, by gossip
        ver.driver.submit_unsafe(env)
    await _run_until(ver, lambda: ver.ctrl.unsafe.hash == batches[-1][2].block_hash)
    assert ver.ctrl.safe.number == 0
    calls = _count_calls(ver)
    _post(w, batches)
    w.l1.mine()
    await _run_until(ver, lambda: ver.ctrl.safe.hash == batches[-1][2].block_hash)
    assert set(ver.outcomes) == {Outcome.CONSOLIDATED}
    assert calls["eth_getBlockByHash"] == 0, calls  # the consolidated block was read by number, once
    await _check_l2_view(ver, batches[-1][2].block_hash)


async def test_holocene_invalid_payload_becomes_a_deposit_only_block(nursery):
    w, genesis = make_world({Fork.HOLOCENE: 0})
    pa = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    pb = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    seq = Node(w, f"http://127.0.0.1:{pa.auth}", derive=False)
    ver = Node(w, f"http://127.0.0.1:{pb.auth}", derive=True)
    await nursery.start(seq.driver.run)
    w.l1.mine()
    batches = await _sequence(w, seq, 4, 1, [0])
    # The batcher posts a block whose transaction cannot execute (nonce far in the future): invalid payload.
    bad = transfer(key(0), 10_000, b"\x55" * 20, 1).raw
    b2, seq2, env2 = batches[1]
    batches[1] = (SingularBatch(b2.parent_hash, b2.epoch_num, b2.epoch_hash, b2.timestamp, (bad,)), seq2, env2)
    _post(w, batches)
    w.l1.mine()
    await nursery.start(ver.driver.run)
    await _run_until(ver, lambda: Outcome.DEPOSITS_ONLY in ver.outcomes and ver.ctrl.safe.number >= 2)
    blk = await ver.client.block(2, full=True)
    assert all(int(t["type"], 16) == 0x7E for t in blk["transactions"])
    # The rest of the channel was flushed: block 3 did not come from it.
    assert ver.ctrl.safe.number == 2


def _fail_once(node: Node, failures: dict[str, set[int]]) -> list[str]:
    """The node's engine fails as a restarting engine does, the n-th call (counted from 1) of each method named in
    ``failures``: connection refused, or for getPayload the unknown payload id of an engine that restarted since the
    build started. Returns the calls that failed."""
    seen, failed, call = Counter(), [], node.client.call

    async def flaky(method, *params):
        kind = method.rstrip("0123456789")
        if kind == "engine_forkchoiceUpdatedV" and params[1] is None:
            kind += "-no-attributes"
        seen[kind] += 1
        if seen[kind] in failures.get(kind, ()):
            failed.append(f"{kind}#{seen[kind]}")
            if kind == "engine_getPayloadV":
                raise UnknownPayload(UnknownPayload.code, "Unknown payload", method=method)
            raise EngineTransportError(f"{method}: connection refused")
        return await call(method, *params)

    node.client.call = flaky
    return failed


async def test_attributes_survive_a_temporary_engine_error(nursery):
    """An engine call that fails temporarily while derived attributes are processed (an engine restarting: the
    forkchoice update that starts the build, getPayload answering "unknown payload", newPayload) keeps those
    attributes and processes them again (op-node ``AttributesHandler``: ``EngineTemporaryErrorEvent`` only clears
    ``sentAttributes``; a failed getPayload or newPayload is temporary). Before, they were lost: the pipeline ran one
    block ahead of the engine and dropped every later batch as ``future_timestamp`` (and an unknown payload id
    escaped the driver and stopped the node)."""
    w, genesis = make_world({Fork.HOLOCENE: 0})
    pa = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    pb = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    seq = Node(w, f"http://127.0.0.1:{pa.auth}", derive=False)
    ver = Node(w, f"http://127.0.0.1:{pb.auth}", derive=True)
    await nursery.start(seq.driver.run)
    w.l1.mine()
    batches = await _sequence(w, seq, 8, 1, [0])
    _post(w, batches)
    w.l1.mine(n=2)
    failed = _fail_once(ver, {"engine_forkchoiceUpdatedV": {2}, "engine_getPayloadV": {4}, "engine_newPayloadV": {6}})
    await nursery.start(ver.driver.run)
    await _run_until(ver, lambda: ver.ctrl.safe.hash == batches[-1][2].block_hash)
    assert failed == ["engine_forkchoiceUpdatedV#2", "engine_getPayloadV#4", "engine_newPayloadV#6"], failed
    assert not [e for e in ver.events if "future" in str(e)], ver.events
