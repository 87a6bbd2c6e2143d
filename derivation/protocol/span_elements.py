"""A span batch derived into its blocks (specs: delta/span-batches.md; op-node ``SpanBatch``,
``SpanBatchElement``): the values :meth:`~derivation.protocol.span_batch.RawSpanBatch.derive` returns and the batch
rules read. A decoded batch's blocks are built lazily (:class:`SpanElements`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload


@dataclass(frozen=True, slots=True)
class SpanBatchElement:
    """One L2 block's inputs inside a span batch."""

    epoch_num: int
    timestamp: int
    transactions: tuple[bytes, ...]


class SpanElements(Sequence[SpanBatchElement]):
    """A decoded span batch's blocks, built when read rather than all at once: a span may claim up to 10,000,000
    blocks from a few kilobytes of channel data, and the validity rules reject a bogus one within its first
    sequencer-drift's worth of blocks. Iterating is O(1) per block; indexing is O(n) at C speed (bit counts and a
    byte-sum). The L1 origin numbers count back from ``l1_origin_num`` in uint64 arithmetic, as op-node's."""

    __slots__ = ("_n", "_first_ts", "_block_time", "_last_origin", "_bits", "_bit_bytes", "_counts", "_txs")

    def __init__(self, n: int, first_ts: int, block_time: int, last_origin: int, origin_bits: int,
                 counts: Sequence[int], txs: list[bytes]):
        self._n, self._first_ts, self._block_time, self._last_origin = n, first_ts, block_time, last_origin
        self._bits, self._bit_bytes = origin_bits, origin_bits.to_bytes((n + 7) // 8, "little")
        self._counts, self._txs = counts, txs

    def __len__(self) -> int:
        return self._n

    @property
    def transactions(self) -> list[bytes]:
        """Every block's transactions, in order."""
        return self._txs

    def _epoch(self, i: int) -> int:
        return (self._last_origin - (self._bits >> (i + 1)).bit_count()) % (1 << 64)

    def _element(self, i: int, epoch: int, offset: int) -> SpanBatchElement:
        return SpanBatchElement(epoch, self._first_ts + self._block_time * i,
                                tuple(self._txs[offset:offset + self._counts[i]]))

    @overload
    def __getitem__(self, i: int) -> SpanBatchElement: ...

    @overload
    def __getitem__(self, i: slice) -> list[SpanBatchElement]: ...

    def __getitem__(self, i: int | slice) -> SpanBatchElement | list[SpanBatchElement]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("span batch element index out of range")
        return self._element(i, self._epoch(i), sum(self._counts[:i]))

    def __iter__(self) -> Iterator[SpanBatchElement]:
        bits, epoch, offset = self._bit_bytes, self._epoch(0), 0
        for i in range(self._n):
            if i and bits[i >> 3] >> (i & 7) & 1:
                epoch = (epoch + 1) % (1 << 64)
            yield self._element(i, epoch, offset)
            offset += self._counts[i]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(other) == self._n and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))


@dataclass(frozen=True, slots=True)
class SpanBatch:
    """A derived span batch: per-block elements with fully signed transactions."""

    parent_check: bytes  # first 20 bytes of the first block's parent hash
    l1_origin_check: bytes  # first 20 bytes of the last block's L1 origin hash
    elements: Sequence[SpanBatchElement]  # a tuple, or the lazy SpanElements of a decoded batch
    origin_bits: int
    rel_timestamp: int

    @property
    def timestamp(self) -> int:
        return self.elements[0].timestamp

    @property
    def start_epoch_num(self) -> int:
        return self.elements[0].epoch_num

    @property
    def end_epoch_num(self) -> int:
        return self.elements[-1].epoch_num

    @property
    def block_count(self) -> int:
        return len(self.elements)

    def origin_changed(self, i: int) -> bool:
        """Bit i of the origin bits: block i has a new L1 origin (for block 0: relative to its parent)."""
        return bool((self.origin_bits >> i) & 1)
