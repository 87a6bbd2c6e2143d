"""One derivation run over a recording's store, shared by the recorder and the replayer so that both derive alike.

The run resets the pipeline onto the recording's start safe head and steps it. Each set of payload attributes is
compared with the real L2 block of that height; after a match the real block becomes the pending safe head, so
later derivation sees real hashes (as a node does after consolidation). The run stops when derivation asks for the
first L1 block after the range (traversal has passed ``to_l1``), when data is missing (:class:`Missing`: the
recorder fetches it, for replay the recording is incomplete), at a mismatch (when asked to), or when derivation
fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from derivation.events import Event
from derivation.pipeline import CriticalFailure, Needed, Pipeline, Progress, ResetRequired, TemporaryFailure
from derivation.protocol.attributes import AttributesWithParent
from derivation.protocol.types import L1BlockRef, L2BlockRef
from derivation.providers import DataKind, DataRequest
from opnode.tools.replay.compare import Comparison, Outcome, compare
from opnode.tools.replay.sources import RecordedL1, RecordedL2
from opnode.tools.replay.store import L2Block, Store


@dataclass(frozen=True, slots=True)
class DerivedBlock:
    """Attributes derivation produced, with the real block of that height and how they compare."""

    attributes: AttributesWithParent
    recorded: L2Block
    comparison: Comparison

    @property
    def number(self) -> int:
        return self.attributes.parent.number + 1

    @property
    def derived_from(self) -> L1BlockRef:
        return self.attributes.derived_from


@dataclass(frozen=True, slots=True)
class Missing:
    """Data the store lacks: a pipeline request, or (``request`` None) the real L2 block ``l2_number``."""

    request: DataRequest | None
    l2_number: int = 0

    def __str__(self) -> str:
        return str(self.request) if self.request is not None else f"real L2 block {self.l2_number}"


class Stop(StrEnum):
    END = "end_of_range"
    MISMATCH = "mismatch"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Finished:
    how: Stop
    message: str


TimelineItem = Event | DerivedBlock


class Session:
    def __init__(self, store: Store, *, stop_at_mismatch: bool, step_budget: int = 1000):
        self.store = store
        self.stop_at_mismatch = stop_at_mismatch
        self.step_budget = step_budget
        self.timeline: list[TimelineItem] = []
        self.derived: list[DerivedBlock] = []
        meta = store.meta
        self.l1 = RecordedL1(store)
        self.l2 = RecordedL2(store, meta.start)
        self.pipeline = Pipeline(meta.rollup, meta.l1_chain, self.l1, self.l2, self.timeline.append)
        self.pipeline.reset(meta.start)
        self.pending: L2BlockRef = meta.start
        self._waiting: AttributesWithParent | None = None  # attributes whose real block is not in the store yet
        self.finished: Finished | None = None

    @property
    def first_mismatch(self) -> DerivedBlock | None:
        return next((d for d in self.derived if d.comparison.outcome is Outcome.MISMATCH), None)

    def run(self) -> Missing | Finished:
        """Step until data is missing or the run is over; call again after filling the store."""
        if self.finished is not None:
            return self.finished
        while True:
            if self._waiting is not None:
                missing = self._settle(self._waiting)
                if missing is not None:
                    return missing
                if self.finished is not None:
                    return self.finished
            r = self.pipeline.step(self.pending, self.step_budget)
            if isinstance(r, AttributesWithParent):
                self._waiting = r
            elif isinstance(r, Progress):
                continue
            elif isinstance(r, Needed):
                req = r.request
                if req.kind is DataKind.L1_BLOCK_BY_NUMBER and req.key > self.store.meta.to_l1:
                    return self._finish(Stop.END, f"derivation reached L1 block {req.key}, past the range")
                return Missing(req)
            elif isinstance(r, ResetRequired):
                return self._finish(Stop.FAILED, f"derivation asked for a reset: {r.reason}")
            elif isinstance(r, (TemporaryFailure, CriticalFailure)):
                kind = "temporary" if isinstance(r, TemporaryFailure) else "critical"
                return self._finish(Stop.FAILED, f"{kind} derivation failure: {r.reason}")
            else:
                return self._finish(Stop.FAILED, f"unexpected pipeline result {r!r}")

    def _settle(self, a: AttributesWithParent) -> Missing | None:
        number = a.parent.number + 1
        entry = self.store.l2_entry_by_number(number)
        if entry is None:
            return Missing(None, number)
        self._waiting = None
        cmp = compare(self.store.cfg, a.attributes, a.parent, entry.block)
        d = DerivedBlock(a, entry.block, cmp)
        self.derived.append(d)
        self.timeline.append(d)
        if cmp.outcome is Outcome.MISMATCH and self.stop_at_mismatch:
            self._finish(Stop.MISMATCH, f"L2 block {number} derived from L1 block {a.derived_from.number} does not "
                                        "match the recorded block")
            return None
        if cmp.outcome is Outcome.DEPOSITS_ONLY:
            self.pipeline.flush_channel()
        self.pending = entry.ref
        self.l2.head = entry.ref
        return None

    def _finish(self, how: Stop, message: str) -> Finished:
        self.finished = Finished(how, message)
        return self.finished
