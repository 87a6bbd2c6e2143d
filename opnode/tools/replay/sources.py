"""The pipeline's L1 and L2 providers over a recording's store: answers from what is held, ``NeedData`` for the rest.

The recorder fills the store when a provider raises ``NeedData`` and steps again; replay runs over a complete store.
Both read through these same providers, so derivation sees the same values in both.

The L2 view answers by number only up to its ``head`` (the pending safe head of the run): derivation never asks
for blocks above it, and a recorded block above it is a block derivation has yet to produce.
"""

from __future__ import annotations

from derivation.protocol.system_config import SystemConfig
from derivation.protocol.transactions import Transaction
from derivation.protocol.types import L1BlockInfo, L1BlockRef, L2BlockRef, Receipt
from derivation.providers import DataKind, DataRequest, IndexedBlobHash, NeedData
from opnode.tools.replay.store import Store


class RecordedL1:
    def __init__(self, store: Store):
        self.store = store

    def block_by_number(self, number: int) -> L1BlockInfo:
        h = self.store.l1_canonical.get(number)
        if h is None:
            raise NeedData(DataRequest(DataKind.L1_BLOCK_BY_NUMBER, number))
        return self.store.l1_headers[h].info

    def block_by_hash(self, block_hash: bytes) -> L1BlockInfo:
        h = self.store.l1_headers.get(block_hash)
        if h is None:
            raise NeedData(DataRequest(DataKind.L1_BLOCK_BY_HASH, block_hash))
        return h.info

    def transactions(self, block: L1BlockRef) -> list[Transaction]:
        txs = self.store.l1_txs.get(block.hash)
        if txs is None:
            raise NeedData(DataRequest(DataKind.L1_TRANSACTIONS, block.hash, block))
        return list(txs)

    def receipts(self, block: L1BlockRef) -> list[Receipt]:
        r = self.store.l1_receipt_values.get(block.hash)
        if r is None:
            raise NeedData(DataRequest(DataKind.L1_RECEIPTS, block.hash, block))
        return list(r)

    def blobs(self, block: L1BlockRef, hashes: tuple[IndexedBlobHash, ...]) -> list[bytes]:
        held = self.store.blobs.get(block.hash, {})
        out = []
        for h in hashes:
            got = held.get(h.index)
            if got is None or got[0] != h.hash:
                raise NeedData(DataRequest(DataKind.L1_BLOBS, block.hash, block, hashes))
            out.append(got[1])
        return out


class RecordedL2:
    def __init__(self, store: Store, head: L2BlockRef):
        self.store = store
        self.head = head

    def block_ref_by_number(self, number: int) -> L2BlockRef:
        e = self.store.l2_entry_by_number(number) if number <= self.head.number else None
        if e is None:
            raise NeedData(DataRequest(DataKind.L2_BLOCK_BY_NUMBER, number))
        return e.ref

    def block_ref_by_hash(self, block_hash: bytes) -> L2BlockRef:
        e = self.store.l2.get(block_hash)
        if e is None:
            raise NeedData(DataRequest(DataKind.L2_BLOCK_BY_HASH, block_hash))
        return e.ref

    def system_config(self, block_hash: bytes) -> SystemConfig:
        e = self.store.l2.get(block_hash)
        if e is None:
            raise NeedData(DataRequest(DataKind.L2_SYSTEM_CONFIG, block_hash))
        return e.system_config

    def transactions(self, number: int) -> list[bytes]:
        e = self.store.l2_entry_by_number(number) if number <= self.head.number else None
        if e is None:
            raise NeedData(DataRequest(DataKind.L2_TRANSACTIONS, number))
        return list(e.block.transactions)
