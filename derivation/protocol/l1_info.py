"""The L1 attributes deposit: the first transaction of every L2 block, telling the L1Block predeploy about the
epoch's L1 origin and the fee parameters.

Calldata formats (specs: deposits.md §L1 Attributes Deposited Transaction, ecotone/, isthmus/, jovian/
l1-attributes.md):

- Bedrock ``setL1BlockValues(uint64,uint64,uint256,bytes32,uint64,bytes32,uint256,uint256)``, 260 bytes of ABI words;
- Ecotone ``setL1BlockValuesEcotone()``, 164 bytes packed; Isthmus ``setL1BlockValuesIsthmus()``, 176 bytes
  (+ operator fee scalar u32, constant u64); Jovian ``setL1BlockValuesJovian()``, 178 bytes (+ DA footprint u16).

Which format an L2 block carries depends on its timestamp; a fork's activation block still uses the previous
fork's format, because the L1Block contract is upgraded by deposits that run after the L1-info deposit
(ecotone/isthmus/jovian l1-attributes.md). Decoding picks the format by selector and exact length; like op-node,
uint64 and address words must have zero padding.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from derivation.protocol.crypto import keccak256
from derivation.protocol.deposits import l1_info_source_hash
from derivation.protocol.errors import CriticalError, ParseError
from derivation.protocol.l1_chain_config import CANCUN_UPDATE_FRACTION, L1ChainConfig, blob_base_fee
from derivation.protocol.predeploys import L1_BLOCK, L1_INFO_DEPOSITOR
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.transactions import Transaction, deposit
from derivation.protocol.types import BlockID, L1BlockInfo
from derivation.protocol.upgrades import upgrade_gas_to_strip

BEDROCK, ECOTONE, ISTHMUS, JOVIAN = "bedrock", "ecotone", "isthmus", "jovian"

SELECTORS = {
    BEDROCK: keccak256(b"setL1BlockValues(uint64,uint64,uint256,bytes32,uint64,bytes32,uint256,uint256)")[:4],
    ECOTONE: keccak256(b"setL1BlockValuesEcotone()")[:4],
    ISTHMUS: keccak256(b"setL1BlockValuesIsthmus()")[:4],
    JOVIAN: keccak256(b"setL1BlockValuesJovian()")[:4],
}
LENGTHS = {BEDROCK: 4 + 8 * 32, ECOTONE: 164, ISTHMUS: 176, JOVIAN: 178}
_BY_SELECTOR = {sel: fmt for fmt, sel in SELECTORS.items()}

REGOLITH_SYSTEM_TX_GAS = 1_000_000
BEDROCK_L1_INFO_GAS = 150_000_000
DEFAULT_DA_FOOTPRINT_GAS_SCALAR = 400  # jovian/l1-attributes.md: used when the SystemConfig value is 0
MAX_U32 = 0xFFFFFFFF

_U64_MAX = (1 << 64) - 1
_U256_MAX = (1 << 256) - 1


class L1InfoError(ParseError):
    """Calldata that is not a well-formed L1-info deposit of the expected format."""


class ExtraDataError(ParseError):
    """An L2 header extraData that does not match the Holocene/Jovian format of its fork."""


class InvalidScalarError(CriticalError):
    """The SystemConfig scalar has no Ecotone interpretation; op-node refuses to build the L1-info deposit."""


@dataclass(frozen=True, slots=True)
class L1InfoData:
    """The fields of an L1-info deposit; None where the format has no such field."""

    format: str
    number: int
    time: int
    base_fee: int
    block_hash: bytes
    sequence_number: int
    batcher_addr: bytes
    l1_fee_overhead: int | None = None  # Bedrock only
    l1_fee_scalar: int | None = None  # Bedrock only
    base_fee_scalar: int | None = None  # Ecotone+
    blob_base_fee_scalar: int | None = None
    blob_base_fee: int | None = None
    operator_fee_scalar: int | None = None  # Isthmus+
    operator_fee_constant: int | None = None
    da_footprint_gas_scalar: int | None = None  # Jovian

    @property
    def l1_origin(self) -> BlockID:
        return BlockID(self.block_hash, self.number)

    def encode(self) -> bytes:
        """The calldata of this L1-info deposit."""
        _check_ranges(self)
        if self.format == BEDROCK:
            words = (self.number, self.time, self.base_fee, int.from_bytes(self.block_hash, "big"),
                     self.sequence_number, int.from_bytes(self.batcher_addr, "big"),
                     _present(self.l1_fee_overhead, "l1_fee_overhead"), _present(self.l1_fee_scalar, "l1_fee_scalar"))
            return SELECTORS[BEDROCK] + b"".join(w.to_bytes(32, "big") for w in words)
        out = (SELECTORS[self.format]
               + struct.pack(">IIQQQ", _present(self.base_fee_scalar, "base_fee_scalar"),
                             _present(self.blob_base_fee_scalar, "blob_base_fee_scalar"), self.sequence_number,
                             self.time, self.number)
               + self.base_fee.to_bytes(32, "big") + _present(self.blob_base_fee, "blob_base_fee").to_bytes(32, "big")
               + self.block_hash + bytes(12) + self.batcher_addr)
        if self.format in (ISTHMUS, JOVIAN):
            out += struct.pack(">IQ", _present(self.operator_fee_scalar, "operator_fee_scalar"),
                               _present(self.operator_fee_constant, "operator_fee_constant"))
        if self.format == JOVIAN:
            out += struct.pack(">H", _present(self.da_footprint_gas_scalar, "da_footprint_gas_scalar"))
        return out


def _present(v: int | None, name: str) -> int:
    """A field the info's format has: the decoder sets it and ``_check_ranges`` requires it, so None is a bug."""
    if v is None:
        raise L1InfoError(f"L1-info field {name} is missing")
    return v


def _check_ranges(info: L1InfoData) -> None:
    if info.format not in SELECTORS:
        raise L1InfoError(f"unknown L1-info format {info.format!r}")
    if len(info.block_hash) != 32 or len(info.batcher_addr) != 20:
        raise L1InfoError("L1-info block hash must be 32 bytes and batcher address 20 bytes")
    limits = {"number": _U64_MAX, "time": _U64_MAX, "sequence_number": _U64_MAX, "base_fee": _U256_MAX}
    if info.format == BEDROCK:
        limits.update(l1_fee_overhead=_U256_MAX, l1_fee_scalar=_U256_MAX)
    else:
        limits.update(base_fee_scalar=MAX_U32, blob_base_fee_scalar=MAX_U32, blob_base_fee=_U256_MAX)
    if info.format in (ISTHMUS, JOVIAN):
        limits.update(operator_fee_scalar=MAX_U32, operator_fee_constant=_U64_MAX)
    if info.format == JOVIAN:
        limits.update(da_footprint_gas_scalar=0xFFFF)
    for name, limit in limits.items():
        v = getattr(info, name)
        if not isinstance(v, int) or not 0 <= v <= limit:
            raise L1InfoError(f"L1-info field {name}={v!r} is out of range for the {info.format} format")


# ------------------------------------------------------------------------------------------------ decoding


def _word_u64(word: bytes, name: str) -> int:
    if any(word[:24]):
        raise L1InfoError(f"L1-info {name} word has non-zero padding")
    return int.from_bytes(word[24:], "big")


def _word_address(word: bytes, name: str) -> bytes:
    if any(word[:12]):
        raise L1InfoError(f"L1-info {name} word is not a left-padded address")
    return bytes(word[12:])


def decode_l1_info(data: bytes) -> L1InfoData:
    """Decode L1-info calldata: the selector names the format, whose exact length is then required."""
    data = bytes(data)
    fmt = _BY_SELECTOR.get(data[:4])
    if fmt is None:
        raise L1InfoError(f"not an L1-info deposit: unknown selector 0x{data[:4].hex()}")
    if len(data) != LENGTHS[fmt]:
        raise L1InfoError(f"{fmt} L1-info calldata must be {LENGTHS[fmt]} bytes, got {len(data)}")
    if fmt == BEDROCK:
        w = [data[4 + 32 * i: 36 + 32 * i] for i in range(8)]
        return L1InfoData(
            BEDROCK, number=_word_u64(w[0], "number"), time=_word_u64(w[1], "timestamp"),
            base_fee=int.from_bytes(w[2], "big"), block_hash=w[3], sequence_number=_word_u64(w[4], "sequenceNumber"),
            batcher_addr=_word_address(w[5], "batcherHash"), l1_fee_overhead=int.from_bytes(w[6], "big"),
            l1_fee_scalar=int.from_bytes(w[7], "big"))
    base_scalar, blob_scalar, seq, time, number = struct.unpack_from(">IIQQQ", data, 4)
    extra = {}
    if fmt in (ISTHMUS, JOVIAN):
        extra["operator_fee_scalar"], extra["operator_fee_constant"] = struct.unpack_from(">IQ", data, 164)
    if fmt == JOVIAN:
        (extra["da_footprint_gas_scalar"],) = struct.unpack_from(">H", data, 176)
    return L1InfoData(
        fmt, number=number, time=time, base_fee=int.from_bytes(data[36:68], "big"), block_hash=data[100:132],
        sequence_number=seq, batcher_addr=_word_address(data[132:164], "batcherHash"),
        base_fee_scalar=base_scalar, blob_base_fee_scalar=blob_scalar,
        blob_base_fee=int.from_bytes(data[68:100], "big"), **extra)


# ------------------------------------------------------------------------------------------------ fork rules


def _after_activation(cfg: RollupConfig, fork: Fork, l2_timestamp: int) -> bool:
    return cfg.is_active(fork, l2_timestamp) and not cfg.is_activation_block(fork, l2_timestamp)


def l1_info_format(cfg: RollupConfig, l2_timestamp: int) -> str:
    """The calldata format of the L2 block at ``l2_timestamp`` (clock: L2 block time; an activation block keeps the
    previous format, ecotone/isthmus/jovian l1-attributes.md).

    Karst and Lagoon keep the Jovian format (specs: no karst/ or lagoon/ l1-attributes.md; kona PR #19372)."""
    if _after_activation(cfg, Fork.JOVIAN, l2_timestamp):
        return JOVIAN
    if _after_activation(cfg, Fork.ISTHMUS, l2_timestamp):
        return ISTHMUS
    if _after_activation(cfg, Fork.ECOTONE, l2_timestamp):
        return ECOTONE
    return BEDROCK


def ecotone_scalars(scalar: bytes) -> tuple[int, int]:
    """``(blob_base_fee_scalar, base_fee_scalar)`` of a SystemConfig scalar word (system-config.md §Post-Ecotone
    Scalar Encoding).

    Version 0 (the Bedrock uint256 scalar): base = bytes[28:32], blob = 0, and if any of bytes[1:28] is set the
    base scalar is MaxUint32 (as op-node; kona misses this rule). Version 1: bytes[1:24] must be zero, blob =
    bytes[24:28], base = bytes[28:32]. Anything else raises :class:`InvalidScalarError` (op-node: critical).
    """
    if len(scalar) != 32:
        raise InvalidScalarError(f"scalar must be 32 bytes, got {len(scalar)}")
    version = scalar[0]
    if version == 0:
        if any(scalar[1:28]):
            return 0, MAX_U32
        return 0, int.from_bytes(scalar[28:32], "big")
    if version == 1:
        if any(scalar[1:24]):
            raise InvalidScalarError(f"version 1 scalar has non-zero padding: 0x{scalar.hex()}")
        return int.from_bytes(scalar[24:28], "big"), int.from_bytes(scalar[28:32], "big")
    raise InvalidScalarError(f"unknown scalar version {version}: 0x{scalar.hex()}")


def is_valid_ecotone_scalar(scalar: bytes) -> bool:
    """op-node's ``CheckEcotoneL1SystemConfigScalar``: version 0 or 1 with all-zero padding."""
    if len(scalar) != 32:
        return False
    if scalar[0] == 0:
        return not any(scalar[1:28])
    if scalar[0] == 1:
        return not any(scalar[1:24])
    return False


def blob_base_fee_update_fraction(cfg: RollupConfig, l1_chain: L1ChainConfig, l1_time: int) -> int:
    """The EIP-4844 update fraction for an L1 origin at ``l1_time`` (clock: L1 origin time).

    Pectra blob schedule (pectra-blob-schedule/derivation.md; only the OP Sepolia-family chains set it): before its
    time the
    Cancun fraction stays in use even where L1 already runs Prague, because those chains' sequencers did so when
    Sepolia activated Prague on 2025-03-05 and the chains kept that history."""
    if cfg.pectra_blob_schedule_time is not None and l1_time < cfg.pectra_blob_schedule_time:
        return CANCUN_UPDATE_FRACTION
    return l1_chain.update_fraction_at(l1_time)


def l1_info_data(cfg: RollupConfig, sys_cfg: SystemConfig, seq_number: int, l1: L1BlockInfo, l2_timestamp: int,
                 l1_chain: L1ChainConfig) -> L1InfoData:
    """The L1-info fields for the L2 block at ``l2_timestamp`` with L1 origin ``l1``."""
    fmt = l1_info_format(cfg, l2_timestamp)
    base_fee = l1.base_fee or 0
    if fmt == BEDROCK:
        return L1InfoData(BEDROCK, l1.number, l1.time, base_fee, l1.hash, seq_number, sys_cfg.batcher_addr,
                          l1_fee_overhead=int.from_bytes(sys_cfg.overhead, "big"),
                          l1_fee_scalar=int.from_bytes(sys_cfg.scalar, "big"))
    blob_scalar, base_scalar = ecotone_scalars(sys_cfg.scalar)
    fee = blob_base_fee(l1.excess_blob_gas, blob_base_fee_update_fraction(cfg, l1_chain, l1.time))
    isthmus = fmt in (ISTHMUS, JOVIAN)
    return L1InfoData(fmt, l1.number, l1.time, base_fee, l1.hash, seq_number, sys_cfg.batcher_addr,
                      base_fee_scalar=base_scalar, blob_base_fee_scalar=blob_scalar, blob_base_fee=fee,
                      operator_fee_scalar=sys_cfg.operator_fee_scalar if isthmus else None,
                      operator_fee_constant=sys_cfg.operator_fee_constant if isthmus else None,
                      da_footprint_gas_scalar=(sys_cfg.da_footprint_gas_scalar or DEFAULT_DA_FOOTPRINT_GAS_SCALAR)
                      if fmt == JOVIAN else None)


def l1_info_deposit(cfg: RollupConfig, sys_cfg: SystemConfig, seq_number: int, l1: L1BlockInfo, l2_timestamp: int,
                    l1_chain: L1ChainConfig) -> Transaction:
    """The whole L1-info deposit (deposits.md §L1 Attributes Deposited Transaction): source hash domain 1 over (L1
    hash, sequence number), from
    the depositor account to the L1Block predeploy; gas 150M and isSystemTx before Regolith, then 1M and not a
    system tx (clock: L2 block time)."""
    data = l1_info_data(cfg, sys_cfg, seq_number, l1, l2_timestamp, l1_chain).encode()
    regolith = cfg.is_active(Fork.REGOLITH, l2_timestamp)
    return deposit(l1_info_source_hash(l1.hash, seq_number), L1_INFO_DEPOSITOR, L1_BLOCK, 0, 0,
                   REGOLITH_SYSTEM_TX_GAS if regolith else BEDROCK_L1_INFO_GAS, not regolith, data)


# ------------------------------------------------------------------------------------------------ L2 block → config


def _eip1559_params_from_extra_data(cfg: RollupConfig, extra: bytes, l2_timestamp: int) -> tuple[bytes, int]:
    """(eip1559Params, minBaseFee) from the header extraData, validated as op-geth's ValidateOptimismExtraData."""
    if cfg.is_active(Fork.JOVIAN, l2_timestamp):
        version, size, name = 1, 17, "Jovian"
    elif cfg.is_active(Fork.HOLOCENE, l2_timestamp):
        version, size, name = 0, 9, "Holocene"
    else:
        if extra:
            raise ExtraDataError("extraData must be empty before Holocene")
        return bytes(8), 0
    if len(extra) != size:
        raise ExtraDataError(f"{name} extraData must be {size} bytes, got {len(extra)}")
    if extra[0] != version:
        raise ExtraDataError(f"{name} extraData must have version byte {version}, got {extra[0]}")
    denominator, elasticity = struct.unpack_from(">II", extra, 1)
    if denominator == 0 and elasticity != 0:
        raise ExtraDataError("EIP-1559 params cannot have a zero denominator with a non-zero elasticity")
    min_base_fee = int.from_bytes(extra[9:17], "big") if version == 1 else 0
    return bytes(extra[1:9]), min_base_fee


def system_config_from_l2_block(cfg: RollupConfig, l1_info_tx_data: bytes, gas_limit: int, extra_data: bytes,
                                l2_timestamp: int) -> SystemConfig:
    """Rebuild the SystemConfig an L2 block was derived with (op-node
    ``SystemConfigFromHeaderAndDeposit``): used on reset to seed both SystemConfig copies.

    The genesis block (``l2_timestamp == genesis.l2_time``) has no L1-info deposit: its config is the rollup
    config's. Otherwise the calldata must have the format of its timestamp. After Ecotone's activation block the
    scalar comes back as a version-1 word and the overhead as zero (a version-0 origin cannot be told apart and
    has the same effect). The gas limit is the header's, minus the one-time upgrade gas when the block is a NUT
    fork's activation block (Karst unless ``keep_karst_upgrade_gas``, Lagoon always: op-node ``PayloadToSystemConfig``
    / ``upgradeGasToStrip``, payload_util.go, file index id 60882797401); an L1 setGasLimit in the next block's new
    origin is applied afterwards and wins. Holocene/Jovian EIP-1559 parameters and Jovian's minimum base fee come
    from extraData; Isthmus operator fee and Jovian DA footprint from the calldata (zero on an activation block,
    whose calldata has the previous format).
    """
    if l2_timestamp == cfg.genesis.l2_time:
        return cfg.genesis.system_config
    info = decode_l1_info(l1_info_tx_data)
    expected = l1_info_format(cfg, l2_timestamp)
    if info.format != expected:
        raise L1InfoError(f"L2 block at {l2_timestamp} must carry {expected} L1-info calldata, got {info.format}")
    if info.format == BEDROCK:
        overhead = _present(info.l1_fee_overhead, "l1_fee_overhead").to_bytes(32, "big")
        scalar = _present(info.l1_fee_scalar, "l1_fee_scalar").to_bytes(32, "big")
    else:
        overhead = bytes(32)
        scalar = b"\x01" + bytes(23) + struct.pack(">II", _present(info.blob_base_fee_scalar, "blob_base_fee_scalar"),
                                                   _present(info.base_fee_scalar, "base_fee_scalar"))
    strip = upgrade_gas_to_strip(cfg, l2_timestamp)
    if gas_limit < strip:
        raise L1InfoError(f"activation block at {l2_timestamp} has gas limit {gas_limit}, below its upgrade gas {strip}")
    gas_limit -= strip
    eip1559_params, min_base_fee = _eip1559_params_from_extra_data(cfg, bytes(extra_data), l2_timestamp)
    operator_fee_params = bytes(32)
    if cfg.is_active(Fork.ISTHMUS, l2_timestamp):
        operator_fee_params = bytes(20) + struct.pack(">IQ", info.operator_fee_scalar or 0,
                                                      info.operator_fee_constant or 0)
    da_scalar = 0
    if cfg.is_active(Fork.JOVIAN, l2_timestamp):
        da_scalar = info.da_footprint_gas_scalar or 0
    return SystemConfig(batcher_addr=info.batcher_addr, overhead=overhead, scalar=scalar, gas_limit=gas_limit,
                        eip1559_params=eip1559_params, operator_fee_params=operator_fee_params,
                        min_base_fee=min_base_fee, da_footprint_gas_scalar=da_scalar)
