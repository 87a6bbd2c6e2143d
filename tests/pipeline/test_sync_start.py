"""Sync start (op-node FindL2Heads): where a node resumes after a restart or a reset."""

import dataclasses

import pytest

from derivation.sync_start import L2Heads, SyncStartError, find_l2_heads
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
