"""A channel being assembled from frames (specs: derivation.md, Channel Bank; holocene/derivation.md).

Mirrors op-node's ``Channel``: frames may arrive out of order (pre-Holocene) or must arrive in order (Holocene);
the channel is ready when closed and frames ``0..end`` are all present. Size accounting includes op-node's quirk
on the closing-frame prune path (op-node ``Channel.AddFrame``, kona ``Channel::add_frame``), which decides FIFO
pruning order at the bank size limit.
"""

from __future__ import annotations

from derivation.protocol.errors import ParseError
from derivation.protocol.frames import Frame
from derivation.protocol.types import L1BlockRef


class FrameRejected(ParseError):
    """A frame that the channel refuses (duplicate, after the end, out of order, second closing frame)."""


class Channel:
    __slots__ = ("id", "open_block", "require_in_order", "size", "closed", "highest_frame_number",
                 "end_frame_number", "frames", "highest_l1_inclusion_block")

    def __init__(self, channel_id: bytes, open_block: L1BlockRef, require_in_order: bool = False):
        self.id = channel_id
        self.open_block = open_block
        self.require_in_order = require_in_order
        self.size = 0
        self.closed = False
        self.highest_frame_number = 0
        self.end_frame_number = 0
        self.frames: dict[int, Frame] = {}
        self.highest_l1_inclusion_block = open_block

    def add_frame(self, frame: Frame, l1_inclusion_block: L1BlockRef) -> None:
        """Buffer ``frame`` or raise FrameRejected (the rules are consensus: op-node ``Channel.AddFrame``)."""
        if frame.channel_id != self.id:
            raise FrameRejected(f"frame for channel {frame.channel_id.hex()} added to channel {self.id.hex()}")
        if frame.is_last and self.closed:
            raise FrameRejected(f"channel {self.id.hex()} is already closed: second closing frame")
        if frame.number in self.frames:
            raise FrameRejected(f"duplicate frame {frame.number} in channel {self.id.hex()}")
        if self.closed and frame.number >= self.end_frame_number:
            raise FrameRejected(f"frame {frame.number} is at or after the closing frame {self.end_frame_number} "
                                f"of channel {self.id.hex()}")
        if self.require_in_order and frame.number != len(self.frames):
            raise FrameRejected(f"frame {frame.number} out of order in channel {self.id.hex()}, "
                                f"expected {len(self.frames)}")
        if frame.is_last:
            self.end_frame_number = frame.number
            self.closed = True
            if self.end_frame_number < self.highest_frame_number:
                # op-node subtracts the size of every buffered frame here, not only of the pruned ones.
                for n in [n for n in self.frames if n >= self.end_frame_number]:
                    del self.frames[n]
                self.size = 0
                self.highest_frame_number = self.end_frame_number
        if frame.number > self.highest_frame_number:
            self.highest_frame_number = frame.number
        if l1_inclusion_block.number > self.highest_l1_inclusion_block.number:
            self.highest_l1_inclusion_block = l1_inclusion_block
        self.frames[frame.number] = frame
        self.size += frame.size

    def is_ready(self) -> bool:
        return self.closed and len(self.frames) == self.end_frame_number + 1

    def data(self) -> bytes:
        """The channel's compressed data: frame data concatenated in frame-number order (only when ready)."""
        if not self.is_ready():
            raise ValueError("channel is not ready")
        return b"".join(self.frames[i].data for i in range(self.end_frame_number + 1))

    def is_timed_out(self, current_l1_number: int, channel_timeout: int) -> bool:
        return self.open_block.number + channel_timeout < current_l1_number
