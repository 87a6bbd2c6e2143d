"""The execution layer's chain configuration: chain id, OP fork times and EIP-1559 parameters (op-geth's
``params.ChainConfig`` with its ``optimism`` section).

Fork activation follows the same rule as :class:`derivation.protocol.rollup_config.RollupConfig`: a fork is active at ``t``
when its own time, or the time of any later fork, is set and ``<= t``. The L1 forks the OP forks imply are fixed:
Canyon brings Shanghai, Ecotone Cancun, Isthmus Prague, Karst Osaka (specs: superchain-upgrades.md, each fork's
overview; karst/overview.md). Lagoon changes no EVM rule: it adds the post-exec transaction (lagoon/post-exec.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derivation.protocol.rollup_config import Fork

EXEC_FORKS = (Fork.REGOLITH, Fork.CANYON, Fork.DELTA, Fork.ECOTONE, Fork.FJORD, Fork.GRANITE, Fork.HOLOCENE,
              Fork.ISTHMUS, Fork.JOVIAN, Fork.KARST, Fork.LAGOON)


@dataclass(frozen=True, slots=True)
class ChainSpec:
    chain_id: int
    fork_times: dict[Fork, int] = field(default_factory=dict)  # unscheduled forks are absent
    eip1559_elasticity: int = 6
    eip1559_denominator: int = 50
    eip1559_denominator_canyon: int = 250

    def is_active(self, fork: Fork, t: int) -> bool:
        if fork == Fork.BEDROCK:
            return True
        for f in range(fork, len(Fork)):
            ft = self.fork_times.get(Fork(f))
            if ft is not None and t >= ft:
                return True
        return False

    def fork_at(self, t: int) -> Fork:
        """The newest execution fork active at L2 time ``t`` (Delta and Granite change no EL rule of their own
        beyond what this module's callers check by name)."""
        for f in reversed(EXEC_FORKS):
            if self.is_active(f, t):
                return f
        return Fork.BEDROCK

    def is_activation_block(self, fork: Fork, t: int, parent_time: int) -> bool:
        """The block at ``t`` (child of a block at ``parent_time``) is the first one with ``fork`` active."""
        return self.is_active(fork, t) and not self.is_active(fork, parent_time)

    def is_deposits_only_block(self, t: int, parent_time: int) -> bool:
        """The block is the activation block of some fork from Jovian on, which admits only deposits (and the
        post-exec transaction): optimism PR #21326; alloy-op-evm ``no_user_tx_activation_block`` /
        ``OpHardforks::is_no_user_tx_activation_block`` (index 2026-11), op-geth's ``CalcDAFootprint`` shape check."""
        return any(self.is_activation_block(f, t, parent_time) for f in EXEC_FORKS if f >= Fork.JOVIAN)

    def base_fee_denominator(self, t: int) -> int:
        return self.eip1559_denominator_canyon if self.is_active(Fork.CANYON, t) else self.eip1559_denominator
