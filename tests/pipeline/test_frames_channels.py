"""Frames and channels on L1 as op-node reads them, before and after Holocene."""

import random

import pytest

from derivation.events import Dropped, DropReason
from derivation.protocol.config_update import UpdateType
from derivation.protocol.crypto import address_from_private_key
from derivation.protocol.frames import Frame
from derivation.protocol.rollup_config import Fork
from opnode.testing.harness import World
from opnode.testing.harness.world import OTHER_KEY
from opnode.testing.txgen import KEYS, make_tx
from opnode.tools.batcher import fault_variants as faults

PRE, POST = {"granite": 0}, {"holocene": 0}


def _chain(forks, n_blocks=6, **kw):
    """A world with ``n_blocks`` sequenced L2 blocks, one user transaction each."""
    w = World(forks, **kw)
    w.l1.mine()
    _sequence(w, n_blocks)
    return w


def _sequence(w, n):
    for _ in range(n):
        i = len(w.blocks)
        w.sequence(1, txs=[make_tx(2, w.cfg.l2_chain_id, KEYS[0], i, data=bytes([i]) * 40)])


def _derived(w) -> int:
    return len(w.verifier.l2.canonical) - 1


@pytest.mark.parametrize("forks", [PRE, POST], ids=["pre-holocene", "holocene"])
def test_frames_in_order_across_l1_blocks(forks):
    w = _chain(forks)
    frames = w.channel_frames(w.blocks, max_frame_size=120)
    assert len(frames) >= 3
    for f in frames:
        w.post_frames([f])
    w.l1.mine()
    r = w.derive()
    assert not r.drops() and _derived(w) == 6
    w.assert_safe_chain_matches()


def test_frames_out_of_order_pre_holocene_are_assembled():
    w = _chain(PRE)
    frames = w.channel_frames(w.blocks, max_frame_size=120)
    for f in reversed(frames):
        w.post_frames([f])
    w.l1.mine()
    r = w.derive()
    assert not r.drops() and _derived(w) == 6
    w.assert_safe_chain_matches()


@pytest.mark.parametrize("per_tx, reason", [(1, DropReason.FRAME_REJECTED), (100, DropReason.FRAME_OUT_OF_ORDER)],
                         ids=["frame-per-tx", "all-frames-in-one-tx"])
def test_frames_out_of_order_after_holocene_drop_the_channel_until_reposted(per_tx, reason):
    """Across transactions the assembler rejects the out-of-order frame; within one transaction the frame queue
    prunes it already (op-node ``pruneFrameQueue``)."""
    w = _chain(POST)
    frames = w.channel_frames(w.blocks, max_frame_size=120)
    w.post_frames(faults.swap_frames(frames, 1, 2), frames_per_tx=per_tx)
    w.l1.mine()
    r = w.derive()
    assert _derived(w) == 0
    assert reason in {d.reason for d in r.drops("frame")}
    w.post_frames(w.channel_frames(w.blocks, max_frame_size=120))  # the batcher re-submits, in order
    w.l1.mine()
    w.derive()
    w.assert_safe_chain_matches()


@pytest.mark.parametrize("forks", [PRE, POST], ids=["pre-holocene", "holocene"])
def test_duplicated_frames_are_ignored(forks):
    w = _chain(forks)
    frames = w.channel_frames(w.blocks, max_frame_size=120)
    w.post_frames(faults.duplicate_frame(frames, 1))
    w.l1.mine()
    r = w.derive()
    assert _derived(w) == 6
    w.assert_safe_chain_matches()
    assert [d.reason for d in r.drops("frame")] == [DropReason.FRAME_REJECTED]  # the duplicate


@pytest.mark.parametrize("forks", [PRE, POST], ids=["pre-holocene", "holocene"])
def test_interleaved_channels(forks):
    w = _chain(forks, n_blocks=12)
    a = w.channel_frames(w.blocks[:6], max_frame_size=120)
    b = w.channel_frames(w.blocks[6:], max_frame_size=120)
    mixed = [f for pair in zip(a, b, strict=False) for f in pair] + a[len(b):] + b[len(a):]
    w.post_frames(mixed)
    w.l1.mine()
    r = w.derive()
    if forks is PRE:  # the channel bank keeps both channels
        assert _derived(w) == 12 and not r.drops()
        w.assert_safe_chain_matches()
    else:  # one channel at a time: B's first frame replaces unfinished A, A's later frames have no channel
        reasons = {d.reason for d in r.drops()}
        assert DropReason.FRAME_OUT_OF_ORDER in reasons or DropReason.CHANNEL_REPLACED in reasons
        assert _derived(w) == 0  # B's batches follow A's missing blocks: future → dropped
        assert DropReason.FUTURE_TIMESTAMP in reasons


@pytest.mark.parametrize("forks, timeout", [({"fjord": 0}, 300), ({"granite": 0}, 50)], ids=["bedrock-300", "granite-50"])
def test_channel_timeout(forks, timeout):
    w = _chain(forks, channel_timeout=300, seq_window_size=400)
    frames = w.channel_frames(w.blocks, max_frame_size=120)
    w.post_frames(frames[:-1])
    opened = w.l1.head.number
    w.l1.mine(n=timeout)  # the closing frame arrives exactly at the timeout: still in time
    w.post_frames(frames[-1:])
    assert w.l1.head.number == opened + timeout + 1
    w.l1.mine()
    r = w.derive()
    assert DropReason.CHANNEL_TIMEOUT in {d.reason for d in r.drops("channel")} or \
        DropReason.CHANNEL_TIMED_OUT_FRAME in {d.reason for d in r.drops("frame")}
    assert _derived(w) == 0
    w2 = _chain(forks, channel_timeout=300, seq_window_size=400)
    frames = w2.channel_frames(w2.blocks, max_frame_size=120)
    w2.post_frames(frames[:-1])
    w2.l1.mine(n=timeout - 1)
    w2.post_frames(frames[-1:])  # opened + timeout: the last block before it times out
    w2.l1.mine()
    w2.derive()
    assert _derived(w2) == 6


def test_missing_frame_times_the_channel_out_and_window_expiry_forces_empty_blocks():
    w = _chain(POST, seq_window_size=10)
    w.post_frames(faults.drop_last_frame(w.channel_frames(w.blocks, max_frame_size=120)))
    w.l1.mine(n=60)
    r = w.derive()
    assert DropReason.CHANNEL_TIMEOUT in {d.reason for d in r.drops("channel")}
    derived = [b.attributes for b in w.verifier.l2.canonical[1:]]
    assert derived and all(a.is_deposits_only for a in derived)  # sequencing window expired: deposit-only blocks


def test_garbage_wrong_sender_and_wrong_inbox_are_ignored():
    w = _chain(PRE)
    rng = random.Random(7)
    frames = w.channel_frames(w.blocks)
    w.post_payloads([faults.garbage_payload(rng), faults.garbage_payload(rng, valid_version=False)])
    w.post_frames(frames, key=OTHER_KEY)
    w.post_frames(frames, to=b"\x01" * 20)
    w.l1.mine()
    r = w.derive()
    assert _derived(w) == 0
    assert [d.reason for d in r.drops()] == [DropReason.INVALID_BATCHER_TX_DATA] * 2
    w.post_frames(frames)
    w.l1.mine()
    w.derive()
    w.assert_safe_chain_matches()


def test_batcher_rotation_applies_from_the_update_block():
    w = _chain(PRE)
    new_key = bytes(31) + b"\x77"
    frames = w.channel_frames(w.blocks)
    # Same L1 block: the update comes after the new batcher's tx, and still authorizes it (derivation.md §L1 Traversal).
    txs, _ = w.batcher_txs(frames, key=new_key)
    upd = w.config_update(UpdateType.BATCHER, bytes(12) + address_from_private_key(new_key), mine=False)
    w.l1.mine(txs, logs=[upd])
    w.l1.mine()
    w.derive()
    w.assert_safe_chain_matches()
    # The old batcher is no longer accepted.
    w.l1.mine()
    _sequence(w, 6)
    w.post(w.blocks[6:])
    w.l1.mine()
    w.derive()
    assert _derived(w) == 6


def test_channel_bank_pruning_keeps_memory_bounded(monkeypatch):
    """A batcher flooding the bank with channels that never close: the oldest are pruned at the size limit."""
    import derivation.protocol.rollup_config as rc

    monkeypatch.setattr(rc, "MAX_CHANNEL_BANK_SIZE_FJORD", 50_000)
    w = _chain({"fjord": 0}, seq_window_size=100)
    rng = random.Random(1)
    for _i in range(20):

        w.post_frames([Frame(rng.randbytes(16), 0, rng.randbytes(9_000), False) for _ in range(3)])
    w.post(w.blocks)
    w.l1.mine()
    peak = []
    w.verifier.pipeline.emit = lambda e: (w.verifier.result.events.append(e),
                                          peak.append(w.verifier.pipeline.channel_bank.buffered_bytes))
    r = w.derive()
    assert max(peak) <= 50_000 + 9_200
    assert sum(1 for d in r.drops("channel") if d.reason is DropReason.CHANNEL_PRUNED) >= 50
    w.assert_safe_chain_matches()


def test_oversized_channel_is_dropped_after_holocene(monkeypatch):
    import derivation.protocol.rollup_config as rc

    monkeypatch.setattr(rc, "MAX_RLP_BYTES_PER_CHANNEL_FJORD", 700)
    w = _chain(POST)
    w.post(w.blocks, max_frame_size=300, compression="zlib")
    w.l1.mine()
    r = w.derive()
    assert DropReason.CHANNEL_OVERSIZED in {d.reason for d in r.drops("channel")}
    assert _derived(w) == 0


def test_holocene_activation_discards_buffered_frames():
    """Frames buffered before Holocene's first L1 block are dropped when traversal reaches it."""
    w = World({"granite": 0, "holocene": 36})
    w.l1.mine()
    _sequence(w, 6)
    frames = w.channel_frames(w.blocks, max_frame_size=120)
    w.post_frames(frames[:-1])  # pre-Holocene L1 block
    while not w.cfg.is_active(Fork.HOLOCENE, w.l1.head.time + w.l1.block_time):
        w.l1.mine()
    w.post_frames(frames[-1:])  # first Holocene L1 block
    w.l1.mine()
    r = w.derive()
    assert DropReason.HOLOCENE_ACTIVATION in {d.reason for d in r.drops()}
    assert _derived(w) == 0
    assert any(isinstance(e, Dropped) and e.reason is DropReason.FRAME_WITHOUT_CHANNEL for e in r.events)


def test_undecodable_blob_is_skipped_alone():
    from derivation.protocol.blobs import encode_blob
    from derivation.protocol.kzg import blob_versioned_hash

    w = _chain(POST)
    txs, blobs = w.batcher_txs(w.channel_frames(w.blocks), da="blobs")
    bad = bytearray(encode_blob(b"\x00hello"))
    bad[1] = 1  # blob encoding version 1 does not exist
    bad = bytes(bad)
    vh = blob_versioned_hash(bad)
    junk_tx = w._l1_tx(w.batcher_key, w.cfg.batch_inbox_address, b"", [vh])
    w.l1.mine([junk_tx, *txs], blobs={**blobs, vh: bad})
    w.l1.mine()
    r = w.derive()
    assert [d.reason for d in r.drops()] == [DropReason.INVALID_BLOB]
    w.assert_safe_chain_matches()


def test_missing_blob_is_waited_for_never_skipped():
    w = _chain(POST)
    txs, blobs = w.batcher_txs(w.channel_frames(w.blocks), da="blobs")
    w.l1.mine(txs)  # the beacon node does not have the blobs (yet)
    w.l1.mine()
    with pytest.raises(AssertionError, match="l1_blobs"):
        w.derive()
    w.l1.canonical[-2].blobs.update(blobs)  # now it has them
    w.derive()
    w.assert_safe_chain_matches()
