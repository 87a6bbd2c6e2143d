"""Batch validity rules (specs: derivation.md "Batch Queue", delta/span-batches.md, holocene/derivation.md,
isthmus/, jovian/, karst/ and lagoon/ derivation.md; op-node batches.go ``checkSingularBatch``,
``checkSpanBatch``, karlfloersch/optimism@da174e56 2026-06-02, and PR #22215 2026-08-19 for the Holocene overlap).

Pure functions of the buffered L1 blocks (``l1_blocks[0]`` is the safe head's epoch), the safe head and the L1
inclusion block. Holocene changes future batches into drops and old ones into "past" (by the inclusion block's
time). Span batch blocks also drop when their L1 origin is older than the safe head's or missing from the buffered
L1 blocks (kona and current op-node; earlier op-node halted instead). L2 lookups for span batches that overlap the
safe chain go through the L2 provider and may raise NeedData.

Activation blocks of Jovian, Karst and Lagoon take no batch transactions (the batch is dropped). A Lagoon post-exec
transaction (type 0x7D) is accepted only when Lagoon is active at the block's timestamp (op-node
``checkSequencerTxData``: "sequencers may not embed any PostExec transactions before SDM", SDM being active with
Lagoon); deposits are never accepted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import overload

from derivation.events import DropReason
from derivation.protocol.batches import SingularBatch
from derivation.protocol.errors import CriticalError, ParseError
from derivation.protocol.post_exec import POST_EXEC
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.span_elements import SpanBatch, SpanBatchElement
from derivation.protocol.transactions import DEPOSIT, SET_CODE
from derivation.protocol.types import L1BlockRef, L2BlockRef
from derivation.providers import L2Source


class Validity(Enum):
    ACCEPT = "accept"
    DROP = "drop"
    UNDECIDED = "undecided"
    FUTURE = "future"
    PAST = "past"


@dataclass(frozen=True, slots=True)
class Verdict:
    validity: Validity
    reason: DropReason | None = None
    message: str = ""


def dropped_reason(v: Verdict) -> DropReason:
    """The reason of a verdict that drops its batch (DROP and PAST verdicts always carry one)."""
    if v.reason is None:
        raise CriticalError(f"{v.validity.value} batch verdict without a drop reason")
    return v.reason


ACCEPT = Verdict(Validity.ACCEPT)
UNDECIDED = Verdict(Validity.UNDECIDED)
FUTURE = Verdict(Validity.FUTURE)


def _drop(reason: DropReason, message: str) -> Verdict:
    return Verdict(Validity.DROP, reason, message)


def _check_txs(cfg: RollupConfig, timestamp: int, txs: Sequence[bytes]) -> Verdict:
    for i, tx in enumerate(txs):
        if not tx:
            return _drop(DropReason.EMPTY_TRANSACTION, f"transaction {i} is empty")
        if tx[0] == DEPOSIT:
            return _drop(DropReason.DEPOSIT_TRANSACTION, f"transaction {i} is a deposit: batches may not carry any")
        if tx[0] == SET_CODE and not cfg.is_active(Fork.ISTHMUS, timestamp):
            return _drop(DropReason.SET_CODE_BEFORE_ISTHMUS, f"transaction {i} is a set-code tx before Isthmus")
        if tx[0] == POST_EXEC and not cfg.is_active(Fork.LAGOON, timestamp):
            return _drop(DropReason.POST_EXEC_BEFORE_LAGOON, f"transaction {i} is a post-exec tx before Lagoon")
    return ACCEPT


def _check_timestamp(cfg: RollupConfig, timestamp: int, next_timestamp: int, holocene: bool) -> Verdict:
    if timestamp > next_timestamp:
        if holocene:
            return _drop(DropReason.FUTURE_TIMESTAMP, f"batch timestamp {timestamp} is after the next block's "
                         f"{next_timestamp}")
        return FUTURE
    if timestamp < next_timestamp:
        msg = f"batch timestamp {timestamp} is before the next block's {next_timestamp}"
        return Verdict(Validity.PAST, DropReason.PAST_TIMESTAMP, msg) if holocene else _drop(
            DropReason.PAST_TIMESTAMP, msg)
    return ACCEPT


def _check_drift(cfg: RollupConfig, timestamp: int, origin: L1BlockRef, txs: Sequence[bytes], origin_advanced: bool,
                 next_origin: L1BlockRef | None) -> Verdict:
    """Sequencer drift (Fjord constant by the L1 origin's time), with the empty-batch exception that keeps L2 time
    ahead of L1 time while the next L1 origin is not yet adoptable."""
    max_time = origin.time + cfg.max_sequencer_drift_at(origin.time)
    if timestamp <= max_time:
        return ACCEPT
    if txs:
        return _drop(DropReason.SEQUENCER_DRIFT_EXCEEDED, f"batch at {timestamp} with transactions exceeds the "
                     f"sequencer drift (max {max_time}); the sequencer must adopt a new L1 origin")
    if not origin_advanced:
        if next_origin is None:
            return UNDECIDED
        if timestamp >= next_origin.time:
            return _drop(DropReason.SEQUENCER_DRIFT_NOT_ADOPTED_NEXT_ORIGIN, f"empty batch at {timestamp} exceeds "
                         f"the drift while L1 block {next_origin.number} (time {next_origin.time}) could be adopted")
    return ACCEPT


def check_singular_batch(cfg: RollupConfig, l1_blocks: list[L1BlockRef], safe: L2BlockRef, batch: SingularBatch,
                         inclusion: L1BlockRef) -> Verdict:
    if not l1_blocks:
        return UNDECIDED
    epoch = l1_blocks[0]
    holocene = cfg.is_active(Fork.HOLOCENE, inclusion.time)
    v = _check_timestamp(cfg, batch.timestamp, safe.time + cfg.block_time, holocene)
    if v.validity is not Validity.ACCEPT:
        return v
    if batch.parent_hash != safe.hash:
        return _drop(DropReason.PARENT_HASH_MISMATCH, f"parent hash {batch.parent_hash.hex()[:16]} is not the safe "
                     f"head {safe.hash.hex()[:16]}")
    if batch.epoch_num + cfg.seq_window_size < inclusion.number:
        return _drop(DropReason.INCLUDED_TOO_LATE, f"epoch {batch.epoch_num} batch included in L1 block "
                     f"{inclusion.number}: sequencing window of {cfg.seq_window_size} expired")
    if batch.epoch_num < epoch.number:
        return _drop(DropReason.EPOCH_TOO_OLD, f"epoch {batch.epoch_num} is older than the safe epoch {epoch.number}")
    if batch.epoch_num == epoch.number:
        origin = epoch
    elif batch.epoch_num == epoch.number + 1:
        if len(l1_blocks) < 2:
            return UNDECIDED
        origin = l1_blocks[1]
    else:
        return _drop(DropReason.EPOCH_TOO_FAR_IN_FUTURE, f"epoch {batch.epoch_num} is more than one ahead of "
                     f"{epoch.number}")
    if batch.epoch_hash != origin.hash:
        return _drop(DropReason.EPOCH_HASH_MISMATCH, f"epoch hash {batch.epoch_hash.hex()[:16]} is not L1 block "
                     f"{origin.number}'s {origin.hash.hex()[:16]}")
    if batch.timestamp < origin.time:
        return _drop(DropReason.TIMESTAMP_BEFORE_L1_ORIGIN, f"batch timestamp {batch.timestamp} is before its L1 "
                     f"origin's {origin.time}")
    v = _check_drift(cfg, batch.timestamp, origin, batch.transactions, origin.number != epoch.number,
                     l1_blocks[1] if len(l1_blocks) > 1 else None)
    if v.validity is not Validity.ACCEPT:
        return v
    if batch.transactions and cfg.is_empty_activation_block(batch.timestamp):
        return _drop(DropReason.NON_EMPTY_ACTIVATION_BLOCK, f"the fork activation block at {batch.timestamp} must "
                     "not carry user transactions")
    return _check_txs(cfg, batch.timestamp, batch.transactions)


def check_span_batch_prefix(cfg: RollupConfig, l1_blocks: list[L1BlockRef], safe: L2BlockRef, span: SpanBatch,
                            inclusion: L1BlockRef, l2: L2Source) -> tuple[Verdict, L2BlockRef | None]:
    """The checks of a span batch as a whole; returns the verdict and the span's parent block."""
    if not l1_blocks:
        return UNDECIDED, None
    epoch = l1_blocks[0]
    start_epoch = span.start_epoch_num
    origin = epoch
    if start_epoch == epoch.number + 1:
        if len(l1_blocks) < 2:
            return UNDECIDED, None
        origin = l1_blocks[1]
    if not cfg.is_active(Fork.DELTA, origin.time):
        return _drop(DropReason.SPAN_BATCH_BEFORE_DELTA, f"span batch with L1 origin {origin.number} before "
                     "Delta"), None
    holocene = cfg.is_active(Fork.HOLOCENE, inclusion.time)
    next_ts = safe.time + cfg.block_time
    if span.timestamp > next_ts:
        if holocene:
            return _drop(DropReason.FUTURE_TIMESTAMP, f"span batch starts at {span.timestamp}, after the next "
                         f"block's {next_ts}"), None
        return FUTURE, None
    end_ts = span.elements[-1].timestamp
    if end_ts < next_ts:
        msg = f"span batch ends at {end_ts}, before the next block's {next_ts}: no new blocks"
        return (Verdict(Validity.PAST, DropReason.SPAN_NO_NEW_BLOCKS, msg) if holocene
                else _drop(DropReason.SPAN_NO_NEW_BLOCKS, msg)), None
    parent = safe
    if span.timestamp < next_ts:
        if span.timestamp > safe.time:
            return _drop(DropReason.SPAN_MISALIGNED_TIMESTAMP, "span batch start is between the safe head and the "
                         "next block: block time too short"), None
        if (safe.time - span.timestamp) % cfg.block_time:
            return _drop(DropReason.SPAN_NOT_OVERLAPPED_EXACTLY, "span batch start is not aligned with the safe "
                         "chain's blocks"), None
        parent = l2.block_ref_by_number(safe.number - (safe.time - span.timestamp) // cfg.block_time - 1)
    if span.parent_check != parent.hash[:20]:
        return _drop(DropReason.PARENT_HASH_MISMATCH, f"span batch parent check {span.parent_check.hex()} does not "
                     f"match block {parent.number} ({parent.hash.hex()[:16]})"), parent
    if start_epoch + cfg.seq_window_size < inclusion.number:
        return _drop(DropReason.INCLUDED_TOO_LATE, f"span batch starting in epoch {start_epoch} included in L1 block "
                     f"{inclusion.number}: sequencing window expired"), parent
    if start_epoch > parent.l1_origin.number + 1:
        return _drop(DropReason.EPOCH_TOO_FAR_IN_FUTURE, f"span batch starts in epoch {start_epoch}, more than one "
                     f"after its parent's {parent.l1_origin.number}"), parent
    end_epoch = span.end_epoch_num
    for b in l1_blocks:
        if b.number == end_epoch:
            if span.l1_origin_check != b.hash[:20]:
                return _drop(DropReason.EPOCH_HASH_MISMATCH, f"span batch L1 origin check does not match L1 block "
                             f"{end_epoch}"), parent
            break
    else:
        return UNDECIDED, parent
    if start_epoch < parent.l1_origin.number:
        return _drop(DropReason.EPOCH_TOO_OLD, f"span batch starts in epoch {start_epoch}, before its parent's "
                     f"{parent.l1_origin.number}"), parent
    return ACCEPT, parent


def check_span_batch(cfg: RollupConfig, l1_blocks: list[L1BlockRef], safe: L2BlockRef, span: SpanBatch,
                     inclusion: L1BlockRef, l2: L2Source) -> Verdict:
    """The whole span batch, atomically (before Holocene)."""
    v, maybe_parent = check_span_batch_prefix(cfg, l1_blocks, safe, span, inclusion, l2)
    if v.validity is not Validity.ACCEPT:
        return v
    parent = _accepted_parent(maybe_parent)
    idx = 0
    origin_advanced = span.start_epoch_num == parent.l1_origin.number + 1
    prev_epoch = 0  # read from the second block on, after the first has set it
    for i, el in enumerate(span.elements):
        if i > 0:
            origin_advanced = el.epoch_num > prev_epoch
        prev_epoch = el.epoch_num
        if el.timestamp <= safe.time:
            continue
        if el.epoch_num < safe.l1_origin.number:
            return _drop(DropReason.L1_ORIGIN_BEFORE_SAFE_HEAD, f"block at {el.timestamp} has L1 origin "
                         f"{el.epoch_num}, before the safe head's {safe.l1_origin.number}")
        for j in range(idx, len(l1_blocks)):
            if l1_blocks[j].number == el.epoch_num:
                idx = j
                break
        else:
            return _drop(DropReason.MISSING_L1_ORIGIN, f"block at {el.timestamp}: L1 origin {el.epoch_num} is not "
                         "among the buffered L1 blocks")
        origin = l1_blocks[idx]
        if el.timestamp < origin.time:
            return _drop(DropReason.TIMESTAMP_BEFORE_L1_ORIGIN, f"block at {el.timestamp} is before its L1 origin's "
                         f"time {origin.time}")
        v = _check_drift(cfg, el.timestamp, origin, el.transactions, origin_advanced,
                         l1_blocks[idx + 1] if idx + 1 < len(l1_blocks) else None)
        if v.validity is not Validity.ACCEPT:
            return v
        v = _check_txs(cfg, el.timestamp, el.transactions)
        if v.validity is not Validity.ACCEPT:
            return v
    return check_span_batch_overlap(cfg, safe, span, parent, l2)


def check_span_batch_holocene(cfg: RollupConfig, l1_blocks: list[L1BlockRef], safe: L2BlockRef, span: SpanBatch,
                              inclusion: L1BlockRef, l2: L2Source) -> tuple[Verdict, L2BlockRef | None]:
    """A span batch from Holocene: the prefix checks, then the overlap checks (specs PR #928, 2026-08-13; op-node
    ``checkSpanBatchHolocene``, PR #22215/#22489: a retroactive rule, on the assumption that no production chain
    ever posted an overlap that disagreed with its safe chain); its blocks are then checked one by one."""
    v, parent = check_span_batch_prefix(cfg, l1_blocks, safe, span, inclusion, l2)
    if v.validity is not Validity.ACCEPT:
        return v, parent
    return check_span_batch_overlap(cfg, safe, span, _accepted_parent(parent), l2), parent


def _accepted_parent(parent: L2BlockRef | None) -> L2BlockRef:
    """The span's parent block, which :func:`check_span_batch_prefix` returns with every ACCEPT."""
    if parent is None:
        raise CriticalError("span batch prefix accepted without a parent block")
    return parent


def check_span_batch_overlap(cfg: RollupConfig, safe: L2BlockRef, span: SpanBatch, parent: L2BlockRef,
                             l2: L2Source) -> Verdict:
    """The span's blocks at or below the safe head must be the safe chain's: same user transactions (deposits
    excluded), same L1 origin (op-node ``checkSpanBatchOverlap``)."""
    next_ts = safe.time + cfg.block_time
    if span.timestamp < next_ts:
        for k in range(safe.number - parent.number):
            number = parent.number + k + 1
            safe_txs = l2.transactions(number)
            ref = l2.block_ref_by_number(number)
            batch_txs = span.elements[k].transactions
            user_txs = [t for t in safe_txs if t[:1] != bytes((DEPOSIT,))]
            if len(user_txs) != len(batch_txs):
                return _drop(DropReason.OVERLAPPED_TX_COUNT_MISMATCH, f"overlapped block {number} has "
                             f"{len(user_txs)} user txs, the span batch {len(batch_txs)}")
            if any(a != b for a, b in zip(user_txs, batch_txs, strict=True)):
                return _drop(DropReason.OVERLAPPED_TX_MISMATCH, f"overlapped block {number} has other transactions")
            if ref.l1_origin.number != span.elements[k].epoch_num:
                return _drop(DropReason.OVERLAPPED_L1_ORIGIN_MISMATCH, f"overlapped block {number} has L1 origin "
                             f"{ref.l1_origin.number}, the span batch {span.elements[k].epoch_num}")
    return ACCEPT


class SpanBlocks:
    """The blocks of an accepted span batch after ``parent``, handed out one at a time as singular batches (op-node
    ``SpanBatch.GetSingularBatches``). They are made when taken, not all at once, so a span's length costs nothing
    until its blocks pass the per-block rules; every block's L1 origin must be among the buffered L1 blocks,
    checked up front as op-node does while building them all (its error drops the span)."""

    @overload
    def __init__(self) -> None: ...

    @overload
    def __init__(self, span: SpanBatch, l1_blocks: Sequence[L1BlockRef], parent: L2BlockRef) -> None: ...

    def __init__(self, span: SpanBatch | None = None, l1_blocks: Sequence[L1BlockRef] = (),
                 parent: L2BlockRef | None = None):
        self._left = 0
        self._head: SpanBatchElement | None = None
        self._epochs: dict[int, L1BlockRef] = {}
        self._rest: Iterator[SpanBatchElement] = iter(())
        if span is None or parent is None:  # no span (the overloads pass a parent with every span)
            return
        self._epochs = {b.number: b for b in l1_blocks}
        self._rest = iter(span.elements)
        skipped = 0
        for el in self._rest:
            if el.timestamp > parent.time:
                self._head = el
                break
            skipped += 1
        else:
            return
        lo, hi = self._head.epoch_num, span.end_epoch_num
        missing = lo if not lo <= hi < lo + len(self._epochs) else next(
            (n for n in range(lo, hi + 1) if n not in self._epochs), None)
        if missing is not None:
            raise ParseError(f"L1 origin {missing} of the span batch blocks from {self._head.timestamp} is not "
                             "buffered")
        self._left = len(span.elements) - skipped

    def __len__(self) -> int:
        return self._left

    def peek(self) -> SpanBatchElement:
        if self._head is None:
            raise CriticalError("no span batch block left to read")
        return self._head

    def pop(self, parent: L2BlockRef) -> SingularBatch:
        """The next block as a singular batch on ``parent``."""
        el = self.peek()
        self._left -= 1
        self._head = next(self._rest, None)
        return SingularBatch(parent.hash, el.epoch_num, self._epochs[el.epoch_num].hash, el.timestamp, el.transactions)
