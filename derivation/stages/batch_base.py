"""What the pre-Holocene batch queue and the Holocene batch stage share: the buffered L1 blocks (epochs), the
cache of singular batches from an accepted span batch, and deposit-only batch generation when the sequencing
window expires (specs: derivation.md "Batch Queue"; op-node ``baseBatchStage``)."""

from __future__ import annotations

from derivation.events import Dropped, DropReason, EmptyBatchGenerated
from derivation.protocol.batches import SingularBatch
from derivation.protocol.errors import ResetError
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.types import L1BlockRef, L2BlockRef
from derivation.providers import L2Source
from derivation.stages.batch_validity import SpanBlocks
from derivation.stages.channel_reader import ChannelReader
from derivation.stages.flow import EOF, Emit


class BatchStageBase:
    def __init__(self, cfg: RollupConfig, prev: ChannelReader, l2: L2Source, emit: Emit):
        self.cfg = cfg
        self.prev = prev
        self.l2 = l2
        self.emit = emit
        self._origin: L1BlockRef | None = None  # the L1 block batches currently read were included in
        self.l1_blocks: list[L1BlockRef] = []  # l1_blocks[0] is the safe head's epoch (or the next one)
        self.next_span = SpanBlocks()

    @property
    def origin(self) -> L1BlockRef:
        if self._origin is None:
            raise ResetError("the batch stage has no L1 origin: the pipeline has not been reset yet")
        return self._origin

    def take_state(self, other: BatchStageBase) -> None:
        """Continue from another batch stage's epochs (at Holocene activation), without its buffered batches."""
        self._origin = other._origin
        self.l1_blocks = list(other.l1_blocks)

    def reset(self, base: L1BlockRef) -> None:
        self._origin = base
        self.l1_blocks = [base]
        self.next_span = SpanBlocks()

    def origin_behind(self, parent: L2BlockRef) -> bool:
        return self.prev.origin.number < parent.l1_origin.number

    def update_origins(self, parent: L2BlockRef) -> None:
        behind = self.origin_behind(parent)
        if self._origin != self.prev.origin:
            self._origin = self.prev.origin
            if not behind:
                self.l1_blocks.append(self._origin)
            else:
                self.l1_blocks = []
        if self.l1_blocks and parent.l1_origin.number > self.l1_blocks[0].number:
            for i, b in enumerate(self.l1_blocks):
                if b.number == parent.l1_origin.number:
                    self.l1_blocks = self.l1_blocks[i:]
                    break

    def next_from_span(self, parent: L2BlockRef) -> SingularBatch | None:
        """The next cached span block if it follows ``parent``; a cache that does not follow is dropped."""
        if not self.next_span:
            return None
        if self.next_span.peek().timestamp == parent.time + self.cfg.block_time:
            return self.pop_span(parent)
        self.emit(Dropped(self.prev.origin, "batch", DropReason.SPAN_CACHE_MISMATCH,
                          f"{len(self.next_span)} cached span blocks do not follow block {parent.number}"))
        self.next_span = SpanBlocks()
        return None

    def pop_span(self, parent: L2BlockRef) -> SingularBatch:
        return self.next_span.pop(parent)

    def empty_batch(self, out_of_data: bool, parent: L2BlockRef) -> SingularBatch:
        """A deposit-only batch once the epoch's sequencing window has expired (derivation.md §Batch Queue); EOF
        when not (yet) allowed. May move to the next epoch."""
        epoch = self.l1_blocks[0]
        expiry = epoch.number + self.cfg.seq_window_size
        if not ((expiry == self.origin.number and out_of_data) or expiry < self.origin.number):
            raise EOF
        if len(self.l1_blocks) < 2:
            raise EOF
        next_epoch = self.l1_blocks[1]
        ts = parent.time + self.cfg.block_time
        if ts < next_epoch.time or epoch.number == parent.l1_origin.number + 1:
            self.emit(EmptyBatchGenerated(self.origin, ts, epoch.number))
            return SingularBatch(parent.hash, epoch.number, epoch.hash, ts, ())
        self.l1_blocks = self.l1_blocks[1:]
        raise EOF

    @property
    def buffered_batches(self) -> int:
        return len(self.next_span)
