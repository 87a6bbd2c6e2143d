import json

import pytest

from derivation.errors import ParseError
from derivation.rollup_config import Fork, RollupConfig
from opnode.networks import NETWORKS, ConfigError, load_rollup_config, network_json

from .vectors import load


@pytest.mark.parametrize("name", NETWORKS)
def test_bundled_networks_match_registry_vectors(name):
    """The bundled rollup.json prints back exactly the registry-derived config (addresses compared case-free)."""
    expected = load("rollup_configs.json")["chains"][name]["rollup_json"]
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
    assert again == cfg


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
