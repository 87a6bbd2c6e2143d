"""Frame queue (specs: derivation.md "Frame Queue", holocene/derivation.md "Frame Queue").

Parses each batcher data item into frames; an item that does not parse is dropped whole. From Holocene (clock: the
L1 inclusion block's time) the queue only keeps frames that can form ordered, contiguous channels: within a channel
frames must follow each other, a new channel's first frame discards an unclosed one before it, and a non-first
frame of a new channel is dropped (holocene/derivation.md §Frame Queue; op-node ``pruneFrameQueue``).
"""

from __future__ import annotations

from derivation.events import Dropped, DropReason, FramesRead
from derivation.protocol.errors import drop_message
from derivation.protocol.frames import Frame, parse_frames
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.types import L1BlockRef
from derivation.stages.flow import Emit, NotEnoughData
from derivation.stages.l1_retrieval import L1Retrieval


class FrameQueue:
    def __init__(self, cfg: RollupConfig, prev: L1Retrieval, emit: Emit):
        self.cfg = cfg
        self.prev = prev
        self.emit = emit
        self.frames: list[Frame] = []

    @property
    def origin(self) -> L1BlockRef:
        return self.prev.origin

    def next_frame(self) -> Frame:
        if not self.frames:
            self._load()
            if not self.frames:
                raise NotEnoughData
        return self.frames.pop(0)

    def _load(self) -> None:
        index, data = self.prev.next_data()
        origin = self.origin
        try:
            frames = parse_frames(data)
        except Exception as e:  # FrameError, or a decoder bug (drop_message)
            self.emit(Dropped(origin, "data", DropReason.INVALID_BATCHER_TX_DATA, f"data item {index}: {drop_message(e)}",
                              {"data_index": index, "size": len(data)}))
            return
        self.emit(FramesRead(origin, index, tuple((f.channel_id, f.number, len(f.data), f.is_last) for f in frames)))
        self.frames.extend(frames)
        if self.cfg.is_active(Fork.HOLOCENE, origin.time):
            self.frames = self._prune(self.frames)

    def _prune(self, frames: list[Frame]) -> list[Frame]:
        i = 0
        while i < len(frames) - 1:
            cur, nxt = frames[i], frames[i + 1]
            if cur.channel_id == nxt.channel_id:
                if cur.is_last or nxt.number != cur.number + 1:
                    self._drop(frames.pop(i + 1), "follows a closing frame" if cur.is_last else
                               f"does not follow frame {cur.number}")
                    continue
            elif nxt.number == 0 and not cur.is_last:
                self._drop(frames.pop(i), "its channel is unclosed and a new channel starts")
                if i > 0:
                    i -= 1
                continue
            elif nxt.number != 0:
                self._drop(frames.pop(i + 1), "non-first frame of a new channel")
                continue
            i += 1
        return frames

    def _drop(self, f: Frame, why: str) -> None:
        self.emit(Dropped(self.origin, "frame", DropReason.FRAME_OUT_OF_ORDER,
                          f"frame {f.number} of channel {f.channel_id.hex()}: {why}",
                          {"channel_id": f.channel_id.hex(), "frame_number": f.number}))

    def reset(self) -> None:
        self.frames.clear()
