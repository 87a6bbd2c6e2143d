"""How the pipeline gets data without doing I/O.

The pipeline reads L1 and L2 data through two small provider protocols. A provider returns what it has or raises
:class:`NeedData` naming exactly what is missing; the pipeline leaves its state as it was, and the caller fetches
the data (the node with its async clients, replay from a recorded file, tests from in-memory chains) and steps
again. Nothing blocks, and the same pipeline code runs everywhere.

Provider contract: blobs are returned already verified against their versioned hashes (the beacon client and the
replay reader do the KZG check); headers, transactions and receipts belong to the block hash asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from derivation.protocol.errors import DerivationError
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.transactions import Transaction
from derivation.protocol.types import L1BlockInfo, L1BlockRef, L2BlockRef, Receipt


class DataKind(Enum):
    L1_BLOCK_BY_NUMBER = "l1_block_by_number"
    L1_BLOCK_BY_HASH = "l1_block_by_hash"
    L1_TRANSACTIONS = "l1_transactions"
    L1_RECEIPTS = "l1_receipts"
    L1_BLOBS = "l1_blobs"
    L2_BLOCK_BY_NUMBER = "l2_block_by_number"
    L2_BLOCK_BY_HASH = "l2_block_by_hash"
    L2_SYSTEM_CONFIG = "l2_system_config"
    L2_TRANSACTIONS = "l2_transactions"


@dataclass(frozen=True, slots=True)
class IndexedBlobHash:
    index: int  # among all blobs of the L1 block (specs: ecotone/derivation.md "Ecotone: Blob Retrieval")
    hash: bytes  # versioned hash


@dataclass(frozen=True, slots=True)
class DataRequest:
    """What the pipeline needs: ``key`` is a block number or hash; blob requests carry the block and hashes."""

    kind: DataKind
    key: int | bytes
    block: L1BlockRef | None = None
    blobs: tuple[IndexedBlobHash, ...] = ()

    @property
    def number(self) -> int:
        """The key of a request by number (``*_BY_NUMBER``, ``L2_TRANSACTIONS``)."""
        if not isinstance(self.key, int):
            raise TypeError(f"{self.kind.value} request is keyed by hash, not by number")
        return self.key

    @property
    def block_hash(self) -> bytes:
        """The key of a request by block hash (``*_BY_HASH``, L1 transactions, receipts and blobs, L2 configs)."""
        if not isinstance(self.key, bytes):
            raise TypeError(f"{self.kind.value} request is keyed by number, not by hash")
        return self.key

    def __str__(self) -> str:
        key = self.key if isinstance(self.key, int) else "0x" + self.key.hex()
        extra = f" ({len(self.blobs)} blobs)" if self.blobs else ""
        return f"{self.kind.value} {key}{extra}"


class NeedData(DerivationError):
    """Raised by a provider (and passed on by the pipeline) when data is not available yet."""

    def __init__(self, request: DataRequest):
        super().__init__(str(request))
        self.request = request


class L1Source(Protocol):
    def block_by_number(self, number: int) -> L1BlockInfo: ...

    def block_by_hash(self, block_hash: bytes) -> L1BlockInfo: ...

    def transactions(self, block: L1BlockRef) -> list[Transaction]: ...

    def receipts(self, block: L1BlockRef) -> list[Receipt]: ...

    def blobs(self, block: L1BlockRef, hashes: tuple[IndexedBlobHash, ...]) -> list[bytes]: ...


class L2Source(Protocol):
    def block_ref_by_number(self, number: int) -> L2BlockRef: ...

    def block_ref_by_hash(self, block_hash: bytes) -> L2BlockRef: ...

    def system_config(self, block_hash: bytes) -> SystemConfig: ...

    def transactions(self, number: int) -> list[bytes]:
        """The raw transactions of the canonical L2 block ``number`` (deposits included)."""
        ...
