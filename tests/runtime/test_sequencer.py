"""The sequencer on a real embedded engine: one block per block time from the engine's pool, L1 origins chosen as
op-node does (adopt the next L1 block when due, hold within the drift, wait past it), admin start/stop."""

from __future__ import annotations

import httpx
import pytest
import trio

from derivation.protocol.rollup_config import Fork
from derivation.stages.attributes_builder import AttributesBuilder
from engine.execution.service import EngineService
from opnode.node.runtime.sequencer import Sequencer
from opnode.testing.engine import key, transfer
from opnode.testing.harness.world import L1_CHAIN
from opnode.testing.runtime import SECRET, Node, make_world


class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


async def _setup(nursery, forks, overrides=None, **kw):
    w, genesis = make_world(forks, **(overrides or {}))
    ports = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    node = Node(w, f"http://127.0.0.1:{ports.auth}", derive=False)
    clock = Clock(w.cfg.genesis.l2_time)
    seq = Sequencer(w.cfg, node.ctrl, AttributesBuilder(w.cfg, L1_CHAIN, w.l1, node.l2), node.driver,
                    l1_confs=0, clock=clock, l1_head=lambda: w.l1.head.number, **kw)
    node.driver.hooks.append(seq.step)
    node.driver.deadlines.append(seq.seconds_until_next)
    await nursery.start(node.driver.run)
    return w, node, seq, clock, ports


async def _advance(node, seq, clock, seconds):
    """Move the clock one second at a time; after each, let the driver run two full iterations."""
    target = clock.t + seconds
    while clock.t < target:
        clock.t += 1
        seen = node.driver.iterations
        with trio.fail_after(10):
            while node.driver.iterations < seen + 2:
                node.driver.wake()
                await trio.sleep(0.002)


async def test_blocks_follow_the_clock_and_take_pool_transactions(nursery):
    w, node, seq, clock, ports = await _setup(nursery, {Fork.HOLOCENE: 0})
    w.l1.mine()
    async with httpx.AsyncClient() as http:
        for n in range(3):
            raw = transfer(key(0), n, b"\x77" * 20, 5).raw
            r = await http.post(f"http://127.0.0.1:{ports.http}", json={
                "jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": ["0x" + raw.hex()]})
            assert "result" in r.json(), r.json()
    await _advance(node, seq, clock, 12)
    assert node.ctrl.unsafe.number == 6 and seq.sealed == 6
    blocks = [await node.client.block(n, full=True) for n in range(1, 7)]
    user = sum(1 for b in blocks for t in b["transactions"] if t["type"] != "0x7e")
    assert user == 3
    # The L1 origin advanced to L1 block 1 once the L2 time reached it (L1 block 1 at genesis time).
    assert node.ctrl.unsafe.l1_origin.number == 1


async def test_origin_waits_past_the_drift_without_a_next_l1_block(nursery):
    # Before Fjord the drift is the rollup config's (a short one here); from Fjord it is 1800 s.
    w, node, seq, clock, _ = await _setup(nursery, {Fork.ECOTONE: 0}, {"max_sequencer_drift": 30})
    await _advance(node, seq, clock, 50)
    # No new L1 block: the sequencer cannot go past origin time + drift.
    u = node.ctrl.unsafe
    origin = w.l1.block_by_hash(u.l1_origin.hash)
    assert u.time - origin.time <= w.cfg.max_sequencer_drift
    assert u.time + w.cfg.block_time - origin.time > w.cfg.max_sequencer_drift
    w.l1.mine(time=origin.time + 12)
    await _advance(node, seq, clock, 4)
    assert node.ctrl.unsafe.l1_origin.number == origin.number + 1


async def test_admin_stop_and_start(nursery):
    w, node, seq, clock, _ = await _setup(nursery, {Fork.HOLOCENE: 0})
    w.l1.mine()
    await _advance(node, seq, clock, 4)
    head = seq.stop()
    await _advance(node, seq, clock, 6)
    assert node.ctrl.unsafe.hash == head
    with pytest.raises(ValueError, match="does not match"):
        seq.start(b"\x00" * 32)
    seq.start(head)
    await _advance(node, seq, clock, 4)
    assert node.ctrl.unsafe.number > 2


def test_no_pool_on_activation_blocks_with_upgrade_transactions_karst_included():
    """op-node's sequencer builds the Karst activation block with NoTxPool (as Ecotone…Jovian and Lagoon)."""
    from derivation.protocol.rollup_config import RollupConfig
    from opnode.node.runtime.sequencer import no_tx_pool

    w, _ = make_world({Fork.JOVIAN: 0, Fork.KARST: 24, Fork.LAGOON: 48})
    cfg: RollupConfig = w.cfg
    t0 = cfg.genesis.l2_time
    origin = t0
    assert [no_tx_pool(cfg, origin, t0 + d) for d in (22, 24, 26, 46, 48, 50)] == [False, True, False, False, True,
                                                                                     False]
    assert no_tx_pool(cfg, origin, origin + cfg.max_sequencer_drift_at(origin) + 2)


async def test_recover_mode_builds_blocks_without_pool_transactions(nursery):
    """--sequencer.recover / admin_setRecoverMode (op-node sequencer.go: recoverMode → attrs.NoTxPool): the pool's
    transactions wait while recover mode is on and are included once it is off."""
    w, node, seq, clock, ports = await _setup(nursery, {Fork.HOLOCENE: 0})
    seq.recover = True
    w.l1.mine()
    async with httpx.AsyncClient() as http:
        raw = transfer(key(0), 0, b"\x77" * 20, 5).raw
        r = await http.post(f"http://127.0.0.1:{ports.http}", json={
            "jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": ["0x" + raw.hex()]})
        assert "result" in r.json(), r.json()

    async def user_txs(lo, hi):
        blocks = [await node.client.block(n, full=True) for n in range(lo, hi + 1)]
        return sum(1 for b in blocks for t in b["transactions"] if t["type"] != "0x7e")

    await _advance(node, seq, clock, 6)
    recovered = node.ctrl.unsafe.number
    assert recovered == 3 and await user_txs(1, recovered) == 0
    seq.recover = False
    await _advance(node, seq, clock, 2)
    assert node.ctrl.unsafe.number == recovered + 1 and await user_txs(recovered + 1, recovered + 1) == 1


async def test_sealing_duration_seals_that_long_before_the_block_timestamp(nursery):
    """--sequencer.sealing-duration (op-node flags.go, default 50ms): the payload is fetched that long before the
    block's timestamp, which stays the slot's."""
    w, node, seq, clock, _ = await _setup(nursery, {Fork.HOLOCENE: 0}, sealing_duration=0.5)
    w.l1.mine()
    genesis = w.cfg.genesis.l2_time
    assert seq.seconds_until_next() == w.cfg.block_time - 0.5
    clock.t = genesis + w.cfg.block_time - 0.5
    with trio.fail_after(10):
        while seq.sealed == 0:
            node.driver.wake()
            await trio.sleep(0.005)
    assert node.ctrl.unsafe.number == 1 and node.ctrl.unsafe.time == genesis + w.cfg.block_time
