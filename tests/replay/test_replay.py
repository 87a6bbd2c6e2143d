"""Replay: the shipped recordings replay to a full match; fresh recordings of the harness scenarios derive exactly
what the harness's own verifier derives; Holocene's deposit-only replacement; the first mismatch stops the replay;
where recording starts."""

from __future__ import annotations

import dataclasses
import io

import pytest
import trio

from derivation.events import BatchRead, ChannelReady, Dropped, DropReason, FramesRead
from derivation.protocol.rollup_config import Fork
from opnode.testing.harness.world import L1_CHAIN, Sequenced
from opnode.testing.txgen import KEYS, make_tx
from opnode.tools.replay import format as fmt
from opnode.tools.replay.compare import Outcome
from opnode.tools.replay.recorder import find_start, record
from opnode.tools.replay.replayer import replay
from opnode.tools.replay.store import l2_ref
from tests.replay import make_recordings as mr
from tests.replay.chains import WorldSource, recordable_world
from tests.replay.helpers import SHIPPED, VECTORS, first, rewrite


def _types(result) -> set[str]:
    return {type(e).__name__ for e in result.session.timeline}


def _drops(result) -> set[DropReason]:
    return {e.reason for e in result.session.timeline if isinstance(e, Dropped)}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_recordings_replay_to_a_full_match(name):
    result = replay(fmt.read(VECTORS / name))
    assert result.verdict == "match", result.message
    assert result.derived and all(d.comparison.outcome is Outcome.MATCH for d in result.derived)
    assert {"FramesRead", "ChannelReady", "BatchRead", "DerivedBlock"} <= _types(result)
    assert result.session.finished.how == "end_of_range"
    assert result.derived[-1].derived_from.number <= result.store.meta.to_l1


def test_what_the_shipped_recordings_show():
    calldata = replay(fmt.read(VECTORS / "calldata-pre-holocene.jsonl.gz"))
    assert calldata.store.meta.start.number > 0  # mid-chain start: the reset walked back over recorded L2 blocks
    assert {"singular", "span"} <= {e.batch_type for e in calldata.session.timeline if isinstance(e, BatchRead)}
    assert any(len({f.l1_block for f in c.frames}) > 1 for c in _channels(calldata))  # a channel over two blocks
    gas = [d.attributes.attributes.gas_limit for d in calldata.derived]
    assert gas[0] == 30_000_000 and gas[-1] == 31_000_000  # the L1 gas-limit update took effect in the range
    deposits = [d for d in calldata.derived if sum(t[0] == 0x7E for t in d.attributes.attributes.transactions) == 2]
    assert len(deposits) == 1  # the user deposit, in the first block of its epoch
    blobs = replay(fmt.read(VECTORS / "blobs-across-holocene.jsonl.gz"))
    cfg = blobs.store.cfg
    attrs = [d.attributes.attributes for d in blobs.derived]
    activation = [a for a in attrs if cfg.is_activation_block(Fork.HOLOCENE, a.timestamp)]
    assert len(activation) == 1 and activation[0].eip1559_params == bytes(8)
    assert attrs[-1].eip1559_params == (100).to_bytes(4, "big") + (4).to_bytes(4, "big")
    assert {"zlib", "brotli"} <= {e.compression for e in blobs.session.timeline if isinstance(e, BatchRead)}
    assert sum(len(b) for b in blobs.store.blobs.values()) == 10  # one blob per round
    faults = replay(fmt.read(VECTORS / "faults-holocene.jsonl.gz"))
    assert {DropReason.INVALID_BATCHER_TX_DATA, DropReason.FRAME_WITHOUT_CHANNEL, DropReason.FRAME_REJECTED,
            DropReason.CHANNEL_REPLACED, DropReason.PARENT_HASH_MISMATCH, DropReason.CHANNEL_FLUSHED,
            DropReason.FUTURE_TIMESTAMP, DropReason.PAST_TIMESTAMP} <= _drops(faults)


def _channels(result):
    from opnode.tools.replay.inspect import build

    return build(result).channels


@pytest.mark.parametrize("scenario", mr.SCENARIOS, ids=lambda s: s.name)
def test_fresh_recordings_derive_what_the_harness_verifier_derives(scenario):
    session, w = trio.run(mr.make, scenario)
    assert session.finished.how == "end_of_range"
    result = replay(fmt.decode(io.BytesIO(fmt.encode(session.store))))
    assert result.verdict == "match", result.message
    # Same attributes as during recording (data arriving piecemeal or all at once makes no difference) ...
    assert [d.attributes for d in result.derived] == [d.attributes for d in session.derived]
    # ... as the harness's verifier derives from the whole L1, and the sequencer's blocks.
    verifier = w.derive()
    by_number = {a.parent.number + 1: a.attributes for a in verifier.derived}
    assert [d.attributes.attributes for d in result.derived] == [by_number[d.number] for d in result.derived]
    assert [d.recorded.hash for d in result.derived] == [w.blocks[d.number - 1].ref.hash for d in result.derived]
    # The recording holds what derivation asked for and nothing more: every canonical L1 block up to the range end.
    store = session.store
    assert max(store.l1_canonical) == store.meta.to_l1
    events = [e for e in result.session.timeline if isinstance(e, (FramesRead, ChannelReady))]
    assert events and all(e.l1.number <= store.meta.to_l1 for e in events)


def _holocene_replacement_world(forks):
    """The engine rejected block 3's payload: the real chain has its deposit-only form, and the batcher re-sent the
    next block on top of it."""
    w = recordable_world(forks)
    w.l1.mine()
    for i in range(4):
        w.sequence(1, txs=[make_tx(2, w.cfg.l2_chain_id, KEYS[i], 0)])
    w.post(w.blocks, span=False)
    third = w.blocks[2]
    w.seq_l2.rewind(w.blocks[1].ref)
    replaced = third.attributes.deposits_only()
    ref = w.seq_l2.execute(w.blocks[1].ref, replaced)
    w.blocks = w.blocks[:2] + [Sequenced(ref, replaced, dataclasses.replace(third.batch, transactions=()),
                                         third.seq_number)]
    w.sequence(1, txs=[make_tx(2, w.cfg.l2_chain_id, KEYS[3], 0)])
    w.post(w.blocks[3:], span=False)
    w.l1.mine()
    return w


async def _record_world(w, from_l1=1, lookback=None):
    src = WorldSource(w)
    start = await find_start(w.cfg, src, from_l1, lookback)
    return await record(w.cfg, L1_CHAIN, src, from_l1=from_l1, to_l1=w.l1.head.number, start=start)


async def test_holocene_deposit_only_replacement_is_followed():
    w = _holocene_replacement_world({"holocene": 0})
    session = await _record_world(w)
    result = replay(session.store)
    assert result.verdict == "match", result.message
    assert [d.comparison.outcome for d in result.derived] == [Outcome.MATCH, Outcome.MATCH, Outcome.DEPOSITS_ONLY,
                                                              Outcome.MATCH]
    assert DropReason.CHANNEL_FLUSHED in _drops(result)  # the rest of block 3's channel went with it
    assert result.derived[3].recorded.parent_hash == result.derived[2].recorded.hash


async def test_before_holocene_a_replaced_payload_is_a_mismatch_and_stops_the_replay():
    w = _holocene_replacement_world({"granite": 0})
    session = await _record_world(w)
    assert [d.number for d in session.derived if d.comparison.outcome is Outcome.MISMATCH] == [3]
    result = replay(session.store)
    assert result.verdict == "mismatch" and result.first_mismatch.number == 3
    assert result.derived[-1].number == 3  # nothing derived after the first mismatch
    (diff,) = result.first_mismatch.comparison.diffs
    assert diff.field == "transactions" and diff.derived == "2 txs" and diff.recorded == "1 txs"
    assert "first difference at index 1" in diff.detail


def test_a_forged_real_block_shows_as_a_mismatch_with_the_differing_fields():
    data = (VECTORS / "faults-holocene.jsonl.gz").read_bytes()

    def edit(recs):
        r = first(recs, "l2_block", lambda r: r["number"] == 9)
        r["gas_limit"] += 1
        r["prev_randao"] = "0x" + "11" * 32

    result = replay(fmt.decode(io.BytesIO(rewrite(data, edit))))
    assert result.verdict == "mismatch" and result.first_mismatch.number == 9
    diffs = {d.field: (d.derived, d.recorded) for d in result.first_mismatch.comparison.diffs}
    assert diffs["gas_limit"] == ("30000000", "30000001")
    assert diffs["prev_randao"][1] == "0x" + "11" * 32
    assert set(diffs) == {"gas_limit", "prev_randao"}


async def test_the_start_is_the_last_block_a_lookback_before_the_range():
    w = recordable_world({"holocene": 0})
    for _ in range(12):
        w.l1.mine()
        w.sequence(4)
        w.post(w.blocks[-4:], span=True)
    src = WorldSource(w)
    refs = [l2_ref(w.cfg, await src.l2_block_by_number(n)) for n in range(len(w.blocks) + 1)]
    for from_l1 in (1, 5, 12, 20, 40):
        for lookback in (None, 0, 3):
            target = from_l1 - 1 - (w.cfg.seq_window_size if lookback is None else lookback)
            want = max((r.number for r in refs if r.l1_origin.number <= target), default=0)
            got = await find_start(w.cfg, src, from_l1, lookback)
            assert got.number == want, (from_l1, lookback)
    assert (await find_start(w.cfg, src, 40, 0)).number == len(w.blocks)  # past the chain: its head


async def test_any_start_replays_correctly():
    """The start decides what a replay covers, not whether it is right."""
    w = recordable_world({"granite": 0})
    for _ in range(6):
        w.l1.mine()
        w.sequence(6)
        w.post(w.blocks[-6:], span=False)
    w.l1.mine()
    for lookback in (0, 2, 5):
        session = await _record_world(w, from_l1=5, lookback=lookback)
        result = replay(session.store)
        assert result.verdict == "match", (lookback, result.message)
        assert result.derived[-1].number == len(w.blocks)
