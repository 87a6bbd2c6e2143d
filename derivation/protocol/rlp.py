"""RLP encoding and geth-strict decoding.

Decoding rejects what go-ethereum's ``rlp`` package rejects: a single byte below 0x80 wrapped in a string header,
a long-form length below 56, a length with leading zero bytes, and items running past their container. Integers
decoded with :func:`decode_uint` must be canonical (no leading zero bytes). A faster, smaller stand-in for pyrlp,
whose encoder dominates the cost of rebuilding span-batch transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from derivation.protocol.errors import ParseError

Item: TypeAlias = bytes | list["Item"]  # a decoded item: a byte string or a list of items
# What :func:`encode` accepts: byte strings, non-negative ints (bool as 0/1), text and (nested) sequences of these.
Encodable: TypeAlias = bytes | bytearray | memoryview | int | str | Sequence["Encodable"]
MAX_DEPTH = 64  # nesting levels a decoded item may have (see decode_at)


class RLPError(ParseError):
    """Malformed or non-canonical RLP."""


# ---------------------------------------------------------------------------------------------------- encoding


def _length_prefix(n: int, offset: int) -> bytes:
    if n < 56:
        return bytes((offset + n,))
    bl = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((offset + 55 + len(bl),)) + bl


def encode_bytes(b: bytes) -> bytes:
    n = len(b)
    if n == 1 and b[0] < 0x80:
        return bytes(b)
    return (bytes((0x80 + n,)) if n < 56 else _length_prefix(n, 0x80)) + b


def encode_uint(n: int) -> bytes:
    if n < 0x80:
        return b"\x80" if n == 0 else bytes((n,))
    ln = (n.bit_length() + 7) // 8
    # Integers of up to 55 bytes (every uint256) take the one-byte header: inline, as this runs per tx field.
    return bytes((0x80 + ln,)) + n.to_bytes(ln, "big") if ln < 56 else _length_prefix(ln, 0x80) + n.to_bytes(ln, "big")


def encode_list_payload(payload: bytes) -> bytes:
    """Wrap already-encoded items (concatenated) in a list header."""
    n = len(payload)
    return (bytes((0xC0 + n,)) if n < 56 else _length_prefix(n, 0xC0)) + payload


def encode(item: Encodable) -> bytes:
    """Encode bytes, non-negative ints (bool as 0/1) and (nested) lists/tuples."""
    if isinstance(item, (bytes, bytearray, memoryview)):
        return encode_bytes(bytes(item))
    if isinstance(item, int):
        if item < 0:
            raise ValueError("RLP cannot encode negative integers")
        return encode_uint(int(item))
    if isinstance(item, (list, tuple)):
        return encode_list_payload(b"".join([encode(x) for x in item]))
    if isinstance(item, str):
        return encode_bytes(item.encode())
    raise TypeError(f"cannot RLP-encode {type(item).__name__}")


# ---------------------------------------------------------------------------------------------------- decoding


def header(data: bytes, pos: int = 0) -> tuple[bool, int, int]:
    """Read the header at ``pos``: (is_list, payload_start, payload_length).

    Raises RLPError for non-canonical headers or when the header itself is truncated. Does not check that the
    payload fits in ``data`` (callers streaming a channel need to know how much more to read).
    """
    n = len(data)
    if pos >= n:
        raise RLPError("unexpected end of input")
    b = data[pos]
    if b < 0x80:
        return False, pos, 1
    if b < 0xB8:
        ln = b - 0x80
        if ln == 1:
            if pos + 1 >= n:
                raise RLPError("unexpected end of input")
            if data[pos + 1] < 0x80:
                raise RLPError("non-canonical size information: single byte below 0x80 encoded as a string")
        return False, pos + 1, ln
    if b < 0xC0:
        is_list, lenlen = False, b - 0xB7
    elif b < 0xF8:
        return True, pos + 1, b - 0xC0
    else:
        is_list, lenlen = True, b - 0xF7
    # Long form, inline: every transaction and most of their data fields take it.
    start = pos + 1
    end = start + lenlen
    if end > n:
        raise RLPError("unexpected end of input in length prefix")
    if data[start] == 0:
        raise RLPError("non-canonical size information: leading zero in length")
    ln = int.from_bytes(data[start:end], "big")
    if ln < 56:
        raise RLPError("non-canonical size information: long form used for a length below 56")
    return is_list, end, ln


def decode_at(data: bytes, pos: int = 0) -> tuple[Item, int]:
    """Decode one item at ``pos``; returns (item, end position).

    Iterative, with an explicit stack, and refuses lists nested deeper than :data:`MAX_DEPTH`: an attacker-chosen
    depth (a batcher channel can hold 100,000 levels in 200 KB) must never cost Python stack frames, here or in
    whatever walks the result (list comparison, re-encoding). No structure this project decodes nests deeper than
    four levels, and every typed decoder rejects deeper ones anyway, so the cap changes no verdict.
    """
    n = len(data)
    is_list, start, ln = header(data, pos)
    end = start + ln
    if end > n:
        raise RLPError("value size exceeds available input length")
    if not is_list:
        return data[start:end], end
    root: list[Item] = []
    stack: list[tuple[list[Item], int]] = [(root, end)]  # open lists and where each one ends
    cur, cur_end, p = root, end, start
    while True:
        if p >= cur_end:
            stack.pop()
            if not stack:
                return root, end
            cur, cur_end = stack[-1]
            continue
        b = data[p]
        if b < 0xB8 and b != 0x81:  # a single byte or a short string (0x81 needs the canonical check in header)
            s, e = (p, p + 1) if b < 0x80 else (p + 1, p + 1 + b - 0x80)
            if e > cur_end:
                raise RLPError("value size exceeds available input length" if e > n
                               else "list element exceeds the list's size")
            cur.append(data[s:e])
            p = e
            continue
        is_list, s, ln = header(data, p)
        e = s + ln
        if e > n:
            raise RLPError("value size exceeds available input length")
        if e > cur_end:
            raise RLPError("list element exceeds the list's size")
        if is_list:
            if len(stack) >= MAX_DEPTH:
                raise RLPError(f"RLP lists nested deeper than {MAX_DEPTH} levels")
            child: list[Item] = []
            cur.append(child)
            stack.append((child, e))
            cur, cur_end, p = child, e, s
        else:
            cur.append(data[s:e])
            p = e


def decode(data: bytes) -> Item:
    """Decode exactly one item; trailing bytes are an error."""
    item, end = decode_at(data, 0)
    if end != len(data):
        raise RLPError(f"{len(data) - end} trailing bytes after the RLP item")
    return item


def decode_list(data: bytes, arity: int | None = None) -> list[Item]:
    item = decode(data)
    if not isinstance(item, list):
        raise RLPError("expected an RLP list")
    if arity is not None and len(item) != arity:
        raise RLPError(f"expected a list of {arity} items, got {len(item)}")
    return item


def decode_uint(b: Item, max_bits: int = 256) -> int:
    """A canonical big-endian unsigned integer (no leading zeros) of at most ``max_bits``."""
    if not isinstance(b, (bytes, bytearray)):
        raise RLPError("expected an integer, got a list")
    if len(b) == 0:
        return 0
    if b[0] == 0:
        raise RLPError("non-canonical integer (leading zero bytes)")
    if len(b) * 8 > max_bits + 7 or (v := int.from_bytes(b, "big")).bit_length() > max_bits:
        raise RLPError(f"integer larger than {max_bits} bits")
    return v


def decode_bytes(b: Item, length: int | None = None) -> bytes:
    if not isinstance(b, (bytes, bytearray)):
        raise RLPError("expected a byte string, got a list")
    if length is not None and len(b) != length:
        raise RLPError(f"expected {length} bytes, got {len(b)}")
    return bytes(b)


def decode_address(b: Item) -> bytes | None:
    """A 20-byte address, or None for the empty string (contract creation)."""
    raw = decode_bytes(b)
    if len(raw) == 0:
        return None
    if len(raw) != 20:
        raise RLPError(f"expected a 20-byte address, got {len(raw)} bytes")
    return raw


def decode_bool(b: Item) -> bool:
    v = decode_uint(b, 8)
    if v > 1:
        raise RLPError(f"invalid boolean value {v}")
    return v == 1


def list_starts(data: bytes, pos: int = 0) -> list[int]:
    """Where each direct child of the list at ``pos`` starts, then where the list ends (children are contiguous:
    child ``i`` is ``data[starts[i]:starts[i + 1]]``).

    Children are checked for canonical headers and bounds; their payloads are not decoded (callers that re-use
    the raw encodings of fields validate each field themselves). Short headers are read inline: this walks every
    field of every span-batch transaction.
    """
    is_list, start, ln = header(data, pos)
    end = start + ln
    if not is_list:
        raise RLPError("expected an RLP list")
    if end > len(data):
        raise RLPError("list size exceeds available input length")
    starts = []
    p = start
    while p < end:
        starts.append(p)
        b = data[p]
        if b < 0x80:
            p += 1
        elif b < 0xB8 and b != 0x81 or 0xC0 <= b < 0xF8:  # short forms (0x81 needs header's canonical check)
            p += 1 + (b - 0xC0 if b >= 0xC0 else b - 0x80)
        else:
            _, s, n = header(data, p)
            p = s + n
        if p > end:
            raise RLPError("list element exceeds the list's size")
    starts.append(end)
    return starts


def list_spans(data: bytes, pos: int = 0) -> tuple[list[tuple[int, int]], int]:
    """The (start, end) byte ranges of the direct children of the list at ``pos``, and the list's end
    (see :func:`list_starts`)."""
    starts = list_starts(data, pos)
    return list(zip(starts, starts[1:], strict=False)), starts[-1]
