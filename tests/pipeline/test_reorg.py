"""L1 reorgs: traversal notices the parent-hash mismatch, the pipeline resets, and derivation follows the new L1."""

import pytest

from derivation.events import PipelineReset
from opnode.testing.harness import World
from opnode.testing.txgen import KEYS, make_tx

BOTH = pytest.mark.parametrize("forks", [{"granite": 0}, {"holocene": 0}], ids=["pre-holocene", "holocene"])


def _seq(w, n):
    for _ in range(n):
        i = len(w.blocks)
        w.sequence(1, txs=[make_tx(2, w.cfg.l2_chain_id, KEYS[i % 4], i + 1000 * len(w.l1.canonical))])


@BOTH
def test_reorg_of_blocks_holding_batches(forks):
    w = World(forks)
    w.l1.mine()
    _seq(w, 6)
    w.post()
    w.l1.mine(n=2)
    w.derive()
    assert w.verifier.l2.head.number == 6
    w.reorg_l1(3)  # drops the batch's block and the two after it; the epochs stay
    assert len(w.blocks) == 6
    w.l1.mine(n=2)
    _seq(w, 6)
    w.post()  # the batcher re-submits what the reorg removed, plus new blocks
    w.l1.mine(n=2)
    r = w.derive()
    assert r.resets and "reorg" in r.resets[0]
    assert any(isinstance(e, PipelineReset) for e in r.events[1:])
    w.assert_safe_chain_matches()
    assert w.verifier.l2.head.number == 12


@BOTH
def test_reorg_of_epochs_rebuilds_the_l2_chain(forks):
    w = World(forks)
    for _ in range(3):
        w.l1.mine()
        _seq(w, 6)
    w.post()
    w.l1.mine()
    w.derive()
    before = w.verifier.l2.head
    assert before.number == 18
    w.reorg_l1(3)  # L1 blocks 3-5 go: L2 blocks with L1 origin 3 are no longer valid
    assert len(w.blocks) == 12
    for _ in range(3):
        w.l1.mine()
        _seq(w, 6)
    w.post()
    w.l1.mine(n=2)
    r = w.derive()
    assert r.resets
    w.assert_safe_chain_matches()
    assert w.verifier.l2.head.number == 30 and w.verifier.l2.block_ref_by_number(18) != before


@BOTH
def test_restart_from_a_safe_head_mid_chain(forks):
    """A node restarting with safe head N walks back a channel timeout and derives on from N (specs derivation.md
    §Resetting the Pipeline)."""
    from derivation.pipeline import Pipeline
    from opnode.testing.harness.world import L1_CHAIN

    w = World(forks)
    for _ in range(4):
        w.l1.mine()
        _seq(w, 6)
        w.post(w.blocks[-6:][:3])  # channels cover half of each round: the rest comes later
    w.l1.mine()
    w.derive()
    v = w.verifier
    safe = v.safe
    assert safe.number == 3  # blocks 4-6 are missing: everything after waits
    v.pipeline = Pipeline(w.cfg, L1_CHAIN, w.l1, v.l2, v.result.events.append)  # a fresh process
    v.pipeline.reset(safe)
    w.post(w.blocks[3:])
    w.l1.mine()
    w.derive()
    w.assert_safe_chain_matches()
    resets = [e for e in v.result.events if isinstance(e, PipelineReset)]
    assert resets[-1].l1.number <= safe.l1_origin.number
