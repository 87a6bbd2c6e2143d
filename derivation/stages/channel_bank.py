"""Channel bank, before Holocene (specs: derivation.md "Channel Bank").

Channels are kept in first-seen (FIFO) order. A frame for a timed-out channel is ignored; after each accepted frame
the oldest channels are pruned while the total size exceeds ``MAX_CHANNEL_BANK_SIZE``. Reading first removes a
timed-out head channel; before Canyon only the head channel may be read, from Canyon (clock: the bank's L1 origin)
the first ready channel in FIFO order. A channel entry is created even if its first frame is then rejected
(op-node does the same, and it decides pruning order).
"""

from __future__ import annotations

from derivation.events import ChannelReady, Dropped, DropReason
from derivation.protocol.channel import Channel, FrameRejected
from derivation.protocol.frames import Frame
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.types import L1BlockRef
from derivation.stages.flow import Emit, NotEnoughData
from derivation.stages.frame_queue import FrameQueue


class ChannelBank:
    def __init__(self, cfg: RollupConfig, prev: FrameQueue, emit: Emit):
        self.cfg = cfg
        self.prev = prev
        self.emit = emit
        self.channels: dict[bytes, Channel] = {}  # insertion order is the FIFO queue

    @property
    def origin(self) -> L1BlockRef:
        return self.prev.origin

    def _timed_out(self, ch: Channel) -> bool:
        o = self.origin
        return ch.is_timed_out(o.number, self.cfg.channel_timeout_at(o.time))

    def next_data(self) -> tuple[Channel, bytes]:
        """A ready channel and its data. NotEnoughData after ingesting a frame; EOF when the frame queue is dry."""
        read = self._read()
        if read is not None:
            return read
        frame = self.prev.next_frame()  # EOF and NotEnoughData pass through
        self._ingest(frame)
        raise NotEnoughData

    def _read(self) -> tuple[Channel, bytes] | None:
        while self.channels:
            first = next(iter(self.channels.values()))
            if not self._timed_out(first):
                break
            del self.channels[first.id]
            self.emit(Dropped(self.origin, "channel", DropReason.CHANNEL_TIMEOUT,
                              f"channel {first.id.hex()} opened in L1 block {first.open_block.number} timed out",
                              {"channel_id": first.id.hex(), "frames": len(first.frames)}))
        if not self.channels:
            return None
        candidates = list(self.channels.values())
        if not self.cfg.is_active(Fork.CANYON, self.origin.time):
            candidates = candidates[:1]
        for ch in candidates:
            if ch.is_ready() and not self._timed_out(ch):
                del self.channels[ch.id]
                data = ch.data()
                self.emit(ChannelReady(self.origin, ch.id, len(ch.frames), len(data), ch.open_block.number))
                return ch, data
        return None

    def _ingest(self, f: Frame) -> None:
        origin = self.origin
        ch = self.channels.get(f.channel_id)
        if ch is None:
            ch = self.channels[f.channel_id] = Channel(f.channel_id, origin)
        if self._timed_out(ch):
            self.emit(Dropped(origin, "frame", DropReason.CHANNEL_TIMED_OUT_FRAME,
                              f"frame {f.number} for timed-out channel {f.channel_id.hex()}",
                              {"channel_id": f.channel_id.hex(), "frame_number": f.number}))
            return
        try:
            ch.add_frame(f, origin)
        except FrameRejected as e:
            self.emit(Dropped(origin, "frame", DropReason.FRAME_REJECTED, str(e),
                              {"channel_id": f.channel_id.hex(), "frame_number": f.number}))
            return
        self._prune()

    def _prune(self) -> None:
        total = sum(ch.size for ch in self.channels.values())
        limit = self.cfg.max_channel_bank_size(self.origin.time)
        while total > limit:
            ch = self.channels.pop(next(iter(self.channels)))
            total -= ch.size
            self.emit(Dropped(self.origin, "channel", DropReason.CHANNEL_PRUNED,
                              f"channel {ch.id.hex()} pruned: channel bank over {limit} bytes",
                              {"channel_id": ch.id.hex(), "size": ch.size}))

    def reset(self) -> None:
        self.channels.clear()

    def flush(self) -> None:
        """Nothing to flush before Holocene: channels are independent."""

    @property
    def buffered_bytes(self) -> int:
        return sum(ch.size for ch in self.channels.values())
