"""Batch queue, before Holocene (specs: derivation.md "Batch Queue"; op-node ``BatchQueue``).

Batches are buffered with their L1 inclusion block; each step re-checks them in inclusion order: drop removes,
future waits, undecided stops the scan, the first accepted wins. When nothing is accepted and the sequencing window
has expired, deposit-only batches fill the gap. A span batch is accepted or dropped as a whole and then handed out
block by block.
"""

from __future__ import annotations

from dataclasses import dataclass

from derivation.events import BatchAccepted, Dropped
from derivation.protocol.batches import SingularBatch
from derivation.protocol.errors import CriticalError, ParseError, ResetError
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.span_elements import SpanBatch
from derivation.protocol.types import L1BlockRef, L2BlockRef
from derivation.providers import L2Source, NeedData
from derivation.stages.batch_base import BatchStageBase
from derivation.stages.batch_validity import (
    SpanBlocks,
    Validity,
    Verdict,
    check_singular_batch,
    check_span_batch,
    dropped_reason,
)
from derivation.stages.channel_reader import ChannelReader
from derivation.stages.flow import EOF, Emit, NotEnoughData


@dataclass(slots=True)
class _Queued:
    batch: SingularBatch | SpanBatch
    inclusion: L1BlockRef


class BatchQueue(BatchStageBase):
    def __init__(self, cfg: RollupConfig, prev: ChannelReader, l2: L2Source, emit: Emit):
        super().__init__(cfg, prev, l2, emit)
        self.batches: list[_Queued] = []

    def reset(self, base: L1BlockRef) -> None:
        super().reset(base)
        self.batches = []

    def _check(self, q: _Queued, parent: L2BlockRef) -> Verdict:
        if isinstance(q.batch, SingularBatch):
            return check_singular_batch(self.cfg, self.l1_blocks, parent, q.batch, q.inclusion)
        return check_span_batch(self.cfg, self.l1_blocks, parent, q.batch, q.inclusion, self.l2)

    def _dropped(self, q: _Queued, v: Verdict) -> None:
        self.emit(Dropped(q.inclusion, "batch", dropped_reason(v), v.message,
                          {"timestamp": q.batch.timestamp, "inclusion": q.inclusion.number}))

    def next_batch(self, parent: L2BlockRef) -> tuple[SingularBatch, bool]:
        """The next batch on ``parent`` and whether it concludes its span."""
        if (b := self.next_from_span(parent)) is not None:
            return b, not self.next_span
        self.update_origins(parent)
        behind = self.origin_behind(parent)
        out_of_data = False
        try:
            batch = self.prev.next_batch()
        except EOF:
            out_of_data = True
        else:
            if not behind:
                self._add(batch, parent)
        if behind:
            raise EOF if out_of_data else NotEnoughData
        try:
            chosen = self._derive_next(out_of_data, parent)
        except EOF:
            if out_of_data:
                raise
            raise NotEnoughData from None
        if isinstance(chosen, SingularBatch):
            return chosen, True
        try:
            self.next_span = SpanBlocks(chosen, self.l1_blocks, parent)
        except ParseError as e:
            raise CriticalError(f"accepted span batch cannot be split: {e}") from None
        return self.pop_span(parent), not self.next_span

    def _add(self, batch: SingularBatch | SpanBatch, parent: L2BlockRef) -> None:
        q = _Queued(batch, self.origin)
        try:
            v = self._check(q, parent)
        except NeedData:
            v = Verdict(Validity.UNDECIDED)  # checked again when the L2 data is there, like op-node
        if v.validity is Validity.DROP:
            self._dropped(q, v)
            return
        self.batches.append(q)

    def _derive_next(self, out_of_data: bool, parent: L2BlockRef) -> SingularBatch | SpanBatch:
        if not self.l1_blocks:
            raise CriticalError("batch queue has no L1 origin")
        epoch = self.l1_blocks[0]
        if parent.l1_origin != epoch.id and parent.l1_origin.number != epoch.number - 1:
            raise ResetError(f"buffered L1 epoch {epoch.number} does not match the safe head's L1 origin "
                             f"{parent.l1_origin.number}")
        remaining: list[_Queued] = []
        drops: list[tuple[_Queued, Verdict]] = []
        chosen = None
        for i, q in enumerate(self.batches):
            v = self._check(q, parent)  # NeedData leaves the queue untouched
            if v.validity is Validity.FUTURE:
                remaining.append(q)
            elif v.validity is Validity.DROP:
                drops.append((q, v))
            elif v.validity is Validity.ACCEPT:
                chosen = q
                remaining.extend(self.batches[i + 1:])
                break
            else:
                remaining.extend(self.batches[i:])
                self._commit(remaining, drops)
                raise EOF
        self._commit(remaining, drops)
        if chosen is not None:
            b = chosen.batch
            self.emit(BatchAccepted(chosen.inclusion, b.timestamp, b.elements[0].epoch_num if isinstance(
                b, SpanBatch) else b.epoch_num, len(b.transactions) if isinstance(b, SingularBatch) else
                sum(len(e.transactions) for e in b.elements), isinstance(b, SpanBatch)))
            return b
        return self.empty_batch(out_of_data, parent)

    def _commit(self, remaining: list[_Queued], drops: list[tuple[_Queued, Verdict]]) -> None:
        self.batches = remaining
        for q, v in drops:
            self._dropped(q, v)

    @property
    def buffered_batches(self) -> int:
        return len(self.batches) + len(self.next_span)

    def flush(self) -> None:
        """Pre-Holocene batches are independent of each other: an invalid payload leaves the queue as is."""
