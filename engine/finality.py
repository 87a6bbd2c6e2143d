"""Finality (op-node ``finality.Finalizer``; specs: derivation.md "Finalization Guarantees"): an L2 block is
final once the L1 block it was derived from is final — not its L1 origin, which can be much older than the data
that made it safe."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from derivation.protocol.types import L1BlockRef, L2BlockRef

# op-node keeps enough records to cover the L1 blocks between two finality signals (4 epochs of 32 slots, + 1).
FINALITY_LOOKBACK = 4 * 32 + 1


@dataclass(frozen=True, slots=True)
class SafeRecord:
    l2: L2BlockRef
    derived_from: L1BlockRef


class FinalityTracker:
    def __init__(self, lookback: int = FINALITY_LOOKBACK):
        self._records: deque[SafeRecord] = deque()
        self._lookback = lookback

    def on_safe(self, l2: L2BlockRef, derived_from: L1BlockRef) -> None:
        """Record that ``l2`` became safe from L1 data up to ``derived_from``; one record per L1 block."""
        if self._records and self._records[-1].derived_from.number == derived_from.number:
            self._records[-1] = SafeRecord(l2, derived_from)
        else:
            self._records.append(SafeRecord(l2, derived_from))
        while len(self._records) > self._lookback:
            self._records.popleft()

    def candidate(self, finalized_l1: L1BlockRef) -> SafeRecord | None:
        """The highest safe L2 block derived from L1 data at or below ``finalized_l1``."""
        best = None
        for r in self._records:
            if r.derived_from.number <= finalized_l1.number:
                best = r
            else:
                break
        return best

    def prune(self, finalized_l2: L2BlockRef) -> None:
        while len(self._records) > 1 and self._records[0].l2.number < finalized_l2.number:
            self._records.popleft()

    def reset(self) -> None:
        self._records.clear()
