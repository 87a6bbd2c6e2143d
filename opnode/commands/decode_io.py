"""Input and output conventions shared by the ``opnode decode`` commands.

Input: hex text (``0x`` optional), ``@FILE`` (hex text or raw bytes) or ``-`` (stdin, hex text or raw bytes).
Output: one JSON object on stdout. Hashes and byte strings are lower-case 0x-hex, addresses EIP-55 checksummed,
integers JSON numbers. Bad input: exit code 2, ``{"error": "..."}`` on stdout and a one-line message on stderr.
"""

from __future__ import annotations

import functools
import json
import string
import sys

import click

from derivation.protocol.errors import DerivationError
from derivation.protocol.hexutil import checksum_address, to_hex

_HEX = set(string.hexdigits)


class InputError(Exception):
    """Input that cannot be read or decoded; the message is one line for the user."""


def _bytes_from_text_or_raw(blob: bytes) -> bytes:
    text = blob.strip()
    if text[:2] in (b"0x", b"0X"):
        text = text[2:]
    if text and all(chr(c) in _HEX for c in text):
        if len(text) % 2:
            raise InputError("hex input has an odd number of digits")
        return bytes.fromhex(text.decode())
    return blob


def read_input(arg: str) -> bytes:
    """Resolve a DATA argument to bytes."""
    if arg == "-":
        return _bytes_from_text_or_raw(sys.stdin.buffer.read())
    if arg.startswith("@"):
        try:
            with open(arg[1:], "rb") as f:
                return _bytes_from_text_or_raw(f.read())
        except OSError as e:
            raise InputError(f"cannot read {arg[1:]}: {e.strerror}") from None
    t = arg.strip()
    if t[:2] in ("0x", "0X"):
        t = t[2:]
    if len(t) % 2 or not all(c in _HEX for c in t):
        raise InputError("input is not hex (use 0x..., @FILE or - for stdin)")
    return bytes.fromhex(t)


def read_text(arg: str) -> str:
    """Resolve a text argument (``@FILE``, ``-`` or literal) to a string."""
    if arg == "-":
        return sys.stdin.read()
    if arg.startswith("@"):
        try:
            with open(arg[1:]) as f:
                return f.read()
        except OSError as e:
            raise InputError(f"cannot read {arg[1:]}: {e.strerror}") from None
    return arg


def hexb(b: bytes | None) -> str | None:
    return None if b is None else to_hex(b)


def addr(b: bytes | None) -> str | None:
    return None if b is None else checksum_address(b)


def emit(obj) -> None:
    click.echo(json.dumps(obj, indent=2))


def fail(message: str) -> None:
    message = " ".join(str(message).split())
    click.echo(json.dumps({"error": message}))
    click.echo(f"opnode: error: {message}", err=True)
    sys.exit(2)


def json_command(fn):
    """Run a decode command: its return value is printed as JSON; any input error becomes exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            result = fn(*args, **kwargs)
        except (InputError, DerivationError, ValueError) as e:
            fail(str(e) or type(e).__name__)
            return
        emit(result)

    return wrapper
