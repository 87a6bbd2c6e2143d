"""The L1 view's memory: size-bounded LRU caches keyed by block hash (metered as op-node's
``l1_source_cache_*{type}``), and the one number→hash index derived from by-number reads (:class:`NumberIndex`)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from derivation.protocol.types import L1BlockRef
from opnode.node.metrics import CacheMetrics

K = TypeVar("K")
V = TypeVar("V")


class LRUCache(Generic[K, V]):
    def __init__(self, size: int, type_label: str, metrics: CacheMetrics | None = None):
        self.size = size
        self.type_label = type_label
        self.metrics = metrics
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        if self.metrics is not None:
            self.metrics.cache_get(self.type_label, value is not None)
        return value

    def peek(self, key: K) -> V | None:
        """Look without touching recency or metrics (for "do we already have it?" checks)."""
        return self._items.get(key)

    def add(self, key: K, value: V) -> None:
        if self.size <= 0:
            return
        evicted = False
        if key in self._items:
            self._items.move_to_end(key)
        elif len(self._items) >= self.size:
            self._items.popitem(last=False)
            evicted = True
        self._items[key] = value
        if self.metrics is not None:
            self.metrics.cache_add(self.type_label, len(self._items), evicted)

    def __contains__(self, key: K) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


MIN_NUMBERS = 4096  # number lookups kept at least (ints and hashes: cheap; derivation's L1 provider keeps 4096 blocks)


class NumberIndex:
    """L1 block number → hash of the canonical chain, as by-number reads answered it, with ONE invalidation rule:
    numbers above a fork point are dropped, nothing else ever is (but the lowest, past the size bound).

    The fork point, when the L1 head changes (an observer of :class:`~opnode.node.l1.heads.L1Heads`): a linear
    extension of the old head forks at the old head; otherwise the walk back from the new head through the headers
    in memory stops at the first number the index holds with the same hash; where the walk runs out of headers, or
    reaches the L1 finalized block (which cannot reorg), that is the fork point. When derivation finds the data of a
    block it read by number gone, or resets, the fork point is just below that block (:meth:`invalidate_above`).
    op-node asks L1 by number on every read instead (op-service/sources/l1_client.go); this index saves those
    requests and stays right for exactly as long as the head observations do.
    """

    def __init__(self, parent_of: Callable[[bytes], bytes | None] = lambda h: None,
                 floor: Callable[[], int] = lambda: -1, size: int = MIN_NUMBERS):
        self._numbers: dict[int, bytes] = {}
        self._parent_of = parent_of  # a header's parent hash, if the header is in memory
        self._floor = floor  # the L1 finalized block number (-1: none known)
        self._size = max(size, MIN_NUMBERS)

    def get(self, number: int) -> bytes | None:
        return self._numbers.get(number)

    def put(self, number: int, block_hash: bytes) -> None:
        self._numbers[number] = block_hash
        if len(self._numbers) > self._size:
            self._numbers.pop(min(self._numbers))

    def __len__(self) -> int:
        return len(self._numbers)

    def invalidate_above(self, fork: int) -> None:
        """The canonical chain may differ above block ``fork``: forget those numbers (the one place they go)."""
        for n in [n for n in self._numbers if n > fork]:
            del self._numbers[n]

    def on_head(self, name: str, head: L1BlockRef, old: L1BlockRef | None) -> None:
        """:class:`~opnode.node.l1.heads.L1Heads` observer: a new head invalidates the numbers above the fork."""
        if name != "head" or old is None:
            return
        self.invalidate_above(self.fork_point(head, old))

    def fork_point(self, head: L1BlockRef, old: L1BlockRef) -> int:
        if head.parent_hash == old.hash:
            return old.number
        floor = self._floor()
        n, h = head.number, head.hash
        while n > floor:
            if self._numbers.get(n) == h:
                return n
            parent = self._parent_of(h)
            if parent is None:
                break
            n, h = n - 1, parent
        return floor
