"""Look-ahead for :class:`~opnode.node.l1.client.L1Client` while catching up: the next blocks (with their
transactions) and their receipts fetched in JSON-RPC batches and cached, ``--l1.prefetch-depth`` blocks ahead of the
block derivation reads and never past the L1 head. A look-ahead failure is only logged: reads fetch (and report) on
their own.
"""

from __future__ import annotations

import logging

import trio

from derivation.protocol.errors import ParseError
from derivation.protocol.transactions import Transaction
from derivation.protocol.trie import EMPTY_TRIE_ROOT as EMPTY_ROOT
from derivation.protocol.types import L1BlockInfo
from opnode.node.l1 import receipts as rcpt
from opnode.node.l1.rpc import RpcError

log = logging.getLogger("opnode.node.l1")


class LookAhead:
    """Mixed into :class:`~opnode.node.l1.client.L1Client`, whose RPC client, caches, in-flight claims and block
    ingestion these methods use."""

    async def prefetch(self, numbers) -> None:
        """Fetch these blocks, their transactions and receipts in batched requests, and cache them. Blocks that
        are already cached, in flight, missing or failing verification are skipped (later reads fetch them)."""
        todo = [n for n in sorted(set(numbers)) if not self._have_number(n) and ("number", n) not in self._inflight]
        if not todo:
            return
        events = {n: trio.Event() for n in todo}
        for n, ev in events.items():
            self._inflight[("number", n)] = ev
        try:
            blocks = await self.rpc.batch([("eth_getBlockByNumber", [hex(n), True]) for n in todo])
            ingested = []
            for n, block in zip(todo, blocks, strict=True):
                if block is None or isinstance(block, RpcError):
                    continue
                try:
                    info, txs = await self._ingest_block(block)
                except ParseError as e:
                    log.warning("prefetched L1 block %d failed verification, will refetch on use: %s", n, e)
                    continue
                if info.number != n:
                    continue
                self.numbers.put(n, info.hash)
                ingested.append((info, txs))
        finally:
            for n, ev in events.items():
                self._inflight.pop(("number", n), None)
                ev.set()
        await self._prefetch_receipts(ingested)

    async def _prefetch_receipts(self, blocks: list[tuple[L1BlockInfo, tuple[Transaction, ...]]]) -> None:
        todo = []
        for info, txs in blocks:
            if info.hash in self.receipts or ("receipts", info.hash) in self._inflight:
                continue
            if txs:
                todo.append((info, txs))
            elif info.receipts_root == EMPTY_ROOT:
                self.receipts.add(info.hash, ())
        plan, calls = rcpt.batch_plan(self._chooser, todo)
        claimed = [("receipts", info.hash) for info, _ in todo]
        for key in claimed:
            self._inflight[key] = trio.Event()
        try:
            if not calls:
                return
            results = await self.rpc.batch(calls)
            for info, txs, method, start, count in plan:
                try:
                    got = rcpt.parse(method, info, txs, results[start:start + count])
                except RpcError as e:
                    self._chooser.on_error(method, e)
                    continue
                except ParseError as e:
                    log.warning("prefetched receipts of L1 block %d failed verification: %s", info.number, e)
                    continue
                self._cache_receipts(info, txs, got)
        finally:
            for key in claimed:
                ev = self._inflight.pop(key, None)
                if ev is not None:
                    ev.set()

    def _schedule_lookahead(self, number: int) -> None:
        depth = self.cfg.prefetch_depth
        head = self.heads.head
        if self._nursery is None or depth <= 0 or head is None:
            return
        limit = head.number  # not past the head; derivation's L1 provider applies --verifier.l1-confs
        if number + depth // 2 <= self._prefetch_hi or number >= limit:
            return
        lo = max(number + 1, self._prefetch_hi + 1)
        hi = min(number + depth, limit)
        if lo > hi:
            return
        self._prefetch_hi = hi
        self._nursery.start_soon(self._prefetch_quietly, range(lo, hi + 1))

    async def _prefetch_quietly(self, numbers) -> None:
        try:
            await self.prefetch(numbers)
        except Exception as e:  # look-ahead is an optimisation: reads fetch (and report) on their own
            log.debug("L1 look-ahead for %s failed: %s", numbers, e)
            self._prefetch_hi = min(self._prefetch_hi, numbers.start - 1)
