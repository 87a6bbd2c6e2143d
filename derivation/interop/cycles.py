"""Same-timestamp cycle detection across the chains of a dependency set.

Rule (messaging.md §Intra-block messaging: cycles, §Security Considerations, specs @fd72cf79): messages executed at
the same timestamp as their initiating message may depend on each other across chains only without a cycle; every
chain on a cycle has its block invalidated.

Graph as op-supernode builds it (``activity/interop/cycle.go`` ``buildCycleGraph``/``checkCycle``/
``collectCycleParticipants``, karlfloersch/optimism @f0b2b80e, file @6cdfde08 2026-04-02; kona ``rules.rs``
``detect_cycles`` @a350dfec is the same algorithm):

- nodes: the executing messages of the blocks at timestamp ``t`` whose initiating timestamp is also ``t`` (a message
  of an older initiating block depends on settled history, not on a concurrent block);
- edges, per node: to the previous such node on the same chain (log order), and to the last such node of the
  initiating chain at or before the initiating log index (``executingMessageBefore``: the initiating log can only
  exist once every executing message before it on its chain is valid);
- Kahn's sort repeatedly resolves the nodes nothing unresolved depends on; the chains of the nodes left unresolved are
  the cycle participants. As in Go this includes nodes a cycle depends on (they are never freed), while a bystander
  that merely depends on a cycle is resolved first and spared.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping

from derivation.interop.messages import ExecutingMessage


def cycle_chains(timestamp: int, blocks: Mapping[int, Iterable[ExecutingMessage]]) -> frozenset[int]:
    """The chains whose block at ``timestamp`` is on a same-timestamp message cycle; ``blocks`` maps each chain id
    to the executing messages of its block at ``timestamp`` (chains with no block there are simply absent)."""
    nodes: list[tuple[int, ExecutingMessage]] = []
    per_chain: dict[int, list[int]] = {}
    for chain_id in sorted(blocks):
        for em in sorted(blocks[chain_id], key=lambda m: m.log_index):
            if em.identifier.timestamp == timestamp:
                per_chain.setdefault(chain_id, []).append(len(nodes))
                nodes.append((chain_id, em))
    if not nodes:
        return frozenset()
    log_indices = {c: [nodes[i][1].log_index for i in idx] for c, idx in per_chain.items()}
    depends_on: list[list[int]] = [[] for _ in nodes]
    depended_on_by = [0] * len(nodes)
    for idx in per_chain.values():
        for pos, n in enumerate(idx):
            targets = [idx[pos - 1]] if pos else []
            ident = nodes[n][1].identifier
            target_chain = per_chain.get(ident.chain_id)
            if target_chain is not None:
                k = bisect.bisect_right(log_indices[ident.chain_id], ident.log_index)
                if k:
                    targets.append(target_chain[k - 1])
            for t in targets:
                depends_on[n].append(t)
                depended_on_by[t] += 1
    free = [n for n in range(len(nodes)) if depended_on_by[n] == 0]
    resolved = [False] * len(nodes)
    while free:
        n = free.pop()
        resolved[n] = True
        for t in depends_on[n]:
            depended_on_by[t] -= 1
            if depended_on_by[t] == 0:
                free.append(t)
    return frozenset(nodes[n][0] for n in range(len(nodes)) if not resolved[n])
