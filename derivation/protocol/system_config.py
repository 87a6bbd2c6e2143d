"""The rollup's SystemConfig as derivation sees it: an immutable value.

Fields and JSON keys follow op-node's ``eth.SystemConfig`` (op-service/eth/types.go). Updates from L1
``ConfigUpdate`` logs produce a new value (see :mod:`derivation.protocol.config_update`).
"""

from __future__ import annotations

from dataclasses import dataclass

from derivation.protocol.hexutil import from_hex, parse_quantity, to_hex
from derivation.protocol.jsonutil import JSONObject


@dataclass(frozen=True, slots=True)
class SystemConfig:
    batcher_addr: bytes  # 20 bytes: the only sender whose batcher txs are read
    overhead: bytes  # bytes32; zero after Ecotone
    scalar: bytes  # bytes32; versioned scalar word after Ecotone
    gas_limit: int
    eip1559_params: bytes = bytes(8)  # Holocene: denominator(u32 BE) ‖ elasticity(u32 BE)
    operator_fee_params: bytes = bytes(32)  # Isthmus: (scalar u32 << 64) | constant u64
    min_base_fee: int = 0  # Jovian
    da_footprint_gas_scalar: int = 0  # Jovian; 0 means "use the default" where it is consumed

    def to_json(self) -> JSONObject:
        return {
            "batcherAddr": to_hex(self.batcher_addr),
            "overhead": to_hex(self.overhead),
            "scalar": to_hex(self.scalar),
            "gasLimit": self.gas_limit,
            "eip1559Params": to_hex(self.eip1559_params),
            "operatorFeeParams": to_hex(self.operator_fee_params),
            "minBaseFee": self.min_base_fee,
            "daFootprintGasScalar": self.da_footprint_gas_scalar,
        }

    @classmethod
    def from_json(cls, d: JSONObject) -> SystemConfig:
        return cls(
            batcher_addr=from_hex(d["batcherAddr"], 20),
            overhead=from_hex(d.get("overhead", "0x" + "00" * 32), 32),
            scalar=from_hex(d.get("scalar", "0x" + "00" * 32), 32),
            gas_limit=parse_quantity(d["gasLimit"]),
            eip1559_params=from_hex(d.get("eip1559Params", "0x" + "00" * 8), 8),
            operator_fee_params=from_hex(d.get("operatorFeeParams", "0x" + "00" * 32), 32),
            min_base_fee=parse_quantity(d.get("minBaseFee", 0)),
            da_footprint_gas_scalar=parse_quantity(d.get("daFootprintGasScalar", 0)),
        )

    @property
    def eip1559_denominator(self) -> int:
        return int.from_bytes(self.eip1559_params[:4], "big")

    @property
    def eip1559_elasticity(self) -> int:
        return int.from_bytes(self.eip1559_params[4:], "big")

    @property
    def operator_fee_scalar(self) -> int:
        return int.from_bytes(self.operator_fee_params[20:24], "big")

    @property
    def operator_fee_constant(self) -> int:
        return int.from_bytes(self.operator_fee_params[24:32], "big")
