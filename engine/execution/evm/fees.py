"""OP Stack fee rules: the L1 data fee, the operator fee and the Jovian DA footprint of a transaction.

The parameters come from the L1Block predeploy's storage after the block's L1-info deposit ran, as op-geth reads them
(specs: exec-engine.md §L1-Cost fees; fjord/exec-engine.md; isthmus/exec-engine.md §Operator Fee;
jovian/exec-engine.md §DA Footprint Block Limit, §Operator Fee). Storage layout of L1Block:
slot 1 basefee, slot 3 baseFeeScalar/blobBaseFeeScalar, slot 5 overhead, slot 6 scalar (Bedrock), slot 7
blobBaseFee, slot 8 operatorFeeConstant/operatorFeeScalar/daFootprintGasScalar. Solidity packs from the low end of
the word, so "offset k" of a field of n bytes is bytes ``[32-k-n, 32-k)`` of the big-endian word. The L1Block
bytecode of the Isthmus and Jovian upgrades stores operatorFeeConstant at offset 0 and operatorFeeScalar at offset 8
(as op-geth reads them); isthmus/exec-engine.md's "scalar at offset 0, constant at offset 4" does not match the
deployed contract, and a test checks the layout against the real bytecode.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.execution.evm.fastlz import flz_compress_len

L1_COST_INTERCEPT = -42_585_600
L1_COST_FASTLZ_COEF = 836_500
MIN_TX_SIZE_SCALED = 100 * 1_000_000
DEFAULT_DA_FOOTPRINT_GAS_SCALAR = 400


@dataclass(frozen=True, slots=True)
class CostData:
    """What the L1 fee needs from a transaction's full EIP-2718 encoding (op-geth ``RollupCostData``)."""

    zeroes: int
    ones: int
    fastlz_size: int

    @classmethod
    def of(cls, raw: bytes) -> CostData:
        zeroes = raw.count(0)
        return cls(zeroes, len(raw) - zeroes, flz_compress_len(raw))


@dataclass(frozen=True, slots=True)
class L1FeeParams:
    """L1Block values that price a block's user transactions. ``kind`` is "bedrock", "ecotone" or "fjord"."""

    kind: str
    l1_base_fee: int = 0
    overhead: int = 0
    scalar: int = 0
    blob_base_fee: int = 0
    base_fee_scalar: int = 0
    blob_base_fee_scalar: int = 0
    regolith: bool = True
    operator_fee_scalar: int = 0
    operator_fee_constant: int = 0
    da_footprint_gas_scalar: int = DEFAULT_DA_FOOTPRINT_GAS_SCALAR

    def l1_cost(self, cd: CostData) -> int:
        if self.kind == "bedrock":
            ones = cd.ones if self.regolith else cd.ones + 68
            gas = cd.zeroes * 4 + ones * 16 + self.overhead
            return gas * self.l1_base_fee * self.scalar // 1_000_000
        if self.kind == "ecotone":
            gas = cd.zeroes * 4 + cd.ones * 16
            return gas * (16 * self.l1_base_fee * self.base_fee_scalar
                          + self.blob_base_fee * self.blob_base_fee_scalar) // 16_000_000
        return fjord_l1_cost(cd.fastlz_size, self.l1_base_fee, self.blob_base_fee, self.base_fee_scalar,
                             self.blob_base_fee_scalar)


    def l1_gas_used(self, cd: CostData) -> int:
        """The deprecated ``l1GasUsed`` receipt field, as op-geth's cost functions report it."""
        if self.kind == "bedrock":
            ones = cd.ones if self.regolith else cd.ones + 68
            return cd.zeroes * 4 + ones * 16 + self.overhead
        if self.kind == "ecotone":
            return cd.zeroes * 4 + cd.ones * 16
        return fjord_estimated_size_scaled(cd.fastlz_size) * 16 // 1_000_000


def fjord_estimated_size_scaled(fastlz_size: int) -> int:
    """``max(minTransactionSize * 1e6, intercept + fastlzCoef * fastlzSize)``."""
    return max(MIN_TX_SIZE_SCALED, L1_COST_INTERCEPT + L1_COST_FASTLZ_COEF * fastlz_size)


def fjord_l1_cost(fastlz_size: int, l1_base_fee: int, blob_base_fee: int, base_fee_scalar: int,
                  blob_base_fee_scalar: int) -> int:
    scaled = base_fee_scalar * l1_base_fee * 16 + blob_base_fee_scalar * blob_base_fee
    return fjord_estimated_size_scaled(fastlz_size) * scaled // 1_000_000_000_000


def da_footprint(fastlz_size: int, gas_scalar: int) -> int:
    """Jovian: a user transaction's DA usage estimate scaled to gas (deposits have none)."""
    return max(100, (L1_COST_INTERCEPT + L1_COST_FASTLZ_COEF * fastlz_size) // 1_000_000) * gas_scalar


def operator_fee(gas: int, scalar: int, constant: int, jovian: bool) -> int:
    """Isthmus: ``gas * scalar / 1e6 + constant``; Jovian: ``gas * scalar * 100 + constant``."""
    if jovian:
        return gas * scalar * 100 + constant
    return gas * scalar // 1_000_000 + constant


def _word(v: int) -> bytes:
    return v.to_bytes(32, "big")


def read_l1_fee_params(get_storage, ecotone: bool, fjord: bool, regolith: bool, isthmus: bool = False) -> L1FeeParams:
    """Read the L1 fee parameters from L1Block storage; ``get_storage(slot) -> int``.

    op-geth keeps the Bedrock formula on the first Ecotone block (blob base fee and both Ecotone scalars still zero,
    because L1Block is upgraded inside that block), and so does this.
    """
    base_fee = get_storage(1)
    slot8 = _word(get_storage(8) if isthmus else 0)  # not read before Isthmus, as op-geth
    op_const = int.from_bytes(slot8[24:32], "big")  # offset 0
    op_scalar = int.from_bytes(slot8[20:24], "big")  # offset 8
    da_scalar = int.from_bytes(slot8[18:20], "big") or DEFAULT_DA_FOOTPRINT_GAS_SCALAR  # offset 12
    extra = dict(operator_fee_scalar=op_scalar, operator_fee_constant=op_const, da_footprint_gas_scalar=da_scalar)
    if ecotone:
        scalars = _word(get_storage(3))
        blob_base_fee = get_storage(7)
        base_scalar = int.from_bytes(scalars[16:20], "big")  # offset 12
        blob_scalar = int.from_bytes(scalars[20:24], "big")  # offset 8
        if not (blob_base_fee == 0 and scalars[16:24] == bytes(8)):
            return L1FeeParams("fjord" if fjord else "ecotone", l1_base_fee=base_fee, blob_base_fee=blob_base_fee,
                               base_fee_scalar=base_scalar, blob_base_fee_scalar=blob_scalar, **extra)
    return L1FeeParams("bedrock", l1_base_fee=base_fee, overhead=get_storage(5), scalar=get_storage(6),
                       regolith=regolith, **extra)
