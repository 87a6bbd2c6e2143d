"""The rollup configuration (op-node's ``rollup.json``) and every fork rule's predicate.

Fork activation is :class:`derivation.protocol.forks.ForkSchedule`'s rule (shared with the execution engine's chain
spec). Which clock a rule uses (L2 block time, L1 origin time, L1 inclusion time) is stated where it is applied.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from derivation.protocol.errors import ParseError
from derivation.protocol.forks import EMPTY_ACTIVATION_FORKS, SCHEDULED_FORKS, ForkSchedule
from derivation.protocol.forks import Fork as Fork  # re-exported: the rollup config is where most callers find it
from derivation.protocol.hexutil import from_hex, parse_quantity, to_hex
from derivation.protocol.jsonutil import JSONObject, JSONValue
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.types import BlockID

# Protocol constants (specs: derivation.md "Protocol Parameters", fjord/, granite/).
MAX_FRAME_LEN = 1_000_000
MAX_RLP_BYTES_PER_CHANNEL_BEDROCK = 10_000_000
MAX_RLP_BYTES_PER_CHANNEL_FJORD = 100_000_000
MAX_CHANNEL_BANK_SIZE_BEDROCK = 100_000_000
MAX_CHANNEL_BANK_SIZE_FJORD = 1_000_000_000
MAX_SPAN_BATCH_ELEMENT_COUNT = 10_000_000
FJORD_MAX_SEQUENCER_DRIFT = 1800
GRANITE_CHANNEL_TIMEOUT = 50
MESSAGE_EXPIRY_WINDOW = 604_800  # interop: op-core depset.MessageExpiryTimeSecondsInterop


@dataclass(frozen=True, slots=True)
class Genesis:
    l1: BlockID
    l2: BlockID
    l2_time: int
    system_config: SystemConfig


@dataclass(frozen=True, slots=True)
class ChainOpConfig:
    """The execution layer's EIP-1559 parameters (op-geth ``OptimismConfig``)."""

    eip1559_elasticity: int = 6
    eip1559_denominator: int = 50
    eip1559_denominator_canyon: int = 250


@dataclass(frozen=True, slots=True)
class DependencySet:
    """An interop dependency set (op-node ``depset.StaticConfigDependencySet``): the chain ids whose messages may
    be executed on each other. Derivation only asks whether it holds more than one chain (Lagoon's activation
    wrappers); cross-chain message checks belong to a supernode."""

    chain_ids: tuple[int, ...]
    message_expiry_window: int = MESSAGE_EXPIRY_WINDOW

    @property
    def multi_chain(self) -> bool:
        return len(self.chain_ids) > 1


@dataclass(frozen=True, slots=True)
class DerivationLimit:
    """The last time a bundled config describes its chain (a chain that left the OP Stack fork schedule):
    deriving a block at or after ``time`` would silently follow rules the chain no longer runs."""

    time: int
    reason: str

    def message(self, timestamp: int) -> str:
        return (f"refusing to derive the L2 block at {timestamp}: this rollup config describes the chain only "
                f"before {self.time} ({self.reason})")


@dataclass(frozen=True, slots=True)
class RollupConfig(ForkSchedule):
    genesis: Genesis
    block_time: int
    max_sequencer_drift: int
    seq_window_size: int
    channel_timeout: int
    l1_chain_id: int
    l2_chain_id: int
    batch_inbox_address: bytes
    deposit_contract_address: bytes
    l1_system_config_address: bytes
    fork_times: dict[Fork, int] = field(default_factory=dict)  # unscheduled forks are absent
    granite_channel_timeout: int = GRANITE_CHANNEL_TIMEOUT
    pectra_blob_schedule_time: int | None = None
    protocol_versions_address: bytes | None = None
    chain_op_config: ChainOpConfig = ChainOpConfig()
    chain_op_config_given: bool = True  # False when defaulted: then it is not emitted again
    keep_karst_upgrade_gas: bool = False  # rollup.json / registry [hardforks]; see l1_info.upgrade_gas_to_strip
    # Not rollup.json: the node attaches them (--interop.dependency-set or the bundled network, networks.json).
    dependency_set: DependencySet | None = None
    derivation_limit: DerivationLimit | None = None

    # ------------------------------------------------------------------------------------------- fork rules

    def is_activation_block(self, fork: Fork, l2_timestamp: int) -> bool:
        """The first L2 block with ``fork`` active (never the genesis block: a fork at genesis has none)."""
        return (l2_timestamp >= self.block_time and self.activates(fork, l2_timestamp, l2_timestamp - self.block_time)
                and l2_timestamp > self.genesis.l2_time)

    def is_empty_activation_block(self, l2_timestamp: int) -> bool:
        """The L2 block at ``l2_timestamp`` activates a fork whose activation block carries no user transactions."""
        return any(self.is_activation_block(f, l2_timestamp) for f in EMPTY_ACTIVATION_FORKS)

    def is_pectra_blob_schedule(self, l1_origin_time: int) -> bool:
        """Pectra blob schedule fix (only some Sepolia chains): active at L1 origin times >= its time."""
        t = self.pectra_blob_schedule_time
        return t is not None and l1_origin_time >= t

    def channel_timeout_at(self, l1_time: int) -> int:
        """Channel timeout in L1 blocks; the clock is the L1 origin of the stage applying it (Granite)."""
        return self.granite_channel_timeout if self.is_active(Fork.GRANITE, l1_time) else self.channel_timeout

    def max_sequencer_drift_at(self, l1_origin_time: int) -> int:
        """Fjord makes the drift a constant; the clock is the batch's L1 origin time."""
        return FJORD_MAX_SEQUENCER_DRIFT if self.is_active(Fork.FJORD, l1_origin_time) else self.max_sequencer_drift

    def max_rlp_bytes_per_channel(self, l1_time: int) -> int:
        return MAX_RLP_BYTES_PER_CHANNEL_FJORD if self.is_active(Fork.FJORD, l1_time) else MAX_RLP_BYTES_PER_CHANNEL_BEDROCK

    def max_channel_bank_size(self, l1_time: int) -> int:
        return MAX_CHANNEL_BANK_SIZE_FJORD if self.is_active(Fork.FJORD, l1_time) else MAX_CHANNEL_BANK_SIZE_BEDROCK

    def timestamp_for_block(self, number: int) -> int:
        return self.genesis.l2_time + (number - self.genesis.l2.number) * self.block_time

    def block_number_at(self, timestamp: int) -> int:
        if timestamp < self.genesis.l2_time:
            raise ValueError(f"timestamp {timestamp} is before L2 genesis ({self.genesis.l2_time})")
        return self.genesis.l2.number + (timestamp - self.genesis.l2_time) // self.block_time

    def with_fork_times(self, overrides: dict[Fork, int]) -> RollupConfig:
        """A copy with ``--override.<fork>`` times applied."""
        times = dict(self.fork_times)
        times.update(overrides)
        return dataclasses.replace(self, fork_times=times)

    # ------------------------------------------------------------------------------------------- validation

    def check(self) -> None:
        """op-node's ``Config.Check`` plus the fork order; raises ParseError with a one-line reason."""
        g = self.genesis
        problems = [
            (self.block_time == 0, "block_time cannot be 0"),
            (self.channel_timeout == 0, "channel_timeout must be set"),
            (self.seq_window_size < 2, "seq_window_size must be at least 2"),
            (g.l1.hash == bytes(32), "genesis.l1.hash cannot be empty"),
            (g.l2.hash == bytes(32), "genesis.l2.hash cannot be empty"),
            (g.l1.hash == g.l2.hash, "genesis L1 and L2 hashes cannot be the same"),
            (g.l2_time == 0, "genesis.l2_time is missing"),
            (g.system_config.batcher_addr == bytes(20), "genesis.system_config.batcherAddr is missing"),
            (g.system_config.scalar == bytes(32), "genesis.system_config.scalar is missing"),
            (g.system_config.gas_limit == 0, "genesis.system_config.gasLimit is missing"),
            (self.batch_inbox_address == bytes(20), "batch_inbox_address is missing"),
            (self.deposit_contract_address == bytes(20), "deposit_contract_address is missing"),
            (self.l1_chain_id <= 0, "l1_chain_id must be positive"),
            (self.l2_chain_id <= 0, "l2_chain_id must be positive"),
            (self.l1_chain_id == self.l2_chain_id, "l1_chain_id and l2_chain_id must differ"),
        ]
        for bad, why in problems:
            if bad:
                raise ParseError(f"invalid rollup config: {why}")
        last: tuple[Fork, int] | None = None
        for f in SCHEDULED_FORKS:
            t = self.fork_times.get(f)
            if t is None:
                continue
            if last is not None and t < last[1]:
                raise ParseError(f"invalid rollup config: {f.label}_time ({t}) is before "
                                 f"{last[0].label}_time ({last[1]})")
            last = (f, t)

    # ------------------------------------------------------------------------------------------- JSON

    @classmethod
    def from_json(cls, d: JSONValue) -> RollupConfig:
        """Parse op-node's rollup.json. Unknown keys are rejected (op-node decodes with DisallowUnknownFields)."""
        if not isinstance(d, dict):
            raise ParseError("rollup config must be a JSON object")
        unknown = set(d) - _KNOWN_KEYS
        if unknown:
            raise ParseError(f"unknown field(s) in rollup config: {', '.join(sorted(unknown))}")
        _reject_alt_da(d)
        try:
            g = _object(d["genesis"], "genesis")
            genesis = Genesis(
                l1=BlockID.from_json(g["l1"]),
                l2=BlockID.from_json(g["l2"]),
                l2_time=parse_quantity(g["l2_time"]),
                system_config=SystemConfig.from_json(_object(g["system_config"], "genesis.system_config")),
            )
            times: dict[Fork, int] = {}
            for f in SCHEDULED_FORKS:
                keys = ("lagoon_time", "interop_time") if f == Fork.LAGOON else (f"{f.label}_time",)
                for k in keys:
                    if d.get(k) is not None:
                        times[f] = parse_quantity(d[k])
            op = None if d.get("chain_op_config") is None else _object(d["chain_op_config"], "chain_op_config")
            pvs = d.get("protocol_versions_address")
            pbs = d.get("pectra_blob_schedule_time")
            cfg = cls(
                genesis=genesis,
                block_time=parse_quantity(d["block_time"]),
                max_sequencer_drift=parse_quantity(d.get("max_sequencer_drift", 0)),
                seq_window_size=parse_quantity(d["seq_window_size"]),
                channel_timeout=parse_quantity(d["channel_timeout"]),
                granite_channel_timeout=parse_quantity(d.get("granite_channel_timeout", GRANITE_CHANNEL_TIMEOUT)),
                l1_chain_id=parse_quantity(d["l1_chain_id"]),
                l2_chain_id=parse_quantity(d["l2_chain_id"]),
                batch_inbox_address=from_hex(d["batch_inbox_address"], 20),
                deposit_contract_address=from_hex(d["deposit_contract_address"], 20),
                l1_system_config_address=from_hex(d["l1_system_config_address"], 20),
                fork_times=times,
                pectra_blob_schedule_time=None if pbs is None else parse_quantity(pbs),
                protocol_versions_address=None if pvs is None else from_hex(pvs, 20),
                chain_op_config=ChainOpConfig(
                    eip1559_elasticity=parse_quantity(op["eip1559Elasticity"]),
                    eip1559_denominator=parse_quantity(op["eip1559Denominator"]),
                    eip1559_denominator_canyon=parse_quantity(op["eip1559DenominatorCanyon"]),
                ) if op else ChainOpConfig(),
                chain_op_config_given=bool(op),
                keep_karst_upgrade_gas=_bool(d.get("keep_karst_upgrade_gas", False), "keep_karst_upgrade_gas"),
            )
        except KeyError as e:
            raise ParseError(f"rollup config is missing field {e.args[0]!r}") from None
        except (TypeError, AttributeError) as e:
            raise ParseError(f"rollup config has a field of the wrong type: {e}") from None
        cfg.check()
        return cfg

    def to_json(self) -> JSONObject:
        """op-node's JSON shape: numbers as JSON numbers, addresses lower-case hex, unscheduled forks omitted."""
        g = self.genesis
        out: JSONObject = {
            "genesis": {"l1": g.l1.to_json(), "l2": g.l2.to_json(), "l2_time": g.l2_time,
                        "system_config": g.system_config.to_json()},
            "block_time": self.block_time,
            "max_sequencer_drift": self.max_sequencer_drift,
            "seq_window_size": self.seq_window_size,
            "channel_timeout": self.channel_timeout,
            "l1_chain_id": self.l1_chain_id,
            "l2_chain_id": self.l2_chain_id,
        }
        if self.granite_channel_timeout != GRANITE_CHANNEL_TIMEOUT:
            out["granite_channel_timeout"] = self.granite_channel_timeout
        for f in SCHEDULED_FORKS:
            t = self.fork_times.get(f)
            if t is not None:
                out["lagoon_time" if f == Fork.LAGOON else f"{f.label}_time"] = t
        if self.pectra_blob_schedule_time is not None:
            out["pectra_blob_schedule_time"] = self.pectra_blob_schedule_time
        out["batch_inbox_address"] = to_hex(self.batch_inbox_address)
        out["deposit_contract_address"] = to_hex(self.deposit_contract_address)
        out["l1_system_config_address"] = to_hex(self.l1_system_config_address)
        if self.protocol_versions_address is not None:
            out["protocol_versions_address"] = to_hex(self.protocol_versions_address)
        if self.keep_karst_upgrade_gas:
            out["keep_karst_upgrade_gas"] = True
        if self.chain_op_config_given:
            c = self.chain_op_config
            out["chain_op_config"] = {"eip1559Elasticity": c.eip1559_elasticity,
                                      "eip1559Denominator": c.eip1559_denominator,
                                      "eip1559DenominatorCanyon": c.eip1559_denominator_canyon}
        return out


_KNOWN_KEYS = {
    "genesis", "block_time", "max_sequencer_drift", "seq_window_size", "channel_timeout", "granite_channel_timeout",
    "l1_chain_id", "l2_chain_id", "batch_inbox_address", "deposit_contract_address", "l1_system_config_address",
    "protocol_versions_address", "chain_op_config", "pectra_blob_schedule_time", "interop_time", "lagoon_time",
    "alt_da", "interop_message_expiry_window", "superchain_config_address", "keep_karst_upgrade_gas",
    # Pre-alt-DA "plasma" keys of 2024 configs: accepted so the alt-DA check below can name them.
    "use_plasma", "da_challenge_contract_address", "da_challenge_window", "da_resolve_window", "blobs_data",
    *(f"{f.label}_time" for f in SCHEDULED_FORKS if f != Fork.LAGOON),
}


def _object(v: JSONValue, name: str) -> JSONObject:
    if not isinstance(v, dict):
        raise ParseError(f"rollup config field {name} must be an object")
    return v


def _bool(v: JSONValue, name: str) -> bool:
    if not isinstance(v, bool):
        raise ParseError(f"rollup config field {name} must be true or false, got {v!r}")
    return v


def _reject_alt_da(d: JSONObject) -> None:
    """Alt-DA (plasma) chains read commitments, not frames; deriving them as ordinary chains would be wrong."""
    alt = d.get("alt_da")
    if alt or d.get("use_plasma") or d.get("da_challenge_contract_address") not in (None, "", "0x" + "00" * 20):
        raise ParseError("alt-DA is enabled in this rollup config; opnode does not support alt-DA chains")
