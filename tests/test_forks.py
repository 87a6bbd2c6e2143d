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
