"""Channel reader (specs: derivation.md "Channel Format", fjord/ and delta/ derivation.md).

Decompresses the current channel with the RLP byte limit and brotli allowance of its L1 origin (Fjord), and reads
its batches one at a time. A batch that does not decode ends the channel; a span batch whose L1 origin is before
Delta is skipped (op-node drops it early by the reader's origin time; the batch queue checks again by the span's
L1 origin); a span batch whose transactions cannot be rebuilt, or that carries a post-exec transaction in a block
before Lagoon, is skipped and the channel read on (op-node ``ChannelInReader``: "dropping malformed span batch"). ``flush`` drops the rest of the channel (Holocene fast channel
invalidation).
"""

from __future__ import annotations

from derivation.events import BatchRead, Dropped, DropReason
from derivation.protocol.batch_reader import BatchReader
from derivation.protocol.batches import SingularBatch
from derivation.protocol.errors import drop_message
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.span_batch import check_post_exec
from derivation.protocol.span_elements import SpanBatch
from derivation.protocol.types import L1BlockRef
from derivation.stages.channel_assembler import ChannelAssembler
from derivation.stages.channel_bank import ChannelBank
from derivation.stages.flow import Emit, NotEnoughData


class ChannelReader:
    def __init__(self, cfg: RollupConfig, prev: ChannelBank | ChannelAssembler, emit: Emit):
        self.cfg = cfg
        self.prev = prev  # the channel assembler from Holocene (swapped by the pipeline)
        self.emit = emit
        self.reader: BatchReader | None = None
        self.channel_id = b""

    @property
    def origin(self) -> L1BlockRef:
        return self.prev.origin

    def next_batch(self) -> SingularBatch | SpanBatch:
        origin = self.origin
        if self.reader is None:
            ch, data = self.prev.next_data()  # EOF and NotEnoughData pass through
            self.channel_id = ch.id
            try:
                self.reader = BatchReader(data, self.cfg.max_rlp_bytes_per_channel(origin.time),
                                          self.cfg.is_active(Fork.FJORD, origin.time))
            except Exception as e:  # CompressionError, or a decoder bug (drop_message)
                self._channel_dropped(DropReason.CHANNEL_INVALID, drop_message(e))
                raise NotEnoughData from None
        try:
            batch = next(self.reader)
        except StopIteration:
            if self.reader.error:
                self._channel_dropped(DropReason.BATCH_UNDECODABLE, self.reader.error)
            self.reader = None
            raise NotEnoughData from None
        size = self.reader.last_size
        if isinstance(batch, SingularBatch):
            self.emit(BatchRead(origin, "singular", batch.timestamp, 1, len(batch.transactions), size, self.channel_id,
                                self.reader.compression))
            return batch
        if not self.cfg.is_active(Fork.DELTA, origin.time):
            self._batch_dropped(DropReason.SPAN_BATCH_BEFORE_DELTA,
                                f"span batch read in L1 block {origin.number} before Delta")
            raise NotEnoughData
        try:
            span = batch.derive(self.cfg.block_time, self.cfg.genesis.l2_time, self.cfg.l2_chain_id)
            check_post_exec(span, self.cfg)
        except Exception as e:  # ParseError, or a decoder bug (drop_message)
            self._batch_dropped(DropReason.BATCH_UNDECODABLE, f"span batch: {drop_message(e)}")
            raise NotEnoughData from None
        self.emit(BatchRead(origin, "span", span.timestamp, span.block_count, batch.total_txs, size, self.channel_id,
                            self.reader.compression))
        return span

    def _channel_dropped(self, reason: DropReason, message: str) -> None:
        self.emit(Dropped(self.origin, "channel", reason, f"channel {self.channel_id.hex()}: {message}",
                          {"channel_id": self.channel_id.hex()}))

    def _batch_dropped(self, reason: DropReason, message: str) -> None:
        self.emit(Dropped(self.origin, "batch", reason, message, {"channel_id": self.channel_id.hex()}))

    def flush(self) -> None:
        if self.reader is not None:
            self._channel_dropped(DropReason.CHANNEL_FLUSHED, "rest of the channel dropped after an invalid batch")
        self.reader = None

    def reset(self) -> None:
        self.reader = None
