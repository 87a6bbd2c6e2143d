"""The execution layer's chain configuration: chain id, OP fork times and EIP-1559 parameters (op-geth's
``params.ChainConfig`` with its ``optimism`` section).

Fork activation is :class:`derivation.protocol.forks.ForkSchedule`'s rule, the same one the rollup config uses. The
L1 forks the OP forks imply are fixed: Canyon brings Shanghai, Ecotone Cancun, Isthmus Prague, Karst Osaka (specs:
superchain-upgrades.md, each fork's overview; karst/overview.md; applied by ``evm.forks.rules_for``). Lagoon changes
no EVM rule: it adds the post-exec transaction (lagoon/post-exec.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derivation.protocol.errors import ParseError
from derivation.protocol.forks import EMPTY_ACTIVATION_FORKS, SCHEDULED_FORKS, Fork, ForkSchedule
from derivation.protocol.hexutil import parse_quantity, to_hex

EXEC_FORKS = SCHEDULED_FORKS  # every OP fork after Bedrock changes what the engine executes or accepts
L1_FORKS = (("shanghaiTime", Fork.CANYON), ("cancunTime", Fork.ECOTONE), ("pragueTime", Fork.ISTHMUS),
            ("osakaTime", Fork.KARST))
_PRE_MERGE_BLOCKS = ("homesteadBlock", "eip150Block", "eip155Block", "eip158Block", "byzantiumBlock",
                     "constantinopleBlock", "petersburgBlock", "istanbulBlock", "muirGlacierBlock", "berlinBlock",
                     "londonBlock", "arrowGlacierBlock", "grayGlacierBlock", "mergeNetsplitBlock", "bedrockBlock")
_FORK_JSON = {f: f"{f.label}Time" for f in EXEC_FORKS}
_FORK_JSON_ALIASES = {Fork.LAGOON: "interopTime"}  # op-geth still serialises Lagoon as interopTime (op-alloy alias)


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

    def to_json(self) -> dict:
        """op-geth's ``config`` object of genesis.json; the L1 fork times are the activation times of the OP
        forks that bring them (``L1_FORKS``)."""
        config: dict = {"chainId": self.chain_id, **dict.fromkeys(_PRE_MERGE_BLOCKS, 0)}
        for l1_key, fork in L1_FORKS:
            t = self.activation_time(fork)
            if t is not None:
                config[l1_key] = t
        config.update({key: self.fork_times[f] for f, key in _FORK_JSON.items() if f in self.fork_times})
        config.update(terminalTotalDifficulty=0, depositContractAddress=to_hex(bytes(20)),
                      optimism={"eip1559Elasticity": self.eip1559_elasticity,
                                "eip1559Denominator": self.eip1559_denominator,
                                "eip1559DenominatorCanyon": self.eip1559_denominator_canyon})
        return config

    @classmethod
    def from_json(cls, c) -> ChainSpec:
        """Parse op-geth's ``config`` object (numbers hex or decimal, unknown keys ignored as op-geth does)."""
        if not isinstance(c, dict):
            raise ParseError("genesis must be a JSON object with a 'config' object")
        times = {f: parse_quantity(c[k]) for f, k in _FORK_JSON.items() if c.get(k) is not None}
        for f, k in _FORK_JSON_ALIASES.items():
            if f not in times and c.get(k) is not None:
                times[f] = parse_quantity(c[k])
        op = c.get("optimism")
        if not isinstance(op, dict):
            raise ParseError("genesis config has no 'optimism' section: not an OP Stack chain")
        return cls(parse_quantity(c["chainId"]), times, parse_quantity(op.get("eip1559Elasticity", 6)),
                   parse_quantity(op.get("eip1559Denominator", 50)),
                   parse_quantity(op.get("eip1559DenominatorCanyon", 250)))

    def base_fee_denominator(self, t: int) -> int:
        return self.eip1559_denominator_canyon if self.is_active(Fork.CANYON, t) else self.eip1559_denominator
