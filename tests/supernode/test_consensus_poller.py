"""The proxyd-like consensus poller the supernode e2e uses: each ban rule of proxyd's CL mode fires on the input
that breaks it and not on a healthy sequence (infra proxyd/consensus_poller_cl.go, reference supernode.md §3)."""

from __future__ import annotations

import pytest

from opnode.testing.consensus_poller import BadStatus, ConsensusPoller, ban_rules, parse_status


def status(unsafe=10, safe=8, local_safe=9, finalized=5, current_l1=20, head_l1=22, head_ts=1_800_000_000):
    ref = lambda n: {"number": n, "hash": "0x" + f"{n + 1:064x}"}  # noqa: E731
    return {"unsafe_l2": ref(unsafe), "safe_l2": ref(safe), "local_safe_l2": ref(local_safe),
            "finalized_l2": ref(finalized), "current_l1": ref(current_l1),
            "head_l1": {**ref(head_l1), "timestamp": head_ts}}


def test_a_healthy_status_parses_and_breaks_no_rule():
    nums, safe, in_sync = parse_status(status())
    assert (safe, in_sync) == (8, True)
    assert ban_rules(None, nums) == []
    assert ban_rules(nums, parse_status(status(unsafe=11, safe=9, local_safe=10))[0]) == []
    assert parse_status(status(current_l1=5, head_l1=16))[2] is False  # 11 L1 blocks behind: not a candidate


@pytest.mark.parametrize("bad", [
    {"safe_l2": {"number": "0x8", "hash": "0x01"}},  # hex number: proxyd reads JSON integers
    {"head_l1": {"number": 22, "hash": "0x02", "timestamp": 0}},
    {"finalized_l2": {"number": 0, "hash": "0x" + "00" * 32}},
    {"current_l1": None},
])
def test_what_proxyd_cannot_parse_is_an_error_not_a_ban(bad):
    with pytest.raises(BadStatus):
        parse_status({**status(), **bad})


@pytest.mark.parametrize("now, rule", [
    (dict(safe=10, local_safe=9, unsafe=12), "safe > local_safe"),
    (dict(safe=9, local_safe=12, unsafe=8), "ordering"),
    (dict(finalized=9, safe=8), "ordering"),
    (dict(safe=7), "safe_l2 went down"),
    (dict(finalized=4), "finalized_l2 went down"),
])
def test_each_ban_rule(now, rule):
    prev = parse_status(status())[0]
    assert rule in [r for r, _ in ban_rules(prev, parse_status(status(**now))[0])]


def _poller(roots: dict[str, str]) -> ConsensusPoller:
    p = ConsensusPoller({n: f"http://{n}" for n in roots})
    p._rpc = lambda url, method, *a: {"outputRoot": roots[url.removeprefix("http://")]}
    return p


def test_a_majority_root_bans_the_dissenter_and_a_tie_halts():
    p = _poller({"a": "0x1", "b": "0x1", "c": "0x2"})
    p._check_outputs([(b, 8) for b in p._backends])
    assert [(b.backend, b.rule) for b in p.bans] == [("c", "output root dissent")]
    p = _poller({"a": "0x1", "b": "0x2"})
    p._check_outputs([(b, 8) for b in p._backends])
    assert p.bans == [] and p.halts == 1
