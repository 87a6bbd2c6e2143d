"""Sync start (op-node FindL2Heads): where a node resumes after a restart or a reset."""

import dataclasses

import pytest

from derivation.sync_start import L2Heads, SyncStartError, duration_to_blocks, find_l2_heads, offset_block_num
from opnode.testing.harness import World


def _world(epochs=30, blocks_per_epoch=6):
    w = World({"holocene": 0}, seq_window_size=5)
    for _ in range(epochs):
        w.l1.mine()
        w.sequence(blocks_per_epoch)
    return w


def _ref(w, n):
    return w.seq_l2.block_ref_by_number(n)


def test_heads_on_a_canonical_chain():
    w = _world()
    head = w.seq_l2.head
    h = find_l2_heads(w.cfg, w.l1, w.l1.head.number, w.seq_l2, L2Heads(head, head, _ref(w, 0)))
    assert h.unsafe == head
    # The safe head moves back to an epoch start a full sequencing window behind the highest canonical origin.
    assert h.safe.l1_origin.number + w.cfg.seq_window_size < head.l1_origin.number
    nxt = _ref(w, h.safe.number + 1)
    assert nxt.sequence_number == 0 and nxt.l1_origin.number + w.cfg.seq_window_size < head.l1_origin.number
    assert h.finalized == _ref(w, 0)


def test_walk_stops_at_the_finalized_block():
    w = _world()
    head = w.seq_l2.head
    fin = _ref(w, head.number - 3)
    h = find_l2_heads(w.cfg, w.l1, w.l1.head.number, w.seq_l2, L2Heads(head, head, fin))
    assert h.safe == fin and h.unsafe == head


def test_unsafe_blocks_on_reorged_l1_are_dropped():
    w = _world()
    head = w.seq_l2.head
    w.l1.reorg(3)
    w.l1.mine(n=3)  # different blocks at the same heights
    h = find_l2_heads(w.cfg, w.l1, w.l1.head.number, w.seq_l2, L2Heads(head, head, _ref(w, 0)))
    assert h.unsafe.l1_origin.number < head.l1_origin.number - 2
    assert w.l1.block_by_number(h.unsafe.l1_origin.number).hash == h.unsafe.l1_origin.hash


def test_origins_ahead_of_l1_are_plausible():
    w = _world()
    head = w.seq_l2.head
    h = find_l2_heads(w.cfg, w.l1, head.l1_origin.number - 1, w.seq_l2, L2Heads(head, head, _ref(w, 0)))
    assert h.unsafe == head


def test_wrong_genesis_is_an_error():
    w = _world(epochs=2)
    head = w.seq_l2.head
    cfg = dataclasses.replace(w.cfg, genesis=dataclasses.replace(w.cfg.genesis, l2=dataclasses.replace(
        w.cfg.genesis.l2, hash=b"\x01" * 32)))
    with pytest.raises(SyncStartError, match="wrong L2 chain"):
        find_l2_heads(cfg, w.l1, w.l1.head.number, w.seq_l2, L2Heads(head, head, _ref(w, 0)))


def test_engine_behind_safe_recovers_from_its_head():
    w = _world(epochs=3)
    head = w.seq_l2.head
    old = _ref(w, 5)
    assert find_l2_heads(w.cfg, w.l1, w.l1.head.number, w.seq_l2, L2Heads(old, head, _ref(w, 0))) == \
        L2Heads(old, old, old)


# --syncmode.offset-el-safe: op-node sync/start_test.go TestDurationToBlocks and TestOffsetBlockNum, case by case
# (okx/optimism@7573e762, 2026-06-30, upstream #19972).
@pytest.mark.parametrize("offset, block_time, want", [
    (0, 2, 0), (-3600, 2, 0), (3600, 0, 0), (3, 2, 2), (4, 2, 2), (15, 4, 4), (16, 4, 4), (0.5, 1, 0),
    (12 * 3600, 2, 21600)])
def test_duration_to_blocks_is_op_nodes(offset, block_time, want):
    assert duration_to_blocks(offset, block_time) == want


@pytest.mark.parametrize("offset, block_time, head, genesis, want", [
    (0, 2, 100, 0, 100), (10, 2, 0, 0, 0), (10, 2, 5, 10, 5), (10, 2, 100, 0, 95), (1000 * 3600, 2, 10, 0, 0),
    (10, 2, 15, 10, 10), (15, 4, 100, 0, 96)])
def test_offset_block_num_is_op_nodes(offset, block_time, head, genesis, want):
    assert offset_block_num(offset, block_time, head, genesis) == want


def test_recovery_from_the_engines_head_puts_safe_and_finalized_offset_behind_it():
    """op-node FindL2Heads → L2HeadsForELSyncWithOffset: the engine rewound under its forkchoice restarts from its
    head, safe and finalized ``offset`` behind it (ceil(offset / block time) blocks), clamped at genesis."""
    w = _world(epochs=3)
    head = w.seq_l2.head
    old = _ref(w, 9)
    bt = w.cfg.block_time
    got = find_l2_heads(w.cfg, w.l1, w.l1.head.number, w.seq_l2, L2Heads(old, head, _ref(w, 0)), 3 * bt)
    assert got == L2Heads(old, _ref(w, 6), _ref(w, 6))
    got = find_l2_heads(w.cfg, w.l1, w.l1.head.number, w.seq_l2, L2Heads(old, head, _ref(w, 0)), 3 * bt - 1)
    assert got.safe == _ref(w, 6)  # rounded up to whole blocks
    got = find_l2_heads(w.cfg, w.l1, w.l1.head.number, w.seq_l2, L2Heads(old, head, _ref(w, 0)), 10**6)
    assert got == L2Heads(old, _ref(w, 0), _ref(w, 0))
