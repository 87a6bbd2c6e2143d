"""Finality (op-node ``finality.Finalizer``; specs: derivation.md "Finalization Guarantees"): an L2 block is
final once the L1 block it was derived from is final — not its L1 origin, which can be much older than the data
that made it safe.

When to try (op-node/rollup/finality/finalizer.go, okx/optimism@7573e762, 2026-06-30, with upstream's
``finality.Config``): at once on each new L1 finality signal (which also lets the next idle step try again), and
when derivation goes idle at the L1 head — but after trying at an idle step with derivation at L1 block N, not
again until derivation is past N + ``delay`` (``--finality.delay``, default 64), since each try reads L1 blocks by
number, out of any cache. An older L1 finality signal than the last is ignored. ``lookback`` (``--finality.lookback``)
bounds the safe-head records kept, one per L1 block."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from derivation.protocol.types import L1BlockRef, L2BlockRef

# op-node keeps enough records to cover the L1 blocks between two finality signals (4 epochs of 32 slots, + 1).
FINALITY_LOOKBACK = 4 * 32 + 1
# op-node finalityDelay: L1 blocks derivation traverses between two tries at idle steps.
FINALITY_DELAY = 64


@dataclass(frozen=True, slots=True)
class SafeRecord:
    l2: L2BlockRef
    derived_from: L1BlockRef


class FinalityTracker:
    def __init__(self, lookback: int = FINALITY_LOOKBACK, delay: int = FINALITY_DELAY):
        self._records: deque[SafeRecord] = deque()
        self._lookback = lookback
        self._delay = delay
        self.finalized_l1: L1BlockRef | None = None  # the last L1 finality signal
        self._tried_at = 0  # the L1 block derivation was at when an idle step last tried (0: none since a signal)

    def on_l1_finalized(self, l1: L1BlockRef) -> bool:
        """op-node ``OnL1Finalized``: True when ``l1`` is a new signal, to try finalizing now."""
        prev = self.finalized_l1
        if prev is not None and (l1.number < prev.number or l1 == prev):
            return False
        self.finalized_l1 = l1
        self._tried_at = 0
        return True

    def on_derivation_idle(self, derived_from: L1BlockRef) -> bool:
        """op-node ``onDerivationIdle``: True when an idle step at ``derived_from`` should try finalizing."""
        if self.finalized_l1 is None:
            return False
        if self._tried_at != 0 and derived_from.number <= self._tried_at + self._delay:
            return False
        self._tried_at = derived_from.number
        return True

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
        """op-node ``onReset``: the records go (they may be reorged out); the L1 finality signal stays."""
        self._records.clear()
        self._tried_at = 0
