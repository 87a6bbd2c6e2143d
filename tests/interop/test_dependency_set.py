"""Dependency-set JSON, the expiry window cap and interop activation, against spec-vectors/interop/ (op-core's
depset tests and the shared window-differential vectors)."""

import pytest

from derivation.interop.dependency_set import (
    DependencySetError,
    common_activation_time,
    dependency_set_json,
    from_chain_ids,
    interop_active_for_full_block,
    parse_dependency_set,
)
from derivation.protocol.rollup_config import MESSAGE_EXPIRY_WINDOW, DependencySet
from tests.interop.support import rollup_config
from tests.vectors import ROOT, load

CASES = load("interop/dependency_sets.json")["cases"]
WINDOW = load("interop/expiry_window.json")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_dependency_set_cases(case):
    if "error" in case:
        with pytest.raises(DependencySetError) as e:
            parse_dependency_set(case["json"], "set.json")
        assert case["error"] in str(e.value) and "set.json" in str(e.value)
        return
    ds = parse_dependency_set(case["json"])
    assert ds.chain_ids == tuple(case["chain_ids"])
    assert ds.message_expiry_window == case["window"]
    assert not set(case.get("not_in_set", ())) & set(ds.chain_ids)


def test_op_program_depsets_example_parses():
    ds = parse_dependency_set((ROOT / "dependency_set_example.json").read_text())
    assert ds == DependencySet((901, 902))


@pytest.mark.parametrize("v", WINDOW["vectors"], ids=lambda v: v["name"])
def test_window_differential_config(v):
    """The override above the 7-day cap is refused when parsed, never clamped; any other is used verbatim."""
    text = f'{{"dependencies":{{"900":{{}},"901":{{}}}},"overrideMessageExpiryWindow":{v["override"]}}}'
    if v["configRejected"]:
        with pytest.raises(DependencySetError):
            parse_dependency_set(text)
        return
    assert parse_dependency_set(text).message_expiry_window == v["window"]


def test_window_default_is_the_spec_seven_days():
    assert WINDOW["defaultWindow"] == MESSAGE_EXPIRY_WINDOW == 7 * 24 * 3600


def test_json_round_trip_omits_the_default_override():
    assert dependency_set_json(from_chain_ids([901, 900])) == {"dependencies": {"900": {}, "901": {}}}
    ds = from_chain_ids([900, 901], 15)
    assert dependency_set_json(ds)["overrideMessageExpiryWindow"] == 15
    assert parse_dependency_set(dependency_set_json(ds)) == ds


@pytest.mark.parametrize("bad", ["[]", '{"dependencies": []}', '{"overrideMessageExpiryWindow": 5}',
                                 '{"dependencies": {"": {}}}', '{"dependencies": {"1": {}}, "overrideMessageExpiryWindow": "5"}',
                                 '{"dependencies": {"1": {}}, "overrideMessageExpiryWindow": true}'])
def test_bad_input_is_one_clear_error(bad):
    with pytest.raises(DependencySetError) as e:
        parse_dependency_set(bad, "depset.json")
    assert "depset.json" in str(e.value) and "\n" not in str(e.value)


def test_activation_is_a_full_block_after_lagoon():
    """kona ``interop_active_for_full_block``: active, and not the activation block (never genesis)."""
    cfgs = {1: rollup_config(1, lagoon_time=4), 2: rollup_config(2, lagoon_time=0), 3: rollup_config(3, None)}
    assert [interop_active_for_full_block(cfgs, 1, t) for t in (2, 4, 6)] == [False, False, True]
    assert interop_active_for_full_block(cfgs, 2, 0) and interop_active_for_full_block(cfgs, 2, 2)
    assert not interop_active_for_full_block(cfgs, 3, 100)
    with pytest.raises(DependencySetError):
        interop_active_for_full_block(cfgs, 4, 100)


def test_every_chain_must_share_the_activation_time():
    ds = from_chain_ids([1, 2])
    assert common_activation_time(ds, {1: rollup_config(1, 10), 2: rollup_config(2, 10)}) == 10
    with pytest.raises(DependencySetError, match="disagree"):
        common_activation_time(ds, {1: rollup_config(1, 10), 2: rollup_config(2, 12)})
    with pytest.raises(DependencySetError, match="not scheduled"):
        common_activation_time(ds, {1: rollup_config(1, 10), 2: rollup_config(2, None)})
