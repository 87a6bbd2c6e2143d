"""The batcher side: L2 blocks → batches → compressed channel → frames → calldata or blob payloads.

Mirrors op-batcher's channel out: singular batches are compressed as they come; a span batch is built from all the
channel's blocks when the channel is closed. Frames are cut to a maximum frame size (wire overhead included), and
each frame becomes one batcher data item (``0x00 ‖ frame``) for calldata or one blob.
"""

from __future__ import annotations

from derivation.protocol import rlp
from derivation.protocol.batches import SingularBatch
from derivation.protocol.blobs import MAX_BLOB_DATA_SIZE
from derivation.protocol.compression import BROTLI, ZLIB, StreamCompressor
from derivation.protocol.frames import FRAME_V0_OVERHEAD, Frame, encode_frames
from derivation.protocol.span_batch import RawSpanBatch

MAX_BLOB_FRAME_SIZE = MAX_BLOB_DATA_SIZE - 1  # one version byte in front of the frame


class ChannelOut:
    def __init__(self, channel_id: bytes, *, span: bool = True, compression: str = ZLIB, chain_id: int = 0,
                 genesis_time: int = 0):
        if len(channel_id) != 16:
            raise ValueError("a channel id is 16 bytes")
        if compression not in (ZLIB, BROTLI):
            raise ValueError(f"unknown compression {compression!r}")
        self.id = channel_id
        self.span = span
        self.chain_id = chain_id
        self.genesis_time = genesis_time
        self.blocks: list[SingularBatch] = []
        self._first_seq: int | None = None
        self._compressor = StreamCompressor(compression)
        self._data: bytes | None = None

    @property
    def closed(self) -> bool:
        return self._data is not None

    def add_block(self, batch: SingularBatch, seq_number: int) -> None:
        """Add the next L2 block (its batch and its sequence number within its epoch)."""
        if self.closed:
            raise ValueError("channel is closed")
        if self.blocks and batch.timestamp <= self.blocks[-1].timestamp:
            raise ValueError("blocks must be added in order")
        if self._first_seq is None:
            self._first_seq = seq_number
        self.blocks.append(batch)
        if not self.span:
            self._compressor.write(rlp.encode_bytes(batch.encode()))

    @property
    def uncompressed_size(self) -> int:
        """Batch bytes in the channel before compression (span batches are smaller than the sum shown here)."""
        return sum(len(b.encode()) for b in self.blocks)

    def close(self) -> bytes:
        """Finish the channel; returns its compressed data."""
        if self._data is None:
            if self.span and self.blocks:
                raw = RawSpanBatch.from_singular_batches(self.blocks, self._first_seq, self.genesis_time,
                                                         self.chain_id)
                self._compressor.write(rlp.encode_bytes(raw.encode()))
            self._data = self._compressor.finish()
        return self._data

    def frames(self, max_frame_size: int) -> list[Frame]:
        """The closed channel cut into frames of at most ``max_frame_size`` bytes on the wire."""
        data = self.close()
        step = max_frame_size - FRAME_V0_OVERHEAD
        if step <= 0:
            raise ValueError(f"max frame size {max_frame_size} leaves no room for data")
        chunks = [data[i:i + step] for i in range(0, len(data), step)] or [b""]
        return [Frame(self.id, n, c, n == len(chunks) - 1) for n, c in enumerate(chunks)]


def calldata_payloads(frames: list[Frame], frames_per_tx: int = 1) -> list[bytes]:
    """Batcher transaction data items, ``frames_per_tx`` frames each."""
    return [encode_frames(frames[i:i + frames_per_tx]) for i in range(0, len(frames), frames_per_tx)]


def blob_payloads(frames: list[Frame]) -> list[bytes]:
    """One blob data payload (``0x00 ‖ frame``, to be blob-encoded) per frame."""
    out = [encode_frames([f]) for f in frames]
    if any(len(x) > MAX_BLOB_DATA_SIZE for x in out):
        raise ValueError(f"a frame does not fit in a blob: frames must be at most {MAX_BLOB_FRAME_SIZE} bytes")
    return out
