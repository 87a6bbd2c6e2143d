"""Same-timestamp cycle detection against op-supernode's buildCycleGraph cases and kona's detect_cycles tests
(spec-vectors/interop/cycles.json)."""

import pytest

from derivation.interop.cycles import cycle_chains
from derivation.interop.messages import ExecutingMessage, Identifier, Message
from tests.vectors import load

CASES = load("interop/cycles.json")["cases"]


def _blocks(case) -> dict[int, list[ExecutingMessage]]:
    """The executing messages of each chain's block at the case's timestamp (others are in other blocks)."""
    out: dict[int, list[ExecutingMessage]] = {}
    for exec_chain, exec_log, exec_ts, target_chain, target_log, target_ts in case["messages"]:
        if exec_ts != case["timestamp"]:
            continue
        ident = Identifier(bytes(20), 0, target_log, target_ts, target_chain)
        out.setdefault(exec_chain, []).append(ExecutingMessage(exec_log, Message(ident, bytes(32))))
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda c: f'{c["source"]}: {c["name"]}')
def test_cycle_vectors(case):
    got = cycle_chains(case["timestamp"], _blocks(case))
    assert bool(got) == case["expect_cycle"], sorted(got)
    assert set(case["expect_in_cycle"]) <= got
    assert not set(case["expect_not_in_cycle"]) & got


def test_input_order_does_not_matter():
    case = next(c for c in CASES if c["name"] == "nested callbacks with a genuine event cycle")
    blocks = _blocks(case)
    reordered = {c: list(reversed(ems)) for c, ems in reversed(list(blocks.items()))}
    assert cycle_chains(case["timestamp"], reordered) == cycle_chains(case["timestamp"], blocks)


def test_a_message_pointing_at_a_later_log_of_its_own_block_is_a_cycle():
    """executingMessageBefore finds the node itself: it depends on itself and is never resolved."""
    ident = Identifier(bytes(20), 0, 9, 1000, 10)
    assert cycle_chains(1000, {10: [ExecutingMessage(3, Message(ident, bytes(32)))]}) == {10}


def test_the_cycle_may_run_through_the_order_of_one_chains_messages():
    """Go's intra-chain edge (each message depends on the previous one of its chain): A:0 reaches B's last message
    at or before log 5, which is B:4; B:4 comes after B:2, and B:2 executes A:0's own log. No upstream vector needs this
    edge, so this case is built from the rule in cycle.go ``buildCycleGraph``."""

    def em(log, chain, target_log):
        return ExecutingMessage(log, Message(Identifier(bytes(20), 0, target_log, 1000, chain), bytes(32)))

    a, b = 10, 8453
    blocks = {a: [em(0, b, 5)], b: [em(2, a, 0), em(4, 999, 0)]}
    assert cycle_chains(1000, blocks) == {a, b}
    blocks[b] = [em(2, a, 0)]  # without B:4, A:0 depends on B:2 only: A:0 <-> B:2 is still a cycle
    assert cycle_chains(1000, blocks) == {a, b}
    blocks[a] = [em(0, b, 1)]  # A:0 now precedes every message of B: nothing points back, no cycle
    assert cycle_chains(1000, blocks) == frozenset()
