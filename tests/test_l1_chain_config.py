"""L1 blob schedules and the EIP-4844 blob base fee, against go-ethereum's tables."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivation.protocol.errors import ParseError
from derivation.protocol.l1_chain_config import (
    BUILTIN,
    CANCUN_UPDATE_FRACTION,
    PRAGUE_UPDATE_FRACTION,
    BlobBaseFeeError,
    L1ChainConfig,
    L1ChainConfigError,
    blob_base_fee,
    fake_exponential,
    l1_chain_config,
)
from tests.vectors import load

VEC = load("blob_base_fee.json")


@pytest.mark.parametrize("v", VEC["fake_exponential"], ids=lambda v: f"{v['factor']}-{v['numerator']}")
def test_fake_exponential_geth_table(v):
    assert fake_exponential(v["factor"], v["numerator"], v["denominator"]) == v["expected"]


@pytest.mark.parametrize("v", VEC["cancun_blob_fee"], ids=lambda v: str(v["excess_blob_gas"]))
def test_cancun_blob_fee_geth_table(v):
    assert blob_base_fee(v["excess_blob_gas"], v["update_fraction"]) == v["expected"]


def test_header_without_excess_blob_gas_has_fee_1():
    assert blob_base_fee(None, CANCUN_UPDATE_FRACTION) == 1


def test_absurd_excess_blob_gas_is_refused_quickly():
    with pytest.raises(BlobBaseFeeError):
        blob_base_fee(2**64 - 1, CANCUN_UPDATE_FRACTION)
    assert blob_base_fee(256 * CANCUN_UPDATE_FRACTION, CANCUN_UPDATE_FRACTION) > 2**256 // 10**40


@pytest.mark.parametrize("chain_id", [k for k in VEC["schedules"] if k != "provenance"])
def test_builtin_schedules_match_geth(chain_id):
    want = VEC["schedules"][chain_id]
    cfg = l1_chain_config(int(chain_id))
    got = {f.name: [f.time, f.update_fraction] for f in cfg.blob_schedule}
    assert got == {k: v for k, v in want.items() if k != "osaka_time_inherits_prague"}
    osaka = want["osaka_time_inherits_prague"]
    assert cfg.update_fraction_at(osaka) == PRAGUE_UPDATE_FRACTION
    for name, (t, fraction) in got.items():
        assert cfg.update_fraction_at(t) == fraction and cfg.blob_fork_at(t).name == name
        if t > 0:
            assert cfg.blob_fork_at(t - 1) is None or cfg.blob_fork_at(t - 1).name != name


def test_before_cancun_defaults_to_the_cancun_fraction():
    assert l1_chain_config(1).blob_fork_at(1_700_000_000) is None
    assert l1_chain_config(1).update_fraction_at(1_700_000_000) == CANCUN_UPDATE_FRACTION


def test_unknown_chain_needs_a_genesis_config():
    with pytest.raises(L1ChainConfigError, match="900"):
        l1_chain_config(900)
    assert set(BUILTIN) == {1, 11155111, 17000, 560048}


def test_from_genesis_config_like_geth():
    genesis = {"config": {
        "chainId": 900, "cancunTime": 0, "pragueTime": 100, "osakaTime": 200, "bpo1Time": 300, "bpo2Time": 300,
        "bpo3Time": 400,
        "blobSchedule": {"cancun": {"target": 3, "max": 6, "baseFeeUpdateFraction": 3338477},
                         "prague": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5007716},
                         "bpo1": {"target": 9, "max": 14, "baseFeeUpdateFraction": 8832827},
                         "bpo2": {"target": 14, "max": 21, "baseFeeUpdateFraction": 13739630}}}}
    cfg = L1ChainConfig.from_genesis_config(genesis)
    assert cfg.chain_id == 900
    assert [cfg.update_fraction_at(t) for t in (0, 99, 100, 250, 300, 500)] == [
        3338477, 3338477, 5007716, 5007716, 13739630, 13739630]  # bpo3 has no entry: inherits bpo2


def test_from_genesis_config_defaults_and_errors():
    cfg = L1ChainConfig.from_genesis_config({"chainId": "0x384", "cancunTime": "0x0", "pragueTime": 10})
    assert cfg.chain_id == 900 and cfg.update_fraction_at(10) == PRAGUE_UPDATE_FRACTION
    assert L1ChainConfig.from_genesis_config({"chainId": 5}).blob_schedule == ()
    for bad in ([], {"cancunTime": 0}, {"chainId": 1, "blobSchedule": []},
                {"chainId": 1, "bpo1Time": 0, "blobSchedule": {"bpo1": {"max": 3}}},
                {"chainId": 1, "cancunTime": 0, "blobSchedule": {"cancun": {"baseFeeUpdateFraction": 0}}}):
        with pytest.raises(ParseError):
            L1ChainConfig.from_genesis_config(bad)


json_values = st.recursive(st.none() | st.booleans() | st.integers(-2, 2**70) | st.text(max_size=12),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                       max_size=4), max_leaves=12)
keys = st.sampled_from(["chainId", "cancunTime", "pragueTime", "osakaTime", "bpo1Time", "bpo3Time", "blobSchedule",
                        "config"])


@settings(max_examples=300)
@given(st.dictionaries(keys, json_values, max_size=6) | json_values)
def test_random_genesis_configs_raise_only_parse_errors(config):
    try:
        cfg = L1ChainConfig.from_genesis_config(config)
    except ParseError:
        return
    assert all(f.update_fraction > 0 for f in cfg.blob_schedule)
    assert [f.time for f in cfg.blob_schedule] == sorted(f.time for f in cfg.blob_schedule)
