"""The pipeline's L1 provider in the node: answers from what was fetched, raises NeedData for the rest, and
fetches on request through the async L1 and beacon clients (which batch, prefetch, verify and cache).

Number lookups go through the L1 client's one :class:`~opnode.node.l1.cache.NumberIndex` (its invalidation rule
is the only one); blocks, transactions and receipts are kept here by hash as the pipeline's working set (a sync
start walks back up to a sequencing window of L1 blocks and must find them all at once). ``confirmed_head`` is
where ``--verifier.l1-confs`` is applied, in this one layer (op-node's confDepth wraps derivation's L1 fetcher)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from derivation.protocol.transactions import Transaction
from derivation.protocol.types import L1BlockInfo, L1BlockRef, Receipt
from derivation.providers import DataKind, DataRequest, IndexedBlobHash, NeedData
from opnode.node.l1.beacon import BeaconClient
from opnode.node.l1.cache import NumberIndex
from opnode.node.l1.client import L1Client

KEEP_BLOCKS = 4096  # recent blocks remembered here (the clients keep their own LRU caches)


class NotYetOnL1(Exception):
    """The request is for an L1 block beyond the (confirmed) L1 head: wait for L1 to move."""


class NodeL1Source:
    def __init__(self, client: L1Client, beacon: BeaconClient | None = None,
                 confirmed_head: Callable[[], int | None] = lambda: None):
        self.client = client
        self.beacon = beacon
        self.confirmed_head = confirmed_head  # () -> highest L1 number derivation may read, or None
        # the client's index; a client without one (test doubles) gets an index of the same rule here
        numbers = getattr(client, "numbers", None)
        self.numbers: NumberIndex = NumberIndex() if numbers is None else numbers
        self._info: OrderedDict[bytes, L1BlockInfo] = OrderedDict()
        self._txs: dict[bytes, list[Transaction]] = {}
        self._receipts: dict[bytes, list[Receipt]] = {}
        self._blobs: dict[tuple[bytes, tuple[IndexedBlobHash, ...]], list[bytes]] = {}

    # -------------------------------------------------------------------------------------------- L1Source

    def block_by_number(self, number: int) -> L1BlockInfo:
        block_hash = self.numbers.get(number)
        info = None if block_hash is None else self._info.get(block_hash)
        if info is None:
            raise NeedData(DataRequest(DataKind.L1_BLOCK_BY_NUMBER, number))
        return info

    def block_by_hash(self, block_hash: bytes) -> L1BlockInfo:
        info = self._info.get(block_hash)
        if info is None:
            raise NeedData(DataRequest(DataKind.L1_BLOCK_BY_HASH, block_hash))
        return info

    def transactions(self, block: L1BlockRef) -> list[Transaction]:
        txs = self._txs.get(block.hash)
        if txs is None:
            raise NeedData(DataRequest(DataKind.L1_TRANSACTIONS, block.hash, block))
        return txs

    def receipts(self, block: L1BlockRef) -> list[Receipt]:
        r = self._receipts.get(block.hash)
        if r is None:
            raise NeedData(DataRequest(DataKind.L1_RECEIPTS, block.hash, block))
        return r

    def blobs(self, block: L1BlockRef, hashes: tuple[IndexedBlobHash, ...]) -> list[bytes]:
        got = self._blobs.get((block.hash, hashes))
        if got is None:
            raise NeedData(DataRequest(DataKind.L1_BLOBS, block.hash, block, hashes))
        return got

    # -------------------------------------------------------------------------------------------- fetching

    def ahead_of_head(self, req: DataRequest) -> bool:
        head = self.confirmed_head()
        return req.kind is DataKind.L1_BLOCK_BY_NUMBER and (head is None or req.number > head)

    async def fetch(self, req: DataRequest) -> None:
        """Fetch what ``req`` names. When data of a block asked for by hash cannot be had, the block may have been
        reorged out after its number was looked up: the number lookups from that block up are dropped, so the
        retry asks L1 by number again (as op-node's traversal does on every attempt) instead of asking forever
        for a block the L1 node no longer has."""
        try:
            await self._fetch(req)
        except Exception:
            if req.block is not None:
                self.forget_numbers(req.block.number)
            raise

    async def _fetch(self, req: DataRequest) -> None:
        kind = req.kind
        if kind is DataKind.L1_BLOCK_BY_NUMBER:
            if self.ahead_of_head(req):
                raise NotYetOnL1(f"L1 block {req.number} is not on (confirmed) L1 yet")
            info = await self.client.block_info_by_number(req.number)
            self._remember(info)
            self.numbers.put(info.number, info.hash)
        elif kind is DataKind.L1_BLOCK_BY_HASH:
            self._remember(await self.client.block_info_by_hash(req.block_hash))
        elif kind is DataKind.L1_TRANSACTIONS:
            info, txs = await self.client.info_and_txs_by_hash(req.block_hash)
            self._remember(info)
            self._txs[req.block_hash] = list(txs)
        elif kind is DataKind.L1_RECEIPTS:
            info, receipts = await self.client.receipts_by_hash(req.block_hash)
            self._remember(info)
            self._receipts[req.block_hash] = list(receipts)
        elif kind is DataKind.L1_BLOBS:
            if self.beacon is None:
                raise RuntimeError("blob data needed but no beacon endpoint (--l1.beacon) is configured")
            if req.block is None:
                raise TypeError(f"a blob request carries its block: {req}")
            self._blobs[(req.block_hash, req.blobs)] = await self.beacon.get_blobs(req.block, list(req.blobs))
        else:
            raise ValueError(f"not an L1 request: {req}")

    def _remember(self, info: L1BlockInfo) -> None:
        self._info[info.hash] = info
        self._info.move_to_end(info.hash)
        while len(self._info) > KEEP_BLOCKS:
            h, _ = self._info.popitem(last=False)
            self._txs.pop(h, None)
            self._receipts.pop(h, None)
        if len(self._blobs) > KEEP_BLOCKS:
            for k in list(self._blobs)[: len(self._blobs) - KEEP_BLOCKS]:
                del self._blobs[k]

    def forget_numbers(self, from_number: int = 0) -> None:
        """Evidence of an L1 reorg at or below ``from_number`` (a reset, data of a block read by number gone): the
        index's fork point is just below it."""
        self.numbers.invalidate_above(from_number - 1)
