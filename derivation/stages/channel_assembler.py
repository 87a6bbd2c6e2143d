"""Channel assembler, from Holocene (specs: holocene/derivation.md "Channel Bank").

One staging channel at a time, frames strictly in order: a first frame starts a new channel (dropping an
unfinished one), other frames must continue the staging channel. The staging channel is dropped when it times out
or when its compressed size (frames plus 200 bytes each) exceeds ``MAX_RLP_BYTES_PER_CHANNEL``; a closing frame
hands it on at once.
"""

from __future__ import annotations

from derivation.events import ChannelReady, Dropped, DropReason
from derivation.protocol.channel import Channel, FrameRejected
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.types import L1BlockRef
from derivation.stages.flow import Emit
from derivation.stages.frame_queue import FrameQueue


class ChannelAssembler:
    def __init__(self, cfg: RollupConfig, prev: FrameQueue, emit: Emit):
        self.cfg = cfg
        self.prev = prev
        self.emit = emit
        self.channel: Channel | None = None

    @property
    def origin(self) -> L1BlockRef:
        return self.prev.origin

    def _drop(self, ch: Channel, reason: DropReason, message: str) -> None:
        self.emit(Dropped(self.origin, "channel", reason, message, {"channel_id": ch.id.hex(), "frames": len(ch.frames)}))
        self.channel = None

    def next_data(self) -> tuple[Channel, bytes]:
        origin = self.origin
        if self.channel is not None and self.channel.is_timed_out(origin.number, self.cfg.channel_timeout_at(origin.time)):
            self._drop(self.channel, DropReason.CHANNEL_TIMEOUT, f"channel {self.channel.id.hex()} opened in L1 block "
                       f"{self.channel.open_block.number} timed out")
        while True:
            frame = self.prev.next_frame()  # EOF and NotEnoughData pass through
            if frame.number == 0:
                if self.channel is not None:
                    self._drop(self.channel, DropReason.CHANNEL_REPLACED, f"unfinished channel {self.channel.id.hex()} replaced by "
                               f"new channel {frame.channel_id.hex()}")
                self.channel = Channel(frame.channel_id, origin, require_in_order=True)
            elif self.channel is None:
                self.emit(Dropped(origin, "frame", DropReason.FRAME_WITHOUT_CHANNEL,
                                  f"frame {frame.number} of channel {frame.channel_id.hex()} without its first frame",
                                  {"channel_id": frame.channel_id.hex(), "frame_number": frame.number}))
                continue
            try:
                self.channel.add_frame(frame, origin)
            except FrameRejected as e:
                self.emit(Dropped(origin, "frame", DropReason.FRAME_REJECTED, str(e),
                                  {"channel_id": frame.channel_id.hex(), "frame_number": frame.number}))
                continue
            limit = self.cfg.max_rlp_bytes_per_channel(origin.time)
            if self.channel.size > limit:
                self._drop(self.channel, DropReason.CHANNEL_OVERSIZED, f"channel {self.channel.id.hex()} is {self.channel.size} "
                           f"bytes, over the {limit}-byte limit")
                continue
            if frame.is_last:
                break
        ch, self.channel = self.channel, None
        data = ch.data()
        self.emit(ChannelReady(origin, ch.id, len(ch.frames), len(data), ch.open_block.number))
        return ch, data

    def reset(self) -> None:
        self.channel = None

    def flush(self) -> None:
        """Holocene fast channel invalidation reaches only the channel reader: the assembler holds no channel then."""

    @property
    def buffered_bytes(self) -> int:
        return 0 if self.channel is None else self.channel.size
