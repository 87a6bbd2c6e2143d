"""Which local-safe blocks become cross-safe, given what their executing messages depend on.

Rule (messaging.md §Resolving cross-chain safety; verifier.md §Safety, specs @fd72cf79): a block is cross-safe only
when it is local-safe, its own executing messages are valid, its parent is cross-safe, and every block it depends on
is cross-safe — or, for a dependency at the same timestamp, is promoted together with it (mutual same-timestamp
dependencies are allowed when acyclic; :mod:`cycles` turns cycles into invalid verdicts first). An invalid block never
becomes cross-safe (it is replaced, derivation.md §Replacing Invalid Blocks) and neither does anything depending on
it; after the replacement the dependents' messages no longer find their initiating log and fail on their own.

Model: op-supervisor's hazard set and safe-frontier checks (``backend/cross/hazard_set.go`` ``build``,
``safe_frontier.go`` ``HazardSafeFrontierChecks``, karlfloersch/optimism @f0b2b80e, files @15157409 2025-06-23):
older-timestamp dependencies must already be cross-safe; same-timestamp ones are pulled into the candidate's hazard
set, each of which must be the next local-safe block of its chain, and the set is promoted as a whole. op-supernode
(@f0b2b80e) runs the special case where all chains advance one timestamp at a time and only when every block at it is
valid. :func:`promote` iterates to the fixpoint, which is unique since promoting only ever satisfies more conditions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from derivation.interop.messages import ExecutingMessage
from derivation.interop.validity import Verdict


@dataclass(frozen=True, slots=True, order=True)
class ChainBlock:
    chain_id: int
    number: int
    timestamp: int

    def __str__(self) -> str:
        return f"chain {self.chain_id} block {self.number} (t={self.timestamp})"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A local-safe block above its chain's cross-safe head, with its verdict (validity and cycles) and the blocks its
    executing messages point into."""

    block: ChainBlock
    verdict: Verdict
    depends_on: tuple[ChainBlock, ...] = ()


def dependencies(messages: Iterable[ExecutingMessage]) -> tuple[ChainBlock, ...]:
    """The initiating blocks a block's executing messages point to (each once, ordered)."""
    return tuple(sorted({ChainBlock(m.identifier.chain_id, m.identifier.block_number, m.identifier.timestamp)
                         for m in messages}))


@dataclass(slots=True)
class CrossSafeResult:
    heads: dict[int, int]  # chain id -> new cross-safe block number
    promoted: list[ChainBlock] = field(default_factory=list)
    blocked: dict[int, str] = field(default_factory=dict)  # chain id -> why its next block is not cross-safe


def promote(heads: Mapping[int, int], candidates: Mapping[int, Sequence[Candidate]]) -> CrossSafeResult:
    """Advance the cross-safe heads (block numbers per chain) over ``candidates`` (per chain, the local-safe blocks
    above the head, any order) as far as the rule allows."""
    by_number = {c: {cand.block.number: cand for cand in cands} for c, cands in candidates.items()}
    res = CrossSafeResult(dict(heads))

    def next_of(chain_id: int) -> Candidate | None:
        head = res.heads.get(chain_id)
        return None if head is None else by_number.get(chain_id, {}).get(head + 1)

    def hazard_set(start: Candidate) -> tuple[dict[int, Candidate] | None, str]:
        group = {start.block.chain_id: start}
        stack = [start]
        while stack:
            cand = stack.pop()
            b = cand.block
            if cand.verdict is not Verdict.VALID:
                return None, f"{b} is {cand.verdict.value}"
            for d in cand.depends_on:
                if d.timestamp > b.timestamp:
                    return None, f"{b} depends on the later {d}"
                if d.number <= res.heads.get(d.chain_id, -1):
                    continue
                if d.timestamp < b.timestamp:
                    return None, f"{b} waits for {d} to be cross-safe"
                nd = next_of(d.chain_id)
                if nd is None or nd.block.number != d.number:
                    return None, f"{b} waits for {d} to be the next local-safe block of its chain"
                if d.chain_id not in group:
                    group[d.chain_id] = nd
                    stack.append(nd)
        return group, ""

    progress = True
    while progress:
        progress = False
        res.blocked = {}  # only the last pass's reasons are current
        for chain_id in sorted(candidates):
            nxt = next_of(chain_id)
            if nxt is None:
                res.blocked[chain_id] = "no local-safe block above the cross-safe head"
                continue
            group, why = hazard_set(nxt)
            if group is None:
                res.blocked[chain_id] = why
                continue
            for cand in sorted(group.values(), key=lambda c: c.block):
                res.heads[cand.block.chain_id] = cand.block.number
                res.promoted.append(cand.block)
            progress = True
    return res
