"""The execution layer's chain configuration: chain id, OP fork times and EIP-1559 parameters (op-geth's
``params.ChainConfig`` with its ``optimism`` section).

Fork activation is :class:`derivation.protocol.forks.ForkSchedule`'s rule, the same one the rollup config uses. The
L1 forks the OP forks imply are fixed: Canyon brings Shanghai, Ecotone Cancun, Isthmus Prague, Karst Osaka (specs:
superchain-upgrades.md, each fork's overview; karst/overview.md; applied by ``evm.forks.rules_for``). Lagoon changes
no EVM rule: it adds the post-exec transaction (lagoon/post-exec.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derivation.protocol.forks import EMPTY_ACTIVATION_FORKS, SCHEDULED_FORKS, Fork, ForkSchedule

EXEC_FORKS = SCHEDULED_FORKS  # every OP fork after Bedrock changes what the engine executes or accepts


@dataclass(frozen=True, slots=True)
class ChainSpec(ForkSchedule):
    chain_id: int
    fork_times: dict[Fork, int] = field(default_factory=dict)  # unscheduled forks are absent
    eip1559_elasticity: int = 6
    eip1559_denominator: int = 50
    eip1559_denominator_canyon: int = 250

    def fork_at(self, t: int) -> Fork:
        """The newest execution fork active at L2 time ``t``."""
        return self.active_fork(t, EXEC_FORKS)

    def is_activation_block(self, fork: Fork, t: int, parent_time: int) -> bool:
        """The block at ``t`` (child of a block at ``parent_time``) is the first one with ``fork`` active."""
        return self.activates(fork, t, parent_time)

    def is_deposits_only_block(self, t: int, parent_time: int) -> bool:
        """The block is the activation block of some fork from Jovian on, which admits only deposits (and the
        post-exec transaction): optimism PR #21326; alloy-op-evm ``no_user_tx_activation_block`` /
        ``OpHardforks::is_no_user_tx_activation_block`` (index 2026-11), op-geth's ``CalcDAFootprint`` shape check."""
        return any(self.activates(f, t, parent_time) for f in EMPTY_ACTIVATION_FORKS)

    def base_fee_denominator(self, t: int) -> int:
        return self.eip1559_denominator_canyon if self.is_active(Fork.CANYON, t) else self.eip1559_denominator
