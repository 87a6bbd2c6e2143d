"""Hex text <-> bytes/ints, with the strictness the JSON-RPC surfaces need."""

from derivation.protocol.errors import ParseError


def to_hex(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def from_hex(s: object, length: int | None = None) -> bytes:
    """Parse hex with or without ``0x``; ``length`` (bytes) is enforced when given; anything but a string (an
    untrusted JSON value) is a ParseError."""
    if not isinstance(s, str):
        raise ParseError(f"expected a hex string, got {type(s).__name__}")
    t = s.strip()
    if t[:2] in ("0x", "0X"):
        t = t[2:]
    if len(t) % 2:
        raise ParseError(f"hex string has an odd number of digits: {s[:20]!r}")
    try:
        out = bytes.fromhex(t)
    except ValueError:
        raise ParseError(f"not a hex string: {s[:40]!r}") from None
    if length is not None and len(out) != length:
        raise ParseError(f"expected {length} bytes of hex, got {len(out)}")
    return out


def quantity(n: int) -> str:
    """Ethereum JSON-RPC QUANTITY encoding (``0x0``, ``0x1a``: no leading zeros)."""
    return hex(n)


def parse_quantity(v: object) -> int:
    """Parse a QUANTITY (hex string) or a plain JSON integer; any other value is a ParseError."""
    if isinstance(v, bool):
        raise ParseError("expected a quantity, got a boolean")
    if isinstance(v, int):
        if v < 0:
            raise ParseError("quantity must not be negative")
        return v
    if isinstance(v, str):
        t = v.strip()
        try:
            if t[:2] in ("0x", "0X"):
                if len(t) == 2:
                    raise ValueError
                return int(t, 16)
            return int(t, 10)
        except ValueError:
            raise ParseError(f"not a quantity: {v[:40]!r}") from None
    raise ParseError(f"expected a quantity, got {type(v).__name__}")


def checksum_address(addr: bytes) -> str:
    """EIP-55 mixed-case address."""
    from derivation.protocol.crypto import keccak256

    h = addr.hex()
    digest = keccak256(h.encode()).hex()
    return "0x" + "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(h))
