"""An in-memory L1: blocks with transactions, receipts and blobs, reorgs, served through the L1Source protocol."""

from __future__ import annotations

from dataclasses import dataclass, field

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256
from derivation.protocol.transactions import Transaction
from derivation.protocol.types import L1BlockInfo, L1BlockRef, Log, Receipt
from derivation.providers import DataKind, DataRequest, IndexedBlobHash, NeedData


@dataclass
class L1Block:
    info: L1BlockInfo
    txs: list[Transaction] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    blobs: dict[bytes, bytes] = field(default_factory=dict)  # versioned hash -> blob


class MemoryL1:
    def __init__(self, genesis_time: int, block_time: int = 12):
        self.block_time = block_time
        self.canonical: list[L1Block] = []
        self.by_hash: dict[bytes, L1Block] = {}
        self._salt = 0
        self._mine(genesis_time, [], [], {})

    @property
    def head(self) -> L1BlockInfo:
        return self.canonical[-1].info

    def _mine(self, time: int, txs, logs: list[Log], blobs) -> L1BlockInfo:
        parent = self.canonical[-1].info if self.canonical else None
        number = parent.number + 1 if parent else 0
        parent_hash = parent.hash if parent else bytes(32)
        h = keccak256(rlp.encode([parent_hash, number, time, self._salt, [t.hash for t in txs],
                                  [lg.data for lg in logs]]))
        info = L1BlockInfo(hash=h, number=number, parent_hash=parent_hash, time=time, base_fee=7 * 10**9,
                           mix_digest=keccak256(b"randao" + h), excess_blob_gas=0, blob_gas_used=0,
                           parent_beacon_root=keccak256(b"beacon" + h))
        receipts = [Receipt(2, 1, 21000 * (i + 1), ()) for i in range(len(txs))]
        if logs:  # events of some L1 contract calls, each its own successful receipt
            receipts.append(Receipt(2, 1, 100_000, tuple(
                Log(lg.address, lg.topics, lg.data, i) for i, lg in enumerate(logs))))
        block = L1Block(info, list(txs), receipts, dict(blobs))
        self.canonical.append(block)
        self.by_hash[h] = block
        return info

    def mine(self, txs=(), logs=(), blobs=None, n: int = 1, time: int | None = None) -> L1BlockInfo:
        """Mine ``n`` blocks; the first carries ``txs``, ``logs`` (as successful receipts) and ``blobs`` and has
        time ``time`` (default: one L1 block time after its parent)."""
        info = self._mine(time or self.head.time + self.block_time, list(txs), list(logs), blobs or {})
        for _ in range(n - 1):
            info = self._mine(self.head.time + self.block_time, [], [], {})
        return info

    def reorg(self, depth: int) -> None:
        """Drop the last ``depth`` blocks; blocks mined afterwards get different hashes."""
        del self.canonical[-depth:]
        self._salt += 1

    # -------------------------------------------------------------------------------------------- L1Source

    def _block(self, h: bytes, kind: DataKind) -> L1Block:
        b = self.by_hash.get(h)
        if b is None:
            raise NeedData(DataRequest(kind, h))
        return b

    def block_by_number(self, number: int) -> L1BlockInfo:
        if number >= len(self.canonical):
            raise NeedData(DataRequest(DataKind.L1_BLOCK_BY_NUMBER, number))
        return self.canonical[number].info

    def block_by_hash(self, block_hash: bytes) -> L1BlockInfo:
        return self._block(block_hash, DataKind.L1_BLOCK_BY_HASH).info

    def transactions(self, block: L1BlockRef) -> list[Transaction]:
        return self._block(block.hash, DataKind.L1_TRANSACTIONS).txs

    def receipts(self, block: L1BlockRef) -> list[Receipt]:
        return self._block(block.hash, DataKind.L1_RECEIPTS).receipts

    def blobs(self, block: L1BlockRef, hashes: tuple[IndexedBlobHash, ...]) -> list[bytes]:
        b = self._block(block.hash, DataKind.L1_BLOBS)
        try:
            return [b.blobs[h.hash] for h in hashes]
        except KeyError:
            raise NeedData(DataRequest(DataKind.L1_BLOBS, block.hash, block, hashes)) from None
