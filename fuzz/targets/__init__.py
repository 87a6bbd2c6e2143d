"""The fuzz targets: one per decoder of untrusted bytes, registered by name.

A target is a function of one ``bytes`` input that runs a decoder (and what is built on its result) and returns
nothing; ``allowed`` lists the exceptions the decoder documents. Everything else it raises, and any input that takes
too long or too much memory, is a finding (:mod:`fuzz.contract`).

Adding a target (the hook for decoders written later, e.g. the witness preimage stores): write a module here that
decorates its functions with :func:`target`, and add the module's name to :data:`TARGET_MODULES`. ``make fuzz``,
the corpus replay in ``make test`` and the ledger pick it up from there; its corpus directory is created on the
first run. See fuzz/README.md for a worked example.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

TARGET_MODULES = ("codecs", "batches", "l1_data", "p2p", "rpc", "engine", "replay", "witness")


@dataclass(frozen=True)
class Target:
    name: str
    fn: Callable[[bytes], object]
    allowed: tuple[type[BaseException], ...]
    seeds: Callable[[], Iterable[bytes]]
    max_len: int = 4096  # longest input the fuzzer makes (seeds may be longer; they are replayed whole)
    tokens: tuple[bytes, ...] = field(default=())  # dictionary entries for the mutator
    about: str = ""
    warmup: Callable[[], object] | None = None  # one-time set-up, run before the first input outside the budget


TARGETS: dict[str, Target] = {}


def target(name: str, *, allowed: tuple[type[BaseException], ...], seeds: Callable[[], Iterable[bytes]],
           max_len: int = 4096, tokens: Iterable[bytes] = (), warmup: Callable[[], object] | None = None):
    """Register the decorated ``fn(data: bytes)`` as target ``name``."""

    def register(fn):
        if name in TARGETS:
            raise ValueError(f"fuzz target {name!r} registered twice")
        TARGETS[name] = Target(name, fn, tuple(allowed), seeds, max_len, tuple(tokens),
                               (fn.__doc__ or "").strip().split("\n")[0], warmup)
        return fn

    return register


def load() -> dict[str, Target]:
    """Every registered target, in registration order."""
    for m in TARGET_MODULES:
        importlib.import_module(f"{__name__}.{m}")
    return TARGETS


class Cursor:
    """Deterministic reading of structured values from fuzz bytes (what libFuzzer's FuzzedDataProvider does, in a
    form the replay in ``make test`` shares). Reads past the end give zeros / empty bytes."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def take(self, n: int) -> bytes:
        out = self.data[self.pos:self.pos + n]
        self.pos += len(out)
        return out

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def chunk(self) -> bytes:
        """Bytes preceded by a two-byte length."""
        return self.take(self.uint(2))

    def rest(self) -> bytes:
        out = self.data[self.pos:]
        self.pos = len(self.data)
        return out


def put_chunk(b: bytes) -> bytes:
    """The encoding :meth:`Cursor.chunk` reads (for building seeds)."""
    return len(b).to_bytes(2, "big") + b


def json_input(data: bytes):
    """The input as JSON, for targets whose decoder takes parsed JSON (the servers and clients parse with
    ``loads_bounded`` and answer a parse error before any decoder runs): not JSON is a ParseError here."""
    from derivation.protocol.errors import ParseError
    from derivation.protocol.jsonutil import loads_bounded

    try:
        return loads_bounded(data)
    except ValueError as e:
        raise ParseError(f"not JSON: {e}") from None
