"""The L1 execution-layer client the node and replay read L1 through: blocks, transactions and receipts, cached by
block hash, verified unless ``--l1.trustrpc``, prefetched ahead while catching up (:mod:`.lookahead`).

Frugality (operators pay per request): a block is always fetched with its transactions (one call gives the header
and what retrieval needs); receipts come in one call per block where the provider allows it (``--l1.rpckind``);
look-ahead fetches the next blocks and their receipts in JSON-RPC batches; concurrent requests for the same block
wait for the one in flight instead of asking again; blocks without transactions need no receipts request.

State (one owner each, none of it per chain, so one client can serve several chains): the labels in
:class:`~opnode.node.l1.heads.L1Heads` (:attr:`L1Client.heads`, written by every label read), blocks, transactions and
receipts in LRU caches by hash, and number lookups in the one :class:`~opnode.node.l1.cache.NumberIndex`
(:attr:`L1Client.numbers`) that a head change invalidates above the fork point.

Trust: unless ``trust_rpc``, the block hash is recomputed from the header, every transaction hash and the
transactions root from the transactions, and (always, as op-node) the receipts root from the receipts. Data that
fails is fetched once more, then :class:`L1DataError` is raised; failing data is never cached or returned.
"""

from __future__ import annotations

import dataclasses
import logging
from contextlib import asynccontextmanager, nullcontext

import trio

from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity, to_hex
from derivation.protocol.transactions import Transaction
from derivation.protocol.types import L1BlockInfo, L1BlockRef, Receipt
from opnode.node.l1 import blockdata
from opnode.node.l1 import receipts as rcpt
from opnode.node.l1.blockdata import BlockDataError
from opnode.node.l1.cache import LRUCache, NumberIndex
from opnode.node.l1.config import L1Config
from opnode.node.l1.errors import L1DataError, NotFoundError
from opnode.node.l1.heads import L1Heads
from opnode.node.l1.lookahead import LookAhead
from opnode.node.l1.rpc import RpcClient, Subscription
from opnode.node.metrics import Metrics

log = logging.getLogger("opnode.node.l1")

LABELS = ("latest", "safe", "finalized")


class L1Client(LookAhead):
    def __init__(self, cfg: L1Config, *, metrics: Metrics | None = None, rpc: RpcClient | None = None,
                 nursery: trio.Nursery | None = None, headers_only: bool = False):
        """``headers_only``: block lookups fetch headers alone and nothing ahead (a node that does not derive, as
        op-node's ``L1BlockRefByNumber``, needs no transactions or receipts)."""
        self.cfg = cfg
        self.headers_only = headers_only
        self.metrics = metrics
        self.rpc = rpc or RpcClient(cfg.rpc_url, max_batch_size=cfg.rpc_max_batch_size,
                                    max_concurrency=cfg.max_concurrency, rate_limit=cfg.rpc_rate_limit,
                                    timeout=cfg.request_timeout, retry=cfg.retry,
                                    metrics=metrics.rpc_client("l1") if metrics is not None else None,
                                    headers=cfg.headers)
        cm = metrics.l1_source_cache if metrics is not None else None
        self.headers: LRUCache[bytes, L1BlockInfo] = LRUCache(cfg.cache_size, "headers", cm)
        self.txs: LRUCache[bytes, tuple[Transaction, ...]] = LRUCache(cfg.cache_size, "txs", cm)
        self.receipts: LRUCache[bytes, tuple[Receipt, ...]] = LRUCache(cfg.cache_size, "receipts", cm)
        self.heads = L1Heads()
        self.numbers = NumberIndex(self._parent_of, self._finalized_number, cfg.cache_size)
        self.head_read_at: float | None = None  # trio time of the last ``latest`` read, by whoever made it
        self.heads.subscribe(self.numbers.on_head)
        self._inflight: dict[tuple, trio.Event] = {}
        self._chooser = rcpt.MethodChooser(cfg.rpc_kind)
        self._nursery = nursery
        self._prefetch_hi = -1
        self._chain_id: int | None = None

    @classmethod
    @asynccontextmanager
    async def open(cls, cfg: L1Config, metrics: Metrics | None = None, *, headers_only: bool = False):
        """A client with a nursery for look-ahead prefetching; closed on exit."""
        try:
            async with trio.open_nursery() as nursery:
                client = cls(cfg, metrics=metrics, nursery=nursery, headers_only=headers_only)
                try:
                    yield client
                finally:
                    nursery.cancel_scope.cancel()
                    with trio.CancelScope(shield=True):  # a Cancelled here would swallow the caller's exception
                        await client.aclose()
        except BaseExceptionGroup as group:  # background look-ahead never raises: this is the caller's own error
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise

    async def aclose(self) -> None:
        await self.rpc.aclose()

    @property
    def head(self) -> L1BlockRef | None:
        """The latest L1 head read (``heads.head``)."""
        return self.heads.head

    def _parent_of(self, block_hash: bytes) -> bytes | None:
        info = self.headers.peek(block_hash)
        return None if info is None else info.parent_hash

    def _finalized_number(self) -> int:
        fin = self.heads.finalized
        return -1 if fin is None else fin.number

    # ------------------------------------------------------------------------------------------------ public API

    async def detect_anvil(self) -> bool:
        """Recognise anvil by ``web3_clientVersion`` and, unless the RPC is trusted, switch to its blob-tx
        transactions root (see :attr:`L1Config.anvil_tx_root`). Providers that do not answer the method are not
        anvil."""
        if self.cfg.anvil_tx_root or self.cfg.trust_rpc:
            return self.cfg.anvil_tx_root
        try:
            version = await self.rpc.call("web3_clientVersion")
        except Exception:  # noqa: BLE001 - any failure means "not anvil"
            return False
        if isinstance(version, str) and version.lower().startswith("anvil"):
            self.cfg = dataclasses.replace(self.cfg, anvil_tx_root=True)
            return True
        return False

    async def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = parse_quantity(await self.rpc.call("eth_chainId"))
        return self._chain_id

    async def block_ref_by_label(self, label: str) -> L1BlockRef:
        """``latest``, ``safe`` or ``finalized`` (header only; the hash is verified unless trusted)."""
        if label not in LABELS:
            raise ValueError(f"unknown block label {label!r}")
        with self._timed("L1BlockRefByLabel"):
            info = await self._load_header(label)
        self.observe(label, info)
        return info.ref

    def observe(self, label: str, info: L1BlockInfo) -> None:
        """``info`` is now the block ``label`` names (a label read, or a head from the ``newHeads`` subscription)."""
        self.heads.observe(label, info.ref)
        # the label named a canonical block, as a by-number answer does: a later lookup of its number costs no call
        # (a light node's canonical checks mostly ask for blocks at or just below its head)
        self.numbers.put(info.number, info.hash)
        if label == "latest":
            self.head_read_at = trio.current_time()

    @property
    def subscribes(self) -> bool:
        """Whether the L1 head can come from a ``newHeads`` subscription (a websocket L1)."""
        return self.rpc.subscriptions

    async def subscribe_heads(self) -> Subscription:
        """An ``eth_subscribe("newHeads")`` subscription (op-node: ``L1Client.SubscribeNewHead``)."""
        return await self.rpc.subscribe("newHeads")

    async def latest_info(self) -> L1BlockInfo:
        """The L1 head's header, read, verified and cached but not observed (the head tracker observes it, after
        the blocks a subscription missed below it)."""
        with self._timed("L1BlockRefByLabel"):
            return await self._load_header("latest")

    async def head_info(self, header: object) -> L1BlockInfo:
        """The header of a ``newHeads`` notification, verified as a label read is (unless ``--l1.trustrpc``) and
        cached; one that fails is read again by its hash (op-node takes the notified header as it is:
        op-service/eth/heads.go ``WatchHeadChanges``)."""
        try:
            if not isinstance(header, dict):
                raise BlockDataError("newHeads notification is not a header object")
            if not self.cfg.trust_rpc:
                blockdata.check_block_hash(header)
            info = blockdata.block_info(header)
        except ParseError as e:
            try:
                block_hash = from_hex(header.get("hash") if isinstance(header, dict) else None, 32)
            except ParseError:
                raise L1DataError(f"L1 newHeads notification without a block hash: {e}") from None
            log.warning("L1 newHeads header failed verification, reading it by hash: %s", e)
            return await self.block_info_by_hash(block_hash)
        self.headers.add(info.hash, info)
        return info

    async def block_ref_by_number(self, number: int) -> L1BlockRef:
        with self._timed("L1BlockRefByNumber"):
            return (await self._info_by_number(number)).ref

    async def block_ref_by_hash(self, block_hash: bytes) -> L1BlockRef:
        with self._timed("L1BlockRefByHash"):
            return (await self._info_by_hash(block_hash)).ref

    async def block_info_by_number(self, number: int) -> L1BlockInfo:
        return await self._info_by_number(number)

    async def block_info_by_hash(self, block_hash: bytes) -> L1BlockInfo:
        with self._timed("InfoByHash"):
            return await self._info_by_hash(block_hash)

    async def info_and_txs_by_hash(self, block_hash: bytes) -> tuple[L1BlockInfo, tuple[Transaction, ...]]:
        with self._timed("InfoAndTxsByHash"):
            return await self._info_and_txs(block_hash)

    async def receipts_by_hash(self, block_hash: bytes) -> tuple[L1BlockInfo, tuple[Receipt, ...]]:
        """The block's receipts, validated against its receipts root (logs carry block-wide indices)."""
        with self._timed("FetchReceipts"):
            info, txs = await self._info_and_txs(block_hash)
            key = ("receipts", block_hash)
            while True:
                hit = self.receipts.get(block_hash)
                if hit is not None:
                    return info, hit
                if key in self._inflight:
                    await self._inflight[key].wait()
                    if block_hash in self.receipts:
                        continue
                async with self._claim(key):
                    got = await rcpt.fetch_verified(self.rpc, self._chooser, info, txs)
                    self._cache_receipts(info, txs, got)
                    return info, got

    # ------------------------------------------------------------------------------------------------ blocks

    def _have_number(self, number: int) -> bool:
        block_hash = self.numbers.get(number)
        return block_hash is not None and block_hash in self.txs and block_hash in self.headers

    async def _info_by_number(self, number: int) -> L1BlockInfo:
        if self.headers_only:
            known = self.numbers.get(number)
            if known is not None and (info := self.headers.get(known)) is not None:
                return info
            head = self.heads.head
            if head is not None and number == head.number + 1 and not self.subscribes:
                # Just above the head last read (a source's current L1 when it polled L1 more recently): read the
                # head instead, one call that answers this lookup when L1 has moved one block on and refreshes the
                # head, so the head poll waits a period (HeadTracker). A subscribed head is never behind: no need.
                await self.block_ref_by_label("latest")
                known = self.numbers.get(number)
                if known is not None and (info := self.headers.get(known)) is not None:
                    return info
                if self.heads.head.number < number:
                    raise NotFoundError(f"L1 block {number} not found (L1 head {self.heads.head.number})")
            info = await self._load_header(hex(number))
            if info.number != number:
                raise L1DataError(f"asked L1 for block {number}, got block {info.number}")
            self.numbers.put(number, info.hash)
            return info
        self._schedule_lookahead(number)
        while True:
            if self._have_number(number):
                info = self.headers.get(self.numbers.get(number))
                if info is not None:
                    return info
            key = ("number", number)
            if key in self._inflight:
                await self._inflight[key].wait()
                if self._have_number(number):
                    continue
            async with self._claim(key):
                info, _ = await self._load_block("eth_getBlockByNumber", hex(number), lambda i: i.number == number,
                                                 f"block {number}")
                self.numbers.put(number, info.hash)
                return info

    async def _info_by_hash(self, block_hash: bytes) -> L1BlockInfo:
        hit = self.headers.get(block_hash)
        if hit is not None:
            return hit
        if self.headers_only:
            info = await self._load_header(to_hex(block_hash), "eth_getBlockByHash")
            if info.hash != block_hash:
                raise L1DataError(f"asked L1 for block 0x{block_hash.hex()}, got 0x{info.hash.hex()}")
            return info
        return (await self._info_and_txs(block_hash))[0]

    async def _info_and_txs(self, block_hash: bytes) -> tuple[L1BlockInfo, tuple[Transaction, ...]]:
        key = ("hash", block_hash)
        while True:
            txs = self.txs.get(block_hash)
            info = self.headers.peek(block_hash)
            if txs is not None and info is not None:
                return info, txs
            if key in self._inflight:
                await self._inflight[key].wait()
                continue
            async with self._claim(key):
                return await self._load_block("eth_getBlockByHash", to_hex(block_hash),
                                              lambda i: i.hash == block_hash, f"block 0x{block_hash.hex()}")

    async def _load_block(self, method: str, arg: str, matches, what: str):
        last = None
        for _ in range(2):  # a verification failure is retried once with a fresh answer
            block = await self.rpc.call(method, arg, True)
            if block is None:
                raise NotFoundError(f"L1 {what} not found")
            try:
                info, txs = await self._ingest_block(block)
            except ParseError as e:  # any malformed field of the answer, verified or not (BlockDataError is one)
                last = e
                log.warning("L1 %s failed verification, refetching: %s", what, e)
                continue
            if not matches(info):
                last = BlockDataError(f"asked for {what}, got block {info.number} 0x{info.hash.hex()}")
                continue
            return info, txs
        raise L1DataError(f"L1 RPC returned bad data for {what} twice: {last}")

    async def _load_header(self, label_or_number: str, method: str = "eth_getBlockByNumber") -> L1BlockInfo:
        last = None
        for _ in range(2):
            block = await self.rpc.call(method, label_or_number, False)
            if block is None:
                raise NotFoundError(f"L1 block {label_or_number!r} not found")
            try:
                if not self.cfg.trust_rpc:
                    blockdata.check_block_hash(block)
                info = blockdata.block_info(block)
            except ParseError as e:
                last = e
                continue
            self.headers.add(info.hash, info)
            return info
        raise L1DataError(f"L1 RPC returned a bad header for {label_or_number!r} twice: {last}")

    async def _ingest_block(self, block: dict) -> tuple[L1BlockInfo, tuple[Transaction, ...]]:
        """Verify (unless trusted) and cache a full block."""
        if not isinstance(block, dict):
            raise BlockDataError("block is not a JSON object")
        verify = not self.cfg.trust_rpc
        if verify:
            blockdata.check_block_hash(block)
            blockdata.check_withdrawals_root(block)
        info = blockdata.block_info(block)
        try:
            txs = tuple(blockdata.block_transactions(block, verify=verify))
        except BlockDataError:
            if not (verify and self.cfg.anvil_tx_root):
                raise
            txs = tuple(blockdata.block_transactions(block, verify=False))
            await blockdata.check_anvil_tx_root(block, txs, self._raw_transactions)
        self.headers.add(info.hash, info)
        self.txs.add(info.hash, txs)
        return info, txs

    async def _raw_transactions(self, hashes: list[bytes]) -> list:
        return await self.rpc.batch([("eth_getRawTransactionByHash", [to_hex(h)]) for h in hashes])

    # ------------------------------------------------------------------------------------------------ receipts

    def _cache_receipts(self, info: L1BlockInfo, txs, got: tuple[Receipt, ...]) -> None:
        if txs and not got:  # a provider that lost them must not poison the cache
            return
        self.receipts.add(info.hash, got)

    # ------------------------------------------------------------------------------------------------ helpers

    @asynccontextmanager
    async def _claim(self, key):
        ev = trio.Event()
        self._inflight[key] = ev
        try:
            yield
        finally:
            if self._inflight.get(key) is ev:
                del self._inflight[key]
            ev.set()

    def _timed(self, request: str):
        return nullcontext() if self.metrics is None else _Timer(self.metrics, request)


class _Timer:
    """op-node's ``l1_request_seconds{request}`` around one public call."""

    __slots__ = ("metrics", "request", "start")

    def __init__(self, metrics: Metrics, request: str):
        self.metrics, self.request = metrics, request

    def __enter__(self):
        self.start = trio.current_time()

    def __exit__(self, *exc):
        self.metrics.record_l1_request(self.request, trio.current_time() - self.start)
