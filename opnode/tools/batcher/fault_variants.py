"""Ways a batcher can misbehave, on purpose: for the devnet's ``--faults`` and for derivation tests.

Each function takes well-formed batcher output and returns a faulty variant; what derivation must then do is the
spec's business (and the tests'), not this module's.
"""

from __future__ import annotations

import dataclasses
import random

from derivation.protocol.batches import SingularBatch
from derivation.protocol.frames import DERIVATION_VERSION_0, Frame


def garbage_payload(rng: random.Random, size: int = 200, valid_version: bool = True) -> bytes:
    """Random bytes as batcher data, optionally behind a valid derivation version byte."""
    body = rng.randbytes(size)
    return bytes((DERIVATION_VERSION_0,)) + body if valid_version else body


def duplicate_frame(frames: list[Frame], index: int) -> list[Frame]:
    return frames[:index + 1] + [frames[index]] + frames[index + 1:]


def swap_frames(frames: list[Frame], i: int, j: int) -> list[Frame]:
    out = list(frames)
    out[i], out[j] = out[j], out[i]
    return out


def drop_last_frame(frames: list[Frame]) -> list[Frame]:
    """A channel that can never complete: it times out."""
    return frames[:-1]


def wrong_parent(batch: SingularBatch) -> SingularBatch:
    return dataclasses.replace(batch, parent_hash=bytes(b ^ 0xFF for b in batch.parent_hash))


def wrong_epoch_hash(batch: SingularBatch) -> SingularBatch:
    return dataclasses.replace(batch, epoch_hash=bytes(b ^ 0xFF for b in batch.epoch_hash))


def deposit_in_batch(batch: SingularBatch) -> SingularBatch:
    """A batch smuggling a deposit-typed transaction (always invalid)."""
    return dataclasses.replace(batch, transactions=batch.transactions + (b"\x7e\xc0",))
