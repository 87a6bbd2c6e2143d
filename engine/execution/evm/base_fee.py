"""EIP-1559 base fee with the OP changes, and the Holocene/Jovian ``extraData`` encoding.

- Canyon switches the denominator to ``eip1559DenominatorCanyon`` (clock: the child block's time).
- Holocene: when Holocene is active at the parent's time, denominator and elasticity come from the parent's
  ``extraData`` (``0x00 ‖ denominator u32 ‖ elasticity u32``) (holocene/exec-engine.md §Base Fee Computation).
- Jovian: when active at the parent's time, ``extraData`` is ``0x01 ‖ denominator ‖ elasticity ‖ minBaseFee u64``,
  the gas the formula meters is ``max(gasUsed, blobGasUsed)`` (the DA footprint) and the result is clamped to at
  least ``minBaseFee`` (jovian/exec-engine.md).
"""

from __future__ import annotations

from derivation.protocol.rollup_config import Fork
from engine.execution.chain_spec import ChainSpec
from engine.execution.evm.header import Header


class ExtraDataError(ValueError):
    """extraData does not follow the Holocene/Jovian format."""


def encode_extra_data(denominator: int, elasticity: int, min_base_fee: int | None) -> bytes:
    body = denominator.to_bytes(4, "big") + elasticity.to_bytes(4, "big")
    if min_base_fee is None:
        return b"\x00" + body
    return b"\x01" + body + min_base_fee.to_bytes(8, "big")


def decode_extra_data(extra: bytes, jovian: bool) -> tuple[int, int, int]:
    """(denominator, elasticity, minBaseFee) from a Holocene (v0, 9 bytes) or Jovian (v1, 17 bytes) extraData."""
    want_len, version = (17, 1) if jovian else (9, 0)
    if len(extra) != want_len or extra[0] != version:
        raise ExtraDataError(f"extraData must be {want_len} bytes with version {version}, got {extra.hex() or 'empty'}")
    d = int.from_bytes(extra[1:5], "big")
    e = int.from_bytes(extra[5:9], "big")
    if d == 0 or e == 0:
        raise ExtraDataError("extraData EIP-1559 denominator and elasticity must be non-zero")
    return d, e, int.from_bytes(extra[9:17], "big") if jovian else 0


def eip1559_params(spec: ChainSpec, parent: Header, time: int) -> tuple[int, int, int]:
    if spec.is_active(Fork.HOLOCENE, parent.timestamp):
        return decode_extra_data(parent.extra_data, spec.is_active(Fork.JOVIAN, parent.timestamp))
    return spec.base_fee_denominator(time), spec.eip1559_elasticity, 0


def next_base_fee(spec: ChainSpec, parent: Header, time: int) -> int:
    denominator, elasticity, min_base_fee = eip1559_params(spec, parent, time)
    gas_used = parent.gas_used
    if spec.is_active(Fork.JOVIAN, parent.timestamp) and parent.blob_gas_used:
        gas_used = max(gas_used, parent.blob_gas_used)
    base = parent.base_fee
    target = parent.gas_limit // elasticity
    if gas_used == target:
        fee = base
    elif gas_used > target:
        fee = base + max(1, (gas_used - target) * base // target // denominator)
    else:
        fee = max(0, base - (target - gas_used) * base // target // denominator)
    if spec.is_active(Fork.JOVIAN, parent.timestamp):
        fee = max(fee, min_base_fee)
    return fee
