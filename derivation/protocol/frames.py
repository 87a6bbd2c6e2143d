"""Batcher transaction data: ``derivation_version(0x00) ‖ frame ‖ frame ‖ ...`` (specs: derivation.md, Frame Format).

``frame = channel_id(16) ‖ frame_number(u16 BE) ‖ frame_data_length(u32 BE) ‖ frame_data ‖ is_last(u8 ∈ {0,1})``.
A data item with any malformed, truncated or trailing byte yields no frames at all (op-node ``ParseFrames``).
"""

from __future__ import annotations

from dataclasses import dataclass

from derivation.protocol.errors import ParseError
from derivation.protocol.jsonutil import JSONObject
from derivation.protocol.rollup_config import MAX_FRAME_LEN

DERIVATION_VERSION_0 = 0x00
FRAME_V0_OVERHEAD = 23  # 16 + 2 + 4 + 1 bytes around the frame data on the wire
FRAME_SIZE_OVERHEAD = 200  # per-frame overhead added to len(data) by channel size accounting
CHANNEL_ID_LENGTH = 16


class FrameError(ParseError):
    """A batcher data item that does not parse into frames; all of its frames are dropped."""


@dataclass(frozen=True, slots=True)
class Frame:
    channel_id: bytes
    number: int
    data: bytes
    is_last: bool

    @property
    def size(self) -> int:
        """Size for channel-bank accounting: data length plus the fixed per-frame overhead."""
        return len(self.data) + FRAME_SIZE_OVERHEAD

    def encode(self) -> bytes:
        return (self.channel_id + self.number.to_bytes(2, "big") + len(self.data).to_bytes(4, "big")
                + self.data + (b"\x01" if self.is_last else b"\x00"))

    def to_json(self) -> JSONObject:
        return {"channel_id": "0x" + self.channel_id.hex(), "frame_number": self.number,
                "data_length": len(self.data), "is_last": self.is_last, "data": "0x" + self.data.hex()}


def parse_frames(data: bytes) -> list[Frame]:
    """Parse one batcher data item (version byte included). Raises FrameError; never returns an empty list."""
    if not data:
        raise FrameError("empty batcher data")
    if data[0] != DERIVATION_VERSION_0:
        raise FrameError(f"unknown derivation version byte 0x{data[0]:02x}")
    frames: list[Frame] = []
    pos, end = 1, len(data)
    while pos < end:
        if end - pos < FRAME_V0_OVERHEAD:
            raise FrameError(f"frame {len(frames)} truncated: {end - pos} bytes left, a frame needs at least 23")
        cid = data[pos:pos + 16]
        number = int.from_bytes(data[pos + 16:pos + 18], "big")
        length = int.from_bytes(data[pos + 18:pos + 22], "big")
        if length > MAX_FRAME_LEN:
            raise FrameError(f"frame {len(frames)}: frame_data_length {length} exceeds {MAX_FRAME_LEN}")
        start = pos + 22
        stop = start + length
        if stop >= end:
            raise FrameError(f"frame {len(frames)} truncated: data of {length} bytes plus is_last do not fit")
        is_last = data[stop]
        if is_last > 1:
            raise FrameError(f"frame {len(frames)}: invalid is_last byte 0x{is_last:02x}")
        frames.append(Frame(bytes(cid), number, bytes(data[start:stop]), is_last == 1))
        pos = stop + 1
    if not frames:
        raise FrameError("no frames in batcher data")
    return frames


def encode_frames(frames: list[Frame]) -> bytes:
    """A batcher data item carrying ``frames`` (the batcher side)."""
    return bytes((DERIVATION_VERSION_0,)) + b"".join(f.encode() for f in frames)
