"""The initial EL sync of a deriving node (``--syncmode execution-layer``, ``--l2.enginekind``,
``--syncmode.offset-el-safe``) through the driver and two real engines: derivation waits until EL sync ends, the
engine fetches the missing blocks from its sync peer, then safe and finalized are the synced tip minus the offset
and derivation restarts there (op-node engine_controller.go / sync_deriver.go, 2026)."""

from __future__ import annotations

import trio

from derivation.protocol.rollup_config import Fork
from engine.el_sync import ELSyncConfig, ELSyncStatus
from engine.execution.service import EngineService
from opnode.node.runtime.chain import el_sync_config
from opnode.testing.runtime import SECRET, Node, make_world
from tests.node.test_flags import base, clean_env, files, parse  # noqa: F401  (fixtures)
from tests.runtime.test_driver_engines import _sequence


async def _setup(nursery, kind: str, offset: float):
    w, genesis = make_world({Fork.HOLOCENE: 0})
    pa = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    peers = [f"http://127.0.0.1:{pa.http}"]
    pb = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0, sync_peers=peers).run)
    seq = Node(w, f"http://127.0.0.1:{pa.auth}", derive=False)
    el = Node(w, f"http://127.0.0.1:{pb.auth}", derive=True, el_sync=ELSyncConfig(True, kind, offset))
    el.driver.unsafe.el_sync = True
    for n in (seq, el):
        await nursery.start(n.driver.run)
    w.l1.mine()
    built = await _sequence(w, seq, 8, 1, [0])
    return el, built


async def test_el_sync_ends_with_safe_and_finalized_offset_behind_the_tip_then_derivation_restarts(nursery):
    el, built = await _setup(nursery, "reth", offset=3 * 2)  # 2 s blocks: 3 blocks behind the tip
    assert el.ctrl.el_status is ELSyncStatus.WILL_START and el.ctrl.initial_el_syncing
    iterations = el.driver.iterations
    el.driver.wake()
    with trio.fail_after(10):
        while el.driver.iterations < iterations + 3:
            await trio.sleep(0.01)
    assert el.pipeline.origin is None and el.outcomes == []  # derivation waits: the pipeline never stepped
    tip = built[-1][2]
    el.driver.submit_unsafe(tip)
    with trio.fail_after(30):
        while el.ctrl.el_status is not ELSyncStatus.FINISHED or el.ctrl.el_syncing:
            el.driver.wake()
            await trio.sleep(0.05)
    assert el.ctrl.unsafe.hash == tip.block_hash
    assert el.ctrl.safe.number == el.ctrl.finalized.number == tip.number - 3
    assert el.ctrl.safe.hash == built[tip.number - 4][2].block_hash  # built[i] is block i + 1
    with trio.fail_after(10):  # the engine takes the new labels; derivation is running again from the new safe head
        while ((await el.ctrl.block_ref("safe")) != el.ctrl.safe or el.pipeline.resetting
               or el.pipeline.origin is None):
            el.driver.wake()
            await trio.sleep(0.05)
    assert (await el.ctrl.block_ref("finalized")) == el.ctrl.finalized


async def test_geth_with_a_finalized_block_skips_el_sync_at_start_up(nursery):
    """The same node on geth after the sequencer finalized a block of its engine's chain: at start-up it skips EL
    sync (op-node MaybeSkipELSyncIfEngineAlreadySynced) and derives at once; the payload past the gap is still
    handed to the engine, which fills the gap, but safe and finalized stay where derivation has them."""
    w, genesis = make_world({Fork.HOLOCENE: 0})
    pa = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    peers = [f"http://127.0.0.1:{pa.http}"]
    pb = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0, sync_peers=peers).run)
    seq = Node(w, f"http://127.0.0.1:{pa.auth}", derive=False)
    await nursery.start(seq.driver.run)
    w.l1.mine()
    built = await _sequence(w, seq, 8, 1, [0])
    # engine B already holds blocks 1-2 with block 2 finalized (a node that ran before)
    pre = Node(w, f"http://127.0.0.1:{pb.auth}", derive=False)
    await pre.ctrl.sync_forkchoice()
    pre.ctrl.force_heads(await pre.ctrl.engine_heads())
    for _, _, env in built[:2]:
        assert await pre.ctrl.insert_unsafe(env)
    two = pre.ctrl.unsafe
    await pre.ctrl.follow_source(two, two, two)  # safe and finalized at block 2 (as a source would set them)
    assert await pre.ctrl.sync_forkchoice() and (await pre.ctrl.block_ref("finalized")) == two
    el = Node(w, f"http://127.0.0.1:{pb.auth}", derive=True, el_sync=ELSyncConfig(True, "geth", 0))
    el.driver.unsafe.el_sync = True
    await nursery.start(el.driver.run)
    assert el.ctrl.el_status is ELSyncStatus.FINISHED and not el.ctrl.initial_el_syncing
    with trio.fail_after(10):  # derivation runs at once
        while el.pipeline.origin is None:
            el.driver.wake()
            await trio.sleep(0.05)
    tip = built[-1][2]
    el.driver.submit_unsafe(tip)
    with trio.fail_after(30):
        while el.ctrl.unsafe.hash != tip.block_hash or el.ctrl.el_syncing:
            el.driver.wake()
            await trio.sleep(0.05)
    assert el.ctrl.finalized.number == 2 and el.ctrl.safe.number < tip.number


def test_initial_el_sync_runs_on_a_deriving_verifier_only(files):  # noqa: F811
    """What ``opnode node`` wires into its controller: the kind and offset of the flags; the initial EL sync only on
    a node that derives and does not sequence (a light node's heads come from its source)."""
    el = ["--syncmode=execution-layer", "--syncmode.offset-el-safe=12s"]
    cfg = parse(base(files) + el)
    assert el_sync_config(cfg, derive=True) == ELSyncConfig(True, "reth", 12)
    assert not el_sync_config(cfg, derive=False).enabled
    assert not el_sync_config(parse(base(files) + el + ["--sequencer.enabled"]), derive=True).enabled
    assert not el_sync_config(parse(base(files) + el + ["--l2.follow.source=http://src"]), derive=True).enabled
    assert el_sync_config(parse(base(files) + el + ["--l2.enginekind=geth"]), derive=True).engine_kind == "geth"
    assert not el_sync_config(parse(base(files)), derive=True).enabled  # consensus-layer
