"""Reading the batches of a channel: decompress, then a sequence of RLP byte strings, one batch each, decoded.

specs: derivation.md "Channel Format", fjord/derivation.md. The RLP byte limit counts every byte the RLP reader
consumes (headers and payloads); a batch that would cross it is not read, nor is anything after it. The first
malformed item ends the channel; batches before it stay valid (op-node's ``BatchReader`` over ``rlp.Stream``).
"""

from __future__ import annotations

from collections.abc import Iterator

from derivation.protocol import rlp
from derivation.protocol.batches import SINGULAR_BATCH_TYPE, BatchError, SingularBatch
from derivation.protocol.compression import Decompressor
from derivation.protocol.errors import ParseError, drop_message
from derivation.protocol.span_batch import SPAN_BATCH_TYPE, RawSpanBatch

_MAX_HEADER = 9


def decode_batch(data: bytes) -> SingularBatch | RawSpanBatch:
    """Decode batch data by its type byte (op-node ``BatchData``): 0 singular, 1 span; anything else, including
    the experimental span batch v2 (type 2), is an error."""
    if not data:
        raise BatchError("empty batch data")
    t = data[0]
    if t == SINGULAR_BATCH_TYPE:
        return SingularBatch.decode(data[1:])
    if t == SPAN_BATCH_TYPE:
        return RawSpanBatch.decode(data[1:])
    raise BatchError(f"unrecognized batch type {t}")


class BatchReader:
    """Yields the decoded batches of a channel (SingularBatch or RawSpanBatch); ``error`` says why reading stopped
    early (None when the stream simply ended). ``last_size`` is the batch data length of the batch just returned;
    ``unterminated`` tells that the compressed stream had no proper end (real channels do that)."""

    def __init__(self, channel_data: bytes, max_rlp_bytes: int, brotli_allowed: bool):
        self._dec = Decompressor(channel_data, brotli_allowed)  # raises CompressionError
        self.compression = self._dec.algorithm
        self.max_rlp_bytes = max_rlp_bytes
        self.consumed = 0  # RLP bytes consumed so far
        self.error: str | None = None
        self.last_size = 0
        self._buf = bytearray()
        self._pos = 0

    def _fill(self, need: int) -> bool:
        """Make ``need`` bytes available from the current position; False at the end of the stream."""
        have = len(self._buf) - self._pos
        if have >= need:
            return True
        if self._pos:
            del self._buf[:self._pos]
            self._pos = 0
        while len(self._buf) < need:
            chunk = self._dec.read(max(need - len(self._buf), 256 * 1024))
            if not chunk:
                return False
            self._buf += chunk
        return True

    def __iter__(self) -> Iterator[SingularBatch | RawSpanBatch]:
        return self

    def __next__(self) -> SingularBatch | RawSpanBatch:
        if self.error is not None:
            raise StopIteration
        try:
            item = self._next_item()
            batch = decode_batch(item) if item is not None else None
        except Exception as e:  # any decoder failure ends the channel with a reason (see drop_message)
            self.error = drop_message(e)
            raise StopIteration from None
        if item is None or batch is None:
            raise StopIteration
        self.last_size = len(item)
        return batch

    def _next_item(self) -> bytes | None:
        if not self._fill(1):
            self.error = self._dec.error
            return None
        self._fill(_MAX_HEADER)  # a short stream may end within the header: header() reports it
        view = self._buf
        is_list, start, length = rlp.header(bytes(view[self._pos:self._pos + _MAX_HEADER]), 0)
        total = start + length
        if self.consumed + total > self.max_rlp_bytes:
            raise ParseError(f"batch of {total} bytes would exceed the channel's RLP limit of "
                             f"{self.max_rlp_bytes} bytes ({self.consumed} already read)")
        if is_list:
            raise ParseError("expected an RLP byte string holding a batch, found a list")
        if not self._fill(total):
            why = self._dec.error or ("compressed stream truncated" if self._dec.unterminated else "stream ended")
            raise ParseError(f"channel ends inside a batch ({why})")
        item = bytes(view[self._pos + start:self._pos + total])
        self._pos += total
        self.consumed += total
        return item

    @property
    def unterminated(self) -> bool:
        return self._dec.unterminated

    def drain(self, limit: int) -> int:
        """Decompress the rest of the stream (at most ``limit`` more bytes), for reporting; returns the total."""
        total = len(self._buf) - self._pos + self.consumed
        while total < limit:
            chunk = self._dec.read(min(1 << 20, limit - total))
            if not chunk:
                break
            total += len(chunk)
        return total

