"""One fork schedule: the rollup config and the engine's chain spec share the activation rule (kona
``is_*_active``: a fork is active from its own time or the time of any later fork)."""

from derivation.protocol.forks import Fork, ForkSchedule
from derivation.protocol.rollup_config import RollupConfig
from engine.execution.chain_spec import ChainSpec


def test_rollup_config_and_chain_spec_use_the_one_rule():
    for cls in (RollupConfig, ChainSpec):
        for name in ("is_active", "activation_time", "fork_time", "activates", "active_fork"):
            assert getattr(cls, name) is getattr(ForkSchedule, name), f"{cls.__name__}.{name} is a copy"


def test_a_later_fork_activates_the_earlier_ones():
    spec = ChainSpec(10, {Fork.ECOTONE: 50, Fork.JOVIAN: 20})
    assert spec.is_active(Fork.CANYON, 20) and spec.is_active(Fork.HOLOCENE, 20) and spec.is_active(Fork.JOVIAN, 20)
    assert not spec.is_active(Fork.REGOLITH, 19) and not spec.is_active(Fork.KARST, 10**9)
    assert spec.is_active(Fork.BEDROCK, 0)
    assert spec.activation_time(Fork.ECOTONE) == 20 and spec.fork_time(Fork.ECOTONE) == 50
    assert spec.activation_time(Fork.KARST) is None and spec.activation_time(Fork.BEDROCK) == 0
    assert spec.fork_at(19) == Fork.BEDROCK and spec.fork_at(20) == Fork.JOVIAN
    assert spec.is_activation_block(Fork.JOVIAN, 20, 18) and not spec.is_activation_block(Fork.JOVIAN, 22, 20)
    assert spec.is_deposits_only_block(20, 18) and not spec.is_deposits_only_block(22, 20)


def test_the_l1_forks_follow_ops_mapping_in_the_evm_and_in_genesis_json():
    """Canyon brings Shanghai, Ecotone Cancun, Isthmus Prague, Karst Osaka (specs: superchain-upgrades.md,
    karst/overview.md): the EVM rules switch exactly there, and genesis.json names the same times."""
    from engine.execution.chain_spec import L1_FORKS
    from engine.execution.evm.forks import rules_for

    assert [(k, f) for k, f in L1_FORKS] == [("shanghaiTime", Fork.CANYON), ("cancunTime", Fork.ECOTONE),
                                              ("pragueTime", Fork.ISTHMUS), ("osakaTime", Fork.KARST)]
    for key, fork in L1_FORKS:
        flag = key.removesuffix("Time")
        assert getattr(rules_for(fork), flag) and not getattr(rules_for(Fork(fork - 1)), flag)
    config = ChainSpec(10, {Fork.ISTHMUS: 30, Fork.ECOTONE: 40}).to_json()
    assert (config["shanghaiTime"], config["cancunTime"], config["pragueTime"]) == (30, 30, 30)
    assert "osakaTime" not in config and config["ecotoneTime"] == 40
    assert ChainSpec.from_json(config) == ChainSpec(10, {Fork.ISTHMUS: 30, Fork.ECOTONE: 40})
