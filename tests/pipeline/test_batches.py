"""Batch validity on L1 as op-node applies it, before and after Holocene (specs derivation.md §Batch Queue,
delta/span-batches.md, holocene/derivation.md)."""

import dataclasses

import pytest

from derivation.events import DropReason, EmptyBatchGenerated
from derivation.protocol import rlp
from derivation.protocol.compression import ZLIB, compress
from derivation.protocol.frames import Frame
from derivation.protocol.rollup_config import Fork
from derivation.protocol.span_elements import SpanElements
from derivation.protocol.transactions import Transaction
from derivation.protocol.varint import put_uvarint
from opnode.testing.harness import World
from opnode.testing.txgen import KEYS, make_tx
from opnode.tools.batcher import fault_variants as faults

PRE, POST = {"granite": 0}, {"holocene": 0}
BOTH = pytest.mark.parametrize("forks", [PRE, POST], ids=["pre-holocene", "holocene"])


def _chain(forks, n=6, **kw):
    w = World(forks, **kw)
    w.l1.mine()
    _seq(w, n)
    return w


def _seq(w, n, kind=2):
    for _ in range(n):
        i = len(w.blocks)
        w.sequence(1, txs=[make_tx(kind, w.cfg.l2_chain_id, KEYS[i % 4], i // 4, data=bytes([i]) * 30)])


def _post_batches(w, blocks, batches, span=False):
    w.post_frames(w.channel_frames(blocks, batches=batches, span=span))


def _derived(w) -> int:
    return len(w.verifier.l2.canonical) - 1


def _reasons(r, what="batch"):
    return [d.reason for d in r.drops(what)]


@BOTH
def test_future_batches(forks):
    w = _chain(forks, 12)
    w.post(w.blocks[6:], span=False)
    w.post(w.blocks[:6], span=False)
    w.l1.mine()
    r = w.derive()
    if forks is PRE:  # buffered until their turn
        assert _derived(w) == 12 and not r.drops()
    else:  # no buffering: dropped, and the batcher has to send them again
        assert _derived(w) == 6 and DropReason.FUTURE_TIMESTAMP in _reasons(r)
        w.post(w.blocks[6:], span=False)
        w.l1.mine()
        w.derive()
    w.assert_safe_chain_matches()


@BOTH
def test_past_batches(forks):
    w = _chain(forks, 6)
    w.post(w.blocks[:3], span=False)
    w.l1.mine()
    w.derive()
    # A channel repeating blocks 1-3 and then carrying 4-6.
    w.post(w.blocks, span=False)
    w.l1.mine()
    r = w.derive()
    assert _reasons(r) == [DropReason.PAST_TIMESTAMP] * 3
    if forks is PRE:
        assert _derived(w) == 6  # dropped one by one, the channel read on
    else:
        assert _derived(w) == 6 and not r.drops("channel")  # "past" never flushes the channel
    w.assert_safe_chain_matches()


@BOTH
@pytest.mark.parametrize("fault, reason", [
    (faults.wrong_parent, DropReason.PARENT_HASH_MISMATCH),
    (faults.wrong_epoch_hash, DropReason.EPOCH_HASH_MISMATCH),
    (faults.deposit_in_batch, DropReason.DEPOSIT_TRANSACTION),
    (lambda b: dataclasses.replace(b, transactions=b.transactions + (b"",)), DropReason.EMPTY_TRANSACTION),
    (lambda b: dataclasses.replace(b, epoch_num=b.epoch_num + 2), DropReason.EPOCH_TOO_FAR_IN_FUTURE),
], ids=["wrong-parent", "wrong-epoch-hash", "deposit-tx", "empty-tx", "epoch-skipped"])
def test_invalid_singular_batch(forks, fault, reason):
    w = _chain(forks, 6)
    batches = [b.batch for b in w.blocks]
    batches[0] = fault(batches[0])
    _post_batches(w, w.blocks, batches)
    w.l1.mine()
    r = w.derive()
    assert _reasons(r)[0] is reason
    assert _derived(w) == 0
    if forks is POST:  # the rest of the channel goes with it
        assert [d.reason for d in r.drops("channel")] == [DropReason.CHANNEL_FLUSHED]
        assert _reasons(r) == [reason]
    else:  # later batches wait in the queue (future) for the missing block
        w.post(w.blocks[:1], span=False)
        w.l1.mine()
        w.derive()
        assert _derived(w) == 6
        w.assert_safe_chain_matches()


def test_epoch_too_old():
    w = _chain(PRE, 0)
    w.l1.mine(n=2)
    _seq(w, 8)  # the L1 origin advances within these blocks
    blocks = w.blocks
    assert blocks[-1].batch.epoch_num > blocks[0].batch.epoch_num
    w.post(blocks[:7], span=False)
    w.l1.mine()
    w.derive()
    old = blocks[0].batch
    last = blocks[-1]
    bad = dataclasses.replace(last.batch, epoch_num=old.epoch_num, epoch_hash=old.epoch_hash)
    _post_batches(w, [last], [bad])
    w.l1.mine()
    r = w.derive()
    assert DropReason.EPOCH_TOO_OLD in _reasons(r)


def test_set_code_transactions_only_from_isthmus():
    w = World({"holocene": 0, "isthmus": 24})
    w.l1.mine()
    set_code = make_tx(4, w.cfg.l2_chain_id, KEYS[1], 0)
    early = w.sequence(1)[0]
    bad = dataclasses.replace(early.batch, transactions=(set_code,))
    _post_batches(w, [early], [bad])
    w.l1.mine()
    r = w.derive()
    assert _reasons(r) == [DropReason.SET_CODE_BEFORE_ISTHMUS]
    while not w.cfg.is_active(Fork.ISTHMUS, w.seq_l2.head.time + 2):
        w.sequence(1)
    w.l1.mine()
    w.sequence(1, txs=[set_code])
    w.post(w.blocks, span=True)
    w.l1.mine()
    w.derive()
    w.assert_safe_chain_matches()
    assert any(t[0] == 4 for t in w.blocks[-1].attributes.transactions)


def test_jovian_activation_block_must_not_carry_user_transactions():
    w = World({"isthmus": 0, "jovian": 12})
    w.l1.mine()
    while not w.cfg.is_activation_block(Fork.JOVIAN, w.seq_l2.head.time + 2):
        w.sequence(1)
    act = w.sequence(1)[0]
    assert all(t[0] == 0x7E for t in act.attributes.transactions)
    bad = dataclasses.replace(act.batch, transactions=(make_tx(2, w.cfg.l2_chain_id, KEYS[0], 0),))
    _post_batches(w, w.blocks, [b.batch for b in w.blocks[:-1]] + [bad])
    w.l1.mine()
    r = w.derive()
    assert _reasons(r) == [DropReason.NON_EMPTY_ACTIVATION_BLOCK]
    assert _derived(w) == len(w.blocks) - 1


def test_sequencer_drift_empty_batch_exception_and_violation():
    """Without new L1 blocks the sequencer may go on past the drift with empty blocks only (pre-Fjord: 600 s)."""
    w = World({"ecotone": 0}, seq_window_size=400)
    w.l1.mine()
    _seq(w, 2)
    drift_blocks = w.cfg.max_sequencer_drift // w.cfg.block_time
    w.sequence(drift_blocks + 5)  # the last ones are past the drift: the sequencer makes them empty
    origin = w.l1.block_by_hash(w.blocks[-1].batch.epoch_hash)
    assert w.blocks[-1].attributes.timestamp > origin.time + w.cfg.max_sequencer_drift
    # L1's next block only comes after all of them (a long L1 outage), so none could adopt it.
    w.post(w.blocks, span=True, l1_time=w.blocks[-1].attributes.timestamp + 1)
    w.l1.mine()
    r = w.derive()
    assert not r.drops()
    w.assert_safe_chain_matches()
    # A batch with transactions past the drift is dropped.
    w2 = World({"ecotone": 0}, seq_window_size=400)
    w2.l1.mine()
    w2.sequence(drift_blocks + 2)
    last = w2.blocks[-1]
    bad = dataclasses.replace(last.batch, transactions=(make_tx(2, w2.cfg.l2_chain_id, KEYS[0], 0),))
    w2.post_frames(w2.channel_frames(w2.blocks, batches=[b.batch for b in w2.blocks[:-1]] + [bad], span=False),
                   l1_time=last.attributes.timestamp + 1)
    w2.l1.mine()
    r2 = w2.derive()
    assert _reasons(r2) == [DropReason.SEQUENCER_DRIFT_EXCEEDED]


def test_empty_batch_past_drift_when_next_origin_was_adoptable_is_dropped():
    w = World({"ecotone": 0}, seq_window_size=400)
    w.l1.mine()
    drift_blocks = w.cfg.max_sequencer_drift // w.cfg.block_time
    w.sequence(drift_blocks)
    w.l1.mine(n=60)  # L1 moves on: the next origin can be adopted
    last = w.sequence(1, origin=w.blocks[-1].batch.epoch_num)[0]  # but the sequencer keeps the old one
    w.post(w.blocks, span=False)
    w.l1.mine()
    r = w.derive()
    assert DropReason.SEQUENCER_DRIFT_NOT_ADOPTED_NEXT_ORIGIN in _reasons(r)
    assert w.verifier.l2.head.number == last.ref.number - 1 or any(
        isinstance(e, EmptyBatchGenerated) for e in r.events)


@BOTH
def test_sequencing_window_expiry_forces_deposit_only_blocks(forks):
    w = _chain(forks, 0, seq_window_size=10)
    dep = Transaction(0x7E, source_hash=b"", from_=b"\x11" * 20, to=b"\x22" * 20, mint=5, value=1, gas=50_000, data=b"")
    w.deposit(dep)
    _seq(w, 12)
    w.l1.mine(n=14)  # nothing was posted: the window of those epochs expires
    r = w.derive()
    gen = [e for e in r.events if isinstance(e, EmptyBatchGenerated)]
    assert gen and len(r.derived) == len(gen)
    assert all(a.attributes.is_deposits_only for a in r.derived)
    # The L1 deposit still lands, in the first block of its epoch.
    with_user_deposit = [a for a in r.derived if len(a.attributes.transactions) > 1]
    assert len(with_user_deposit) == 1 and with_user_deposit[0].attributes.transactions[1][0] == 0x7E
    ts = [a.attributes.timestamp for a in r.derived]
    assert ts == list(range(ts[0], ts[0] + 2 * len(ts), 2))


@BOTH
def test_span_batch_overlapping_the_safe_chain(forks):
    w = _chain(forks, 12)
    w.post(w.blocks[:6], span=False)
    w.l1.mine()
    w.derive()
    assert _derived(w) == 6
    w.post(w.blocks, span=True)  # blocks 1-12 again in one span: 1-6 overlap the safe chain
    w.l1.mine()
    r = w.derive()
    assert not r.drops("batch") or forks is POST
    assert _derived(w) == 12
    w.assert_safe_chain_matches()


def test_span_batch_overlap_that_disagrees_with_the_safe_chain_is_dropped():
    w = _chain(PRE, 12)
    w.post(w.blocks[:6], span=False)
    w.l1.mine()
    w.derive()
    batches = [b.batch for b in w.blocks]
    batches[2] = dataclasses.replace(batches[2], transactions=(make_tx(2, w.cfg.l2_chain_id, KEYS[3], 99),))
    _post_batches(w, w.blocks, batches, span=True)
    w.l1.mine()
    r = w.derive()
    assert _reasons(r) == [DropReason.OVERLAPPED_TX_MISMATCH]
    assert _derived(w) == 6


@BOTH
@pytest.mark.parametrize("which, reason", [("parent", DropReason.PARENT_HASH_MISMATCH),
                                           ("origin", DropReason.EPOCH_HASH_MISMATCH)])
def test_span_batch_with_bad_checks(forks, which, reason):
    w = _chain(forks, 6)
    batches = [b.batch for b in w.blocks]
    if which == "parent":
        batches[0] = faults.wrong_parent(batches[0])
    else:
        batches[-1] = faults.wrong_epoch_hash(batches[-1])
    _post_batches(w, w.blocks, batches, span=True)
    w.l1.mine()
    r = w.derive()
    assert _reasons(r) == [reason] and _derived(w) == 0


def _set_code_in_block_4(w):
    """Block 4 of the span carries a set-code transaction, invalid before Isthmus; the prefix checks pass."""
    batches = [b.batch for b in w.blocks]
    batches[3] = dataclasses.replace(batches[3], transactions=(make_tx(4, w.cfg.l2_chain_id, KEYS[2], 50),))
    _post_batches(w, w.blocks, batches, span=True)
    w.l1.mine()
    return w.derive()


def test_holocene_invalid_block_inside_a_span_keeps_the_valid_prefix():
    w = _chain(POST, 6)
    r = _set_code_in_block_4(w)
    assert _derived(w) == 3  # Holocene: partial span validity
    assert _reasons(r) == [DropReason.SET_CODE_BEFORE_ISTHMUS, DropReason.SPAN_REMAINDER_FLUSHED]
    w.assert_safe_chain_matches(upto=3)


def test_pre_holocene_invalid_block_inside_a_span_drops_it_whole():
    w = _chain(PRE, 6)
    r = _set_code_in_block_4(w)
    assert _derived(w) == 0 and _reasons(r) == [DropReason.SET_CODE_BEFORE_ISTHMUS]


def test_span_batch_before_delta_is_dropped():
    w = World({"canyon": 0, "delta": 48})
    w.l1.mine()
    _seq(w, 6)
    w.post(w.blocks, span=True)
    w.l1.mine()
    r = w.derive()
    assert DropReason.SPAN_BATCH_BEFORE_DELTA in _reasons(r) and _derived(w) == 0
    w.post(w.blocks, span=False)
    w.l1.mine()
    w.derive()
    w.assert_safe_chain_matches()


@BOTH
def test_a_ten_million_block_span_batch_is_decided_within_the_sequencer_drift(forks, monkeypatch):
    """Issue 18's span-batch bomb: a ~11 KB zlib channel whose span batch claims 10,000,000 empty blocks on one L1
    origin (op-node's MaxSpanBatchElementCount). Its blocks pass the rules only up to the sequencer drift (Fjord:
    1,800 s); the pipeline must decide after building about that many blocks, not ten million."""
    w = World(forks)
    l1 = w.l1.mine()
    n = 10_000_000
    origin_bits = bytes((n + 7) // 8 - 1) + b"\x01"  # block 0 starts epoch 1, the rest stay on it
    body = (b"\x01" + put_uvarint(w.cfg.block_time) + put_uvarint(l1.number) + w.cfg.genesis.l2.hash[:20]
            + l1.hash[:20] + put_uvarint(n) + origin_bits + bytes(n))
    channel = compress(rlp.encode_bytes(body), ZLIB)
    assert len(channel) < 12_000
    w.post_frames([Frame(b"\x07" * 16, 0, channel, True)])
    w.l1.mine(n=2)
    built = []
    real = SpanElements._element
    monkeypatch.setattr(SpanElements, "_element", lambda self, i, e, o: built.append(i) or real(self, i, e, o))
    r = w.derive()
    drift_blocks = w.cfg.max_sequencer_drift_at(l1.time) // w.cfg.block_time
    assert DropReason.SEQUENCER_DRIFT_EXCEEDED in _reasons(r) or \
        DropReason.SEQUENCER_DRIFT_NOT_ADOPTED_NEXT_ORIGIN in _reasons(r)
    assert len(built) < 2 * drift_blocks + 10
    if forks is POST:  # Holocene takes the blocks within the drift, one at a time, then flushes the rest
        within = (l1.time + w.cfg.max_sequencer_drift_at(l1.time) - w.cfg.genesis.l2_time) // w.cfg.block_time
        assert _derived(w) == within
        assert DropReason.SPAN_REMAINDER_FLUSHED in _reasons(r)
    else:  # before Holocene the span is accepted or dropped whole
        assert _derived(w) == 0
