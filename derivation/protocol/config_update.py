"""SystemConfig updates from L1: ``ConfigUpdate(uint256 indexed version, uint8 indexed updateType, bytes data)``
logs of the L1 SystemConfig contract (specs: system-config.md §System Config Updates; holocene/, isthmus/, jovian/
system-config.md).

The log has exactly three topics (event, version 0, update type) and ``data = abi.encode(bytes payload)``: an offset
word of 32, a length word, then the payload; no byte more. Payloads by type (system-config.md; op-node
``ProcessSystemConfigUpdateLogEvent``):

====  ========================  ======  ===========================================================
type  name                      length  payload
====  ========================  ======  ===========================================================
0     BATCHER                   32      address (left-padded)
1     FEE_SCALARS               64      overhead ‖ scalar (after Ecotone only the scalar is kept)
2     GAS_LIMIT                 32      uint64
3     UNSAFE_BLOCK_SIGNER       32      address; not used by derivation
4     EIP_1559_PARAMS           32      bytes [24:28] denominator, [28:32] elasticity
5     OPERATOR_FEE_PARAMS       32      (scalar u32 << 64) | constant u64, stored as the raw word
6     MIN_BASE_FEE              32      uint64
7     DA_FOOTPRINT_GAS_SCALAR   32      uint16
====  ========================  ======  ===========================================================

Malformed updates are skipped: the update is not applied, the other updates of the block still are, and
derivation goes on (spec system-config.md: "not applied and instead skipped"; op-node
``UpdateSystemConfigWithL1Receipts`` applies each log to a copy and keeps it only when it parsed, and every
production caller ignores the errors, PR #18292 2025-11-14, op-node/rollup/derive/system_config.go, file index id
52355586689, and attributes.go at karlfloersch/optimism@b5c39b26; kona followed in PRs #19358, #19503 and #19688,
2026-03: one malformed log on L1 must not halt every node). A FEE_SCALARS update, once Ecotone is active by the L1
log's block time, whose scalar is not a valid versioned scalar is ignored the same way (op-node
``CheckEcotoneL1SystemConfigScalar``). Where op-node and kona differ on bytes the SystemConfig contract can never
emit, this module follows op-node (the client of the live chains): the EIP-1559 word's upper 24 bytes and the
operator-fee word's upper 20 bytes are not checked, the update type must be the whole 32-byte topic, and
UNSAFE_BLOCK_SIGNER payloads are not validated by derivation at all.

The unsafe block signer is not part of :class:`SystemConfig`: it cannot be rebuilt from L2 blocks (a reset reseeds
both SystemConfig copies from an L2 block, derivation.md §Resetting the Pipeline), it is not in op-node's
SystemConfig JSON, and op-node's P2P layer
reads it from the contract's storage slot. :func:`unsafe_block_signer_updates` returns it separately for the P2P
layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum

from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.l1_info import is_valid_ecotone_scalar
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.types import Log, Receipt

CONFIG_UPDATE_TOPIC = keccak256(b"ConfigUpdate(uint256,uint8,bytes)")
CONFIG_UPDATE_VERSION_0 = bytes(32)


class UpdateType(IntEnum):
    BATCHER = 0
    FEE_SCALARS = 1
    GAS_LIMIT = 2
    UNSAFE_BLOCK_SIGNER = 3
    EIP_1559_PARAMS = 4
    OPERATOR_FEE_PARAMS = 5
    MIN_BASE_FEE = 6
    DA_FOOTPRINT_GAS_SCALAR = 7


_PAYLOAD_LEN = {t: 64 if t == UpdateType.FEE_SCALARS else 32 for t in UpdateType}


class ConfigUpdateError(ParseError):
    """A ``ConfigUpdate`` log that does not follow the event format."""


@dataclass(frozen=True, slots=True)
class ConfigUpdate:
    """One parsed update: its type and its ABI payload (length checked, values not yet interpreted). A malformed
    UNSAFE_BLOCK_SIGNER update has an empty payload instead of an error."""

    type: UpdateType
    payload: bytes


def parse_config_update(log: Log) -> ConfigUpdate:
    """Check the topics and the ``bytes`` envelope of a ConfigUpdate log."""
    topics = log.topics
    if len(topics) != 3:
        raise ConfigUpdateError(f"ConfigUpdate log must have 3 topics (event, version, type), got {len(topics)}")
    if topics[0] != CONFIG_UPDATE_TOPIC:
        raise ConfigUpdateError(f"not a ConfigUpdate log: topic0 0x{bytes(topics[0]).hex()}")
    if topics[1] != CONFIG_UPDATE_VERSION_0:
        raise ConfigUpdateError(f"unknown ConfigUpdate version 0x{bytes(topics[1]).hex()}")
    topic = bytes(topics[2])
    if len(topic) != 32 or any(topic[:31]) or topic[31] not in UpdateType._value2member_map_:
        raise ConfigUpdateError(f"unknown ConfigUpdate type 0x{topic.hex()}")
    kind = UpdateType(topic[31])
    data = bytes(log.data)
    size = _PAYLOAD_LEN[kind]
    try:
        if len(data) != 64 + size:
            raise ConfigUpdateError(f"{kind.name} update data must be {64 + size} bytes, got {len(data)}")
        if data[0:32] != (32).to_bytes(32, "big"):
            raise ConfigUpdateError(f"{kind.name} update has an invalid pointer word 0x{data[0:32].hex()}")
        if data[32:64] != size.to_bytes(32, "big"):
            raise ConfigUpdateError(f"{kind.name} update has an invalid length word 0x{data[32:64].hex()}")
    except ConfigUpdateError:
        if kind == UpdateType.UNSAFE_BLOCK_SIGNER:
            return ConfigUpdate(kind, b"")  # derivation ignores this type, malformed or not (op-node)
        raise
    return ConfigUpdate(kind, data[64:])


def _uint(word: bytes, bits: int, what: str) -> int:
    v = int.from_bytes(word, "big")
    if v >> bits:
        raise ConfigUpdateError(f"{what} does not fit in {bits} bits: 0x{word.hex()}")
    return v


def apply_update(sys_cfg: SystemConfig, update: ConfigUpdate, cfg: RollupConfig, l1_time: int) -> SystemConfig:
    """The SystemConfig after one update. ``l1_time`` is the time of the L1 block holding the log (the clock of
    the Ecotone scalar rule)."""
    p = update.payload
    kind = update.type
    if kind == UpdateType.BATCHER:
        return dataclasses.replace(sys_cfg, batcher_addr=_uint(p, 160, "batcher address").to_bytes(20, "big"))
    if kind == UpdateType.FEE_SCALARS:
        overhead, scalar = p[:32], p[32:]
        if cfg.is_active(Fork.ECOTONE, l1_time):
            if not is_valid_ecotone_scalar(scalar):
                return sys_cfg  # ignored: the old scalar stays (op-node, kona)
            return dataclasses.replace(sys_cfg, overhead=bytes(32), scalar=scalar)
        return dataclasses.replace(sys_cfg, overhead=overhead, scalar=scalar)
    if kind == UpdateType.GAS_LIMIT:
        return dataclasses.replace(sys_cfg, gas_limit=_uint(p, 64, "gas limit"))
    if kind == UpdateType.EIP_1559_PARAMS:
        denominator, elasticity = int.from_bytes(p[24:28], "big"), int.from_bytes(p[28:32], "big")
        if denominator == 0 and elasticity != 0:
            raise ConfigUpdateError("EIP-1559 params cannot have a zero denominator with a non-zero elasticity")
        return dataclasses.replace(sys_cfg, eip1559_params=p[24:32])
    if kind == UpdateType.OPERATOR_FEE_PARAMS:
        return dataclasses.replace(sys_cfg, operator_fee_params=p)
    if kind == UpdateType.MIN_BASE_FEE:
        return dataclasses.replace(sys_cfg, min_base_fee=_uint(p, 64, "min base fee"))
    if kind == UpdateType.DA_FOOTPRINT_GAS_SCALAR:
        return dataclasses.replace(sys_cfg, da_footprint_gas_scalar=_uint(p, 16, "DA footprint gas scalar"))
    return sys_cfg  # UNSAFE_BLOCK_SIGNER: P2P policy, not derivation


def _config_update_logs(receipts: Iterable[Receipt], system_config_address: bytes) -> Iterator[Log]:
    """Logs of successful receipts from the SystemConfig address with topic0 = ConfigUpdate (system-config.md
    §System config updates)."""
    for receipt in receipts:
        if receipt.status != 1:
            continue
        for log in receipt.logs:
            if log.address == system_config_address and log.topics and log.topics[0] == CONFIG_UPDATE_TOPIC:
                yield log


def apply_receipts_reporting(sys_cfg: SystemConfig, receipts: Iterable[Receipt], system_config_address: bytes,
                             cfg: RollupConfig, l1_time: int) -> tuple[SystemConfig, list[str]]:
    """Apply every well-formed ConfigUpdate of one L1 block's receipts, in log order (``l1_time`` is that block's
    time); a malformed one is skipped and described in the returned list."""
    skipped = []
    for log in _config_update_logs(receipts, system_config_address):
        try:
            sys_cfg = apply_update(sys_cfg, parse_config_update(log), cfg, l1_time)
        except ConfigUpdateError as e:
            skipped.append(f"malformed SystemConfig update skipped (log {log.log_index}): {e}")
    return sys_cfg, skipped


def apply_receipts(sys_cfg: SystemConfig, receipts: Iterable[Receipt], system_config_address: bytes,
                   cfg: RollupConfig, l1_time: int) -> SystemConfig:
    """:func:`apply_receipts_reporting` without the report (op-node's attributes builder ignores it)."""
    return apply_receipts_reporting(sys_cfg, receipts, system_config_address, cfg, l1_time)[0]


def unsafe_block_signer(update: ConfigUpdate) -> bytes | None:
    """The signer an UNSAFE_BLOCK_SIGNER update sets, or None if its data is not a well-formed ``bytes(address)``
    (derivation never rejects it, so neither does this)."""
    p = update.payload
    if update.type != UpdateType.UNSAFE_BLOCK_SIGNER or len(p) != 32 or any(p[:12]):
        return None
    return p[12:]


def unsafe_block_signer_updates(receipts: Iterable[Receipt], system_config_address: bytes) -> list[bytes]:
    """Every unsafe block signer set by one L1 block's ConfigUpdate logs, in order (the last one wins)."""
    out = []
    for log in _config_update_logs(receipts, system_config_address):
        try:
            update = parse_config_update(log)
        except ConfigUpdateError:
            continue  # apply_receipts reports it
        signer = unsafe_block_signer(update)
        if signer is not None:
            out.append(signer)
    return out


# ------------------------------------------------------------------------------------------- the reverse direction


def config_update_log(kind: UpdateType, payload: bytes, address: bytes, log_index: int = 0) -> Log:
    """The ConfigUpdate log the SystemConfig contract emits for ``payload`` (devnets and tests)."""
    data = (32).to_bytes(32, "big") + len(payload).to_bytes(32, "big") + payload + bytes(-len(payload) % 32)
    return Log(address, (CONFIG_UPDATE_TOPIC, CONFIG_UPDATE_VERSION_0, int(kind).to_bytes(32, "big")), data, log_index)
