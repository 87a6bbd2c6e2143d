import dataclasses
import json

import pytest

from derivation.protocol.errors import ParseError
from derivation.protocol.rollup_config import DependencySet, Fork, RollupConfig
from opnode.node.networks import (
    NETWORKS,
    ConfigError,
    load_dependency_set,
    load_rollup_config,
    network_info,
    network_json,
    parse_dependency_set,
)
from tests.vectors import load

SCHEDULE = load("network_schedule.json")


@pytest.mark.parametrize("name", NETWORKS)
def test_bundled_networks_match_registry_vectors(name):
    """The bundled rollup.json prints back exactly the registry-derived config (addresses compared case-free),
    plus the registry's keep_karst_upgrade_gas (op-node reads it into rollup.json since v1.19.1) and the Lagoon
    time of the November 2026 releases (network_schedule.json)."""
    chain = load("rollup_configs.json")["chains"][name]
    expected = dict(chain["rollup_json"])
    expected.update(chain["registry_only_fields"].get("extra_hardfork_keys", {}))
    if name in SCHEDULE["lagoon"]["chains"]:
        expected["lagoon_time"] = SCHEDULE["lagoon"]["chains"][name]["lagoon_time"]
    out = load_rollup_config(network=name).to_json()
    exp_sc = expected["genesis"]["system_config"]
    out_sc = out["genesis"].pop("system_config")
    assert {k: str(v).lower() for k, v in exp_sc.items()} == {k: str(out_sc[k]).lower() for k in exp_sc}
    assert all(int(out_sc[k], 16) == 0 for k in ("eip1559Params", "operatorFeeParams"))
    expected = {k: v for k, v in expected.items()}
    expected["genesis"] = {k: v for k, v in expected["genesis"].items() if k != "system_config"}
    assert json.loads(json.dumps(out).lower()) == json.loads(json.dumps(expected).lower())


def test_round_trip_is_stable():
    cfg = load_rollup_config(network="op-sepolia")
    again = RollupConfig.from_json(json.loads(json.dumps(cfg.to_json())))
    assert again == dataclasses.replace(cfg, dependency_set=None)  # the set is not rollup.json
    assert cfg.keep_karst_upgrade_gas and again.keep_karst_upgrade_gas


@pytest.mark.parametrize("name", ["op-mainnet", "op-sepolia", "unichain-mainnet", "unichain-sepolia"])
def test_op_and_unichain_keep_karst_gas_and_pair_for_lagoon(name):
    cfg = load_rollup_config(network=name)
    want = SCHEDULE["lagoon"]["chains"][name]
    assert cfg.keep_karst_upgrade_gas
    assert cfg.fork_time(Fork.LAGOON) == want["lagoon_time"]
    assert cfg.dependency_set == DependencySet(tuple(sorted(want["dependency_set"]))) and cfg.dependency_set.multi_chain
    assert cfg.l2_chain_id in cfg.dependency_set.chain_ids and cfg.derivation_limit is None


@pytest.mark.parametrize("name", ["base-mainnet", "base-sepolia"])
def test_base_configs_say_where_they_stop(name):
    cfg = load_rollup_config(network=name)
    want = SCHEDULE["base"]["chains"][name]
    assert cfg.derivation_limit.time == want["time"] and want["first_unsupported_fork"] in cfg.derivation_limit.reason
    assert cfg.fork_time(Fork.KARST) is None and cfg.dependency_set is None and not cfg.keep_karst_upgrade_gas
    msg = cfg.derivation_limit.message(want["time"])
    assert "\n" not in msg and "Azul" in msg and str(want["time"]) in msg
    assert "base-consensus" in network_info(name).derivation_limit.reason


def test_keep_karst_upgrade_gas_parses_and_is_emitted_only_when_set():
    raw = network_json("op-sepolia")
    assert RollupConfig.from_json(raw).to_json()["keep_karst_upgrade_gas"] is True
    raw["keep_karst_upgrade_gas"] = False
    assert "keep_karst_upgrade_gas" not in RollupConfig.from_json(raw).to_json()
    raw["keep_karst_upgrade_gas"] = "yes"
    with pytest.raises(ParseError, match="keep_karst_upgrade_gas must be true or false"):
        RollupConfig.from_json(raw)


def test_dependency_set_files_in_op_node_format(tmp_path):
    v = SCHEDULE["dependency_set_format"]
    ds = parse_dependency_set(json.dumps(v["example"]))
    assert ds.chain_ids == tuple(v["expected_chain_ids"]) and ds.message_expiry_window == v[
        "default_message_expiry_window"]
    old_style = {"dependencies": {"10": {"chainIndex": 10, "activationTime": 0}}, "overrideMessageExpiryWindow": 10}
    assert parse_dependency_set(json.dumps(old_style)) == DependencySet((10,), 10)
    p = tmp_path / "depset.json"
    p.write_text(json.dumps(v["example"]))
    assert load_dependency_set(p) == ds
    for bad, why in (("[]", "JSON object"), ("{}", "dependencies"), ('{"dependencies": {"0x0a": {}}}', "invalid chain ID"),
                     ("{nope", "not valid JSON"), ('{"dependencies": {}, "overrideMessageExpiryWindow": -1}',
                                                  "uint64")):
        with pytest.raises(ConfigError, match=why):
            parse_dependency_set(bad)
    with pytest.raises(ConfigError, match="cannot read dependency set"):
        load_dependency_set(tmp_path / "missing.json")


def test_fork_predicates_op_mainnet():
    cfg = load_rollup_config(network="op-mainnet")
    t = cfg.fork_time(Fork.HOLOCENE)
    assert not cfg.is_active(Fork.HOLOCENE, t - 1) and cfg.is_active(Fork.HOLOCENE, t)
    # Activation block: the first block whose timestamp is >= the fork time.
    first = cfg.timestamp_for_block(cfg.block_number_at(t - 1) + 1)
    assert cfg.is_activation_block(Fork.HOLOCENE, first)
    assert not cfg.is_activation_block(Fork.HOLOCENE, first + cfg.block_time)
    assert not cfg.is_activation_block(Fork.HOLOCENE, first - cfg.block_time)
    assert cfg.active_fork(t) == Fork.HOLOCENE
    assert cfg.is_active(Fork.REGOLITH, cfg.genesis.l2_time)


def test_later_fork_implies_earlier():
    raw = network_json("op-mainnet")
    for k in ("canyon_time", "delta_time", "ecotone_time", "fjord_time", "granite_time", "holocene_time",
              "isthmus_time", "karst_time"):
        raw.pop(k)
    raw["jovian_time"] = 100
    cfg = RollupConfig.from_json(raw)
    assert cfg.is_active(Fork.ECOTONE, 100) and not cfg.is_active(Fork.ECOTONE, 99)


def test_unichain_forks_at_genesis_have_no_activation_block():
    cfg = load_rollup_config(network="unichain-mainnet")
    g = cfg.genesis.l2_time
    assert not any(cfg.is_activation_block(Fork.ECOTONE, g + i) for i in range(0, 10))


def test_clock_dependent_constants():
    cfg = load_rollup_config(network="op-mainnet")
    gt, ft = cfg.fork_time(Fork.GRANITE), cfg.fork_time(Fork.FJORD)
    assert cfg.channel_timeout_at(gt - 1) == 300 and cfg.channel_timeout_at(gt) == 50
    assert cfg.max_sequencer_drift_at(ft - 1) == 600 and cfg.max_sequencer_drift_at(ft) == 1800
    assert cfg.max_rlp_bytes_per_channel(ft - 1) == 10_000_000 and cfg.max_rlp_bytes_per_channel(ft) == 100_000_000
    assert cfg.max_channel_bank_size(ft) == 1_000_000_000


def test_overrides():
    cfg = load_rollup_config(network="op-mainnet", overrides={Fork.LAGOON: 2_000_000_000})
    assert cfg.is_active(Fork.LAGOON, 2_000_000_000)
    assert cfg.to_json()["lagoon_time"] == 2_000_000_000


def test_interop_time_alias_accepted():
    raw = network_json("op-sepolia")
    raw["interop_time"] = 1_900_000_000
    assert RollupConfig.from_json(raw).fork_time(Fork.LAGOON) == 1_900_000_000


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(alt_da={"da_commitment_type": "KeccakCommitment"}), "alt-DA"),
    (lambda d: d.update(use_plasma=True), "alt-DA"),
    (lambda d: d.update(block_time=0), "block_time"),
    (lambda d: d.update(bogus_key=1), "unknown field"),
    (lambda d: d.pop("seq_window_size"), "seq_window_size"),
    (lambda d: d.update(l2_chain_id=1), "must differ"),
    (lambda d: d.update(fjord_time=1), "before"),
    (lambda d: d.update(batch_inbox_address="0x1234"), "20 bytes"),
])
def test_invalid_configs_are_rejected_with_a_reason(mutate, message):
    raw = network_json("op-mainnet")
    mutate(raw)
    with pytest.raises(ParseError, match=message):
        RollupConfig.from_json(raw)


def test_unknown_network_and_missing_choice():
    with pytest.raises(ConfigError, match="unknown network"):
        load_rollup_config(network="nope")
    with pytest.raises(ConfigError, match="exactly one"):
        load_rollup_config()


def test_rollup_config_file(tmp_path):
    p = tmp_path / "rollup.json"
    p.write_text(json.dumps(network_json("base-sepolia")))
    assert load_rollup_config(path=p).l2_chain_id == 84532
    p.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_rollup_config(path=p)


def test_config_show_prints_rollup_json_and_notes_what_it_cannot_carry(capsys):
    from opnode.cli import main

    with pytest.raises(SystemExit) as e:
        main(["config", "show", "--network", "base-sepolia"])
    out, err = capsys.readouterr()
    assert e.value.code == 0 and json.loads(out)["l2_chain_id"] == 84532
    assert f"not followable from {SCHEDULE['base']['chains']['base-sepolia']['time']}" in err and "Azul" in err
    with pytest.raises(SystemExit):
        main(["config", "show", "--network", "op-sepolia"])
    out, err = capsys.readouterr()
    assert json.loads(out)["keep_karst_upgrade_gas"] is True and "dependency set 1301, 11155420" in err
