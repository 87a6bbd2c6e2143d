"""Channel compression: zlib (RFC 1950) or, from Fjord, brotli behind a 0x01 version byte.

Decompression is streaming and bounded: output is produced in chunks only as the batch reader asks for it, so a
decompression bomb costs at most the channel's RLP byte limit (spec: MAX_RLP_BYTES_PER_CHANNEL) and usually much
less. A truncated stream, a missing final block or a bad checksum end the stream where they occur; everything
decompressed before that point is kept (op-node and kona read channels the same way).
"""

from __future__ import annotations

from typing import cast

import brotli
from zlib_ng import zlib_ng

from derivation.protocol.errors import ParseError

CHANNEL_VERSION_BROTLI = 0x01
ZLIB_CM8, ZLIB_CM15 = 8, 15
ZLIB, BROTLI = "zlib", "brotli"
_CHUNK = 256 * 1024
# zlib_ng.pyi declares ``error: Exception`` (an instance); at run time it is the module's exception class.
_ZLIB_ERROR = cast(type[Exception], zlib_ng.error)


class CompressionError(ParseError):
    """The channel's compression cannot be identified or its header is invalid."""


def compression_of(data: bytes, brotli_allowed: bool) -> str:
    """Identify the algorithm by the first byte (fjord/derivation.md "Brotli Channel Compression")."""
    if not data:
        raise CompressionError("empty channel")
    b = data[0]
    if b & 0x0F in (ZLIB_CM8, ZLIB_CM15):
        return ZLIB
    if b == CHANNEL_VERSION_BROTLI:
        if not brotli_allowed:
            raise CompressionError("brotli-compressed channel before Fjord")
        return BROTLI
    raise CompressionError(f"unknown channel compression (first byte 0x{b:02x})")


class Decompressor:
    """Pull-based decompression of one channel. ``read(n)`` returns at most ``n`` new bytes; ``b""`` at the end."""

    def __init__(self, data: bytes, brotli_allowed: bool):
        self.algorithm = compression_of(data, brotli_allowed)
        self.error: str | None = None  # the stream is corrupt: why
        self.unterminated = False  # the input ended before the stream's end (no final block / trailer)
        self._done = False
        if self.algorithm == ZLIB:
            self._zlib_header(data)
            # Raw inflate after checking the header ourselves: a bad adler32 then cannot discard output that
            # was already produced, which matches op-node (its reader returns the data, then the error).
            self._z = zlib_ng.decompressobj(-15)
            self._tail = data[2:]
        else:
            self._b = brotli.Decompressor()
            self._pending: bytes | None = data[1:]

    @staticmethod
    def _zlib_header(data: bytes) -> None:
        """RFC 1950 header as Go's compress/zlib checks it: CM 8, window <= 32K, FCHECK, no preset dictionary."""
        if len(data) < 2:
            raise CompressionError("zlib channel shorter than its 2-byte header")
        cmf, flg = data[0], data[1]
        if cmf & 0x0F != ZLIB_CM8 or cmf >> 4 > 7 or ((cmf << 8) | flg) % 31:
            raise CompressionError("invalid zlib header")
        if flg & 0x20:
            raise CompressionError("zlib preset dictionaries are not allowed")

    def read(self, n: int) -> bytes:
        if self._done or n <= 0:
            return b""
        try:
            out = self._read_zlib(n) if self.algorithm == ZLIB else self._read_brotli(n)
        except (_ZLIB_ERROR, brotli.error) as e:
            self.error = f"{self.algorithm} stream error: {e}"
            self._done = True
            return b""
        if not out:
            self._done = True
        return out

    def _read_zlib(self, n: int) -> bytes:
        z = self._z
        out = z.decompress(self._tail, n)
        self._tail = z.unconsumed_tail
        if not out and not z.eof and not self._tail:
            self.unterminated = True
        return out

    def _read_brotli(self, n: int) -> bytes:
        # The brotli output limit is soft (it may overshoot by one internal block): callers track totals.
        b = self._b
        if self._pending is not None and b.can_accept_more_data():
            data, self._pending = self._pending, None
            return b.process(data, output_buffer_limit=n)
        if b.is_finished():
            return b""
        out = b.process(b"", output_buffer_limit=n)
        if not out and self._pending is None and not b.is_finished():
            self.unterminated = True
        return out


def compress(data: bytes, algorithm: str, level: int | None = None) -> bytes:
    """Batcher side: a whole channel's compressed bytes (brotli gets its 0x01 version byte)."""
    if algorithm == ZLIB:
        return zlib_ng.compress(data, 9 if level is None else level)
    if algorithm == BROTLI:
        return bytes((CHANNEL_VERSION_BROTLI,)) + brotli.compress(data, quality=10 if level is None else level)
    raise ValueError(f"unknown compression {algorithm!r}")


class StreamCompressor:
    """Incremental batcher-side compression with the current compressed size, for filling channels."""

    def __init__(self, algorithm: str, level: int | None = None):
        self.algorithm = algorithm
        self._parts: list[bytes] = []
        self._c: zlib_ng._Compress | brotli.Compressor
        if algorithm == ZLIB:
            self._c = zlib_ng.compressobj(9 if level is None else level)
        elif algorithm == BROTLI:
            self._c = brotli.Compressor(quality=10 if level is None else level)
            self._parts.append(bytes((CHANNEL_VERSION_BROTLI,)))
        else:
            raise ValueError(f"unknown compression {algorithm!r}")
        self.input_bytes = 0

    def write(self, data: bytes) -> None:
        self.input_bytes += len(data)
        out = self._c.process(data) if isinstance(self._c, brotli.Compressor) else self._c.compress(data)
        if out:
            self._parts.append(out)

    def flush(self) -> None:
        """Emit buffered output so that ``compressed_size`` is exact (costs some compression ratio)."""
        out = self._c.flush() if isinstance(self._c, brotli.Compressor) else self._c.flush(zlib_ng.Z_SYNC_FLUSH)
        if out:
            self._parts.append(out)

    @property
    def compressed_size(self) -> int:
        return sum(len(p) for p in self._parts)

    def finish(self) -> bytes:
        out = self._c.finish() if isinstance(self._c, brotli.Compressor) else self._c.flush()
        self._parts.append(out)
        return b"".join(self._parts)
