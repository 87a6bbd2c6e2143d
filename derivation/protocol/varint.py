"""Unsigned LEB128 varints as Go's ``encoding/binary`` reads and writes them (``Uvarint``/``PutUvarint``): at most 10
bytes, the 10th at most 1, non-minimal encodings accepted (span batches, specs delta/span-batches.md; the ENR
``opstack`` entry, op-node ``p2p/discovery.go``)."""

from __future__ import annotations

from derivation.protocol.errors import ParseError


def read_uvarint(data: bytes, pos: int, what: str = "varint",
                 error: type[Exception] = ParseError) -> tuple[int, int]:
    """The value at ``pos`` and the position after it; ``error(message)`` when truncated or over 64 bits."""
    x = shift = 0
    end = len(data)
    for i in range(10):
        if pos >= end:
            raise error(f"unexpected end of data reading {what}")
        b = data[pos]
        pos += 1
        if b < 0x80:
            if i == 9 and b > 1:
                break
            return x | (b << shift), pos
        x |= (b & 0x7F) << shift
        shift += 7
    raise error(f"{what} overflows a 64-bit unsigned integer")


def put_uvarint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)
