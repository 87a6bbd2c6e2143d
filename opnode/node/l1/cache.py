"""A size-bounded LRU cache keyed by block hash, metered as op-node's ``l1_source_cache_*{type}``."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

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
