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
