"""Batch stage, from Holocene (specs: holocene/derivation.md "Batch Queue"; op-node ``BatchStage``).

No buffering or reordering: each batch is valid now or dropped. A span batch's prefix and its overlap with the safe
chain are checked once (the overlap check is op-node PR #22215, 2026-08-19, applied retroactively), then its blocks
are validated one by one as singular batches; the first invalid block drops the rest of the span and of its channel
(fast channel invalidation). Past batches are skipped without a flush. Deposit-only batches are generated only after
all data of the L1 block has been read. Every batch handed on concludes its pending-safe phase, so the safe head
moves with each derived block, deposit-only ones included (op-node PR #12724: Holocene removed the backwards
invalidation that made only a span's last block concluding).
"""

from __future__ import annotations

from derivation.events import BatchAccepted, Dropped, DropReason
from derivation.protocol.batches import SingularBatch
from derivation.protocol.errors import CriticalError, ParseError, ResetError
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.span_elements import SpanBatch
from derivation.protocol.types import L1BlockRef, L2BlockRef
from derivation.providers import L2Source
from derivation.stages.batch_base import BatchStageBase
from derivation.stages.batch_validity import (
    SpanBlocks,
    Validity,
    Verdict,
    check_singular_batch,
    check_span_batch_holocene,
    dropped_reason,
)
from derivation.stages.channel_reader import ChannelReader
from derivation.stages.flow import EOF, Emit, NotEnoughData


class BatchStage(BatchStageBase):
    def __init__(self, cfg: RollupConfig, prev: ChannelReader, l2: L2Source, emit: Emit):
        super().__init__(cfg, prev, l2, emit)
        self._pending: SingularBatch | SpanBatch | None = None  # read but not yet decided (waiting for L2 data)

    def reset(self, base: L1BlockRef) -> None:
        super().reset(base)
        self._pending = None

    def flush(self) -> None:
        """Drop the rest of the current span batch and channel (invalid batch or invalid payload)."""
        if self.next_span:
            self.emit(Dropped(self.prev.origin, "batch", DropReason.SPAN_REMAINDER_FLUSHED,
                              f"{len(self.next_span)} remaining blocks of the span batch dropped"))
        self.next_span = SpanBlocks()
        self._pending = None
        self.prev.flush()

    def _dropped(self, b: SingularBatch | SpanBatch, v: Verdict) -> None:
        self.emit(Dropped(self.origin, "batch", dropped_reason(v), v.message, {"timestamp": b.timestamp}))

    def next_batch(self, parent: L2BlockRef) -> tuple[SingularBatch, bool]:
        self.update_origins(parent)
        if self.origin_behind(parent) or parent.l1_origin.number == self.origin.number:
            # A channel from the safe head's own L1 origin (or earlier) can only hold past batches.
            b = self.prev.next_batch()
            self.emit(Dropped(self.origin, "batch", DropReason.ORIGIN_BEHIND,
                              f"batch at {b.timestamp} read while the L1 origin is not past the safe head's"))
            raise NotEnoughData
        if len(self.l1_blocks) < 2:
            raise CriticalError(f"batch stage holds {len(self.l1_blocks)} L1 blocks at origin {self.origin.number}; "
                                "derivation did not start at a safe head")
        epoch = self.l1_blocks[0]
        if parent.l1_origin != epoch.id and parent.l1_origin.number != epoch.number - 1:
            raise ResetError(f"buffered L1 epoch {epoch.number} does not match the safe head's L1 origin "
                             f"{parent.l1_origin.number}")
        try:
            batch = self._candidate(parent)
        except EOF:
            return self.empty_batch(True, parent), True
        v = check_singular_batch(self.cfg, self.l1_blocks, parent, batch, self.origin)
        if v.validity is Validity.ACCEPT:
            self.emit(BatchAccepted(self.origin, batch.timestamp, batch.epoch_num, len(batch.transactions),
                                    False))
            return batch, True
        if v.validity is Validity.PAST:
            self._dropped(batch, v)
            raise NotEnoughData
        if v.validity is Validity.DROP:
            self._dropped(batch, v)
            self.flush()
            raise NotEnoughData
        if v.validity is Validity.UNDECIDED:
            raise NotEnoughData
        raise CriticalError(f"impossible batch validity {v.validity} after Holocene")

    def _candidate(self, parent: L2BlockRef) -> SingularBatch:
        if (b := self.next_from_span(parent)) is not None:
            return b
        batch = self._pending if self._pending is not None else self.prev.next_batch()
        self._pending = batch  # kept while the prefix check waits for L2 data (NeedData)
        if isinstance(batch, SingularBatch):
            self._pending = None
            return batch
        v, _ = check_span_batch_holocene(self.cfg, self.l1_blocks, parent, batch, self.origin, self.l2)
        self._pending = None
        if v.validity is Validity.ACCEPT:
            try:
                self.next_span = SpanBlocks(batch, self.l1_blocks, parent)
            except ParseError as e:
                # An outdated L1 origin inside an overlapping span is an invalid batch, not a halt (op-node fix).
                self._dropped(batch, Verdict(Validity.DROP, DropReason.MISSING_L1_ORIGIN, str(e)))
                self.flush()
                raise NotEnoughData from None
            return self.pop_span(parent)
        if v.validity is Validity.PAST:
            self._dropped(batch, v)
            raise NotEnoughData
        if v.validity is Validity.DROP:
            self._dropped(batch, v)
            self.flush()
            raise NotEnoughData
        if v.validity is Validity.UNDECIDED:
            # op-node moves on without the batch (no flush): its end epoch is not among the buffered L1 blocks.
            self._dropped(batch, Verdict(Validity.DROP, DropReason.MISSING_L1_ORIGIN,
                                         "span batch's last L1 origin is not among the buffered L1 blocks"))
            raise NotEnoughData
        raise CriticalError("impossible future span batch after Holocene")
