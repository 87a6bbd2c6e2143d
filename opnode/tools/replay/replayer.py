"""Replay: derivation over a recording, offline and deterministic, stopped at the first block that does not match.

The verdict: ``match`` when derivation reached the end of the range and every derived block matched the recorded
one (a Holocene deposit-only replacement counts as a match, see :mod:`opnode.tools.replay.compare`); ``mismatch`` at the
first block that differs; ``failed`` when derivation failed (the recording reproduces the failure);
``incomplete`` when derivation asked for data the recording lacks (it was made by a derivation that asked for other
data).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from opnode.tools.replay.session import DerivedBlock, Finished, Missing, Session, Stop
from opnode.tools.replay.store import Store


class Verdict(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"
    FAILED = "failed"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True, slots=True)
class ReplayResult:
    store: Store
    session: Session
    verdict: Verdict
    message: str

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.MATCH

    @property
    def derived(self) -> list[DerivedBlock]:
        return self.session.derived

    @property
    def first_mismatch(self) -> DerivedBlock | None:
        return self.session.first_mismatch


def replay(store: Store) -> ReplayResult:
    session = Session(store, stop_at_mismatch=True)
    r = session.run()
    if isinstance(r, Missing):
        return ReplayResult(store, session, Verdict.INCOMPLETE,
                            f"derivation asked for {r}, which the recording does not hold")
    assert isinstance(r, Finished)
    if r.how is Stop.MISMATCH:
        return ReplayResult(store, session, Verdict.MISMATCH, r.message)
    if r.how is Stop.FAILED:
        return ReplayResult(store, session, Verdict.FAILED, r.message)
    n = len(session.derived)
    last = f", up to L2 block {session.derived[-1].number}" if n else ""
    return ReplayResult(store, session, Verdict.MATCH,
                        f"{n} L2 block{'s' if n != 1 else ''} derived{last}, all matching the recorded blocks")
