"""Payload attributes: what derivation hands the engine for one L2 block (specs: exec-engine.md, Extended
PayloadAttributesV2/V3; holocene/ and jovian/ exec-engine.md)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from derivation.protocol.hexutil import from_hex, parse_quantity, quantity, to_hex
from derivation.protocol.transactions import DEPOSIT
from derivation.protocol.types import L1BlockRef, L2BlockRef


@dataclass(frozen=True, slots=True)
class PayloadAttributes:
    timestamp: int
    prev_randao: bytes
    suggested_fee_recipient: bytes
    transactions: tuple[bytes, ...]
    gas_limit: int
    no_tx_pool: bool = True
    withdrawals: tuple | None = None  # None before Canyon, () after
    parent_beacon_block_root: bytes | None = None  # Ecotone+
    eip1559_params: bytes | None = None  # Holocene+: denominator(u32 BE) ‖ elasticity(u32 BE)
    min_base_fee: int | None = None  # Jovian+

    def deposits_only(self) -> PayloadAttributes:
        """Holocene's replacement for an invalid payload: the same attributes with only deposit transactions."""
        return dataclasses.replace(self, transactions=tuple(t for t in self.transactions if t[:1] == bytes((DEPOSIT,))))

    @property
    def is_deposits_only(self) -> bool:
        return all(t[:1] == bytes((DEPOSIT,)) for t in self.transactions)

    def to_json(self) -> dict:
        """Engine API shape (quantities as hex)."""
        out = {"timestamp": quantity(self.timestamp), "prevRandao": to_hex(self.prev_randao),
               "suggestedFeeRecipient": to_hex(self.suggested_fee_recipient),
               "transactions": [to_hex(t) for t in self.transactions], "noTxPool": self.no_tx_pool,
               "gasLimit": quantity(self.gas_limit)}
        if self.withdrawals is not None:
            out["withdrawals"] = list(self.withdrawals)
        if self.parent_beacon_block_root is not None:
            out["parentBeaconBlockRoot"] = to_hex(self.parent_beacon_block_root)
        if self.eip1559_params is not None:
            out["eip1559Params"] = to_hex(self.eip1559_params)
        if self.min_base_fee is not None:
            out["minBaseFee"] = quantity(self.min_base_fee)
        return out

    @classmethod
    def from_json(cls, d: dict) -> PayloadAttributes:
        def opt(key, conv):
            v = d.get(key)
            return None if v is None else conv(v)

        return cls(
            timestamp=parse_quantity(d["timestamp"]), prev_randao=from_hex(d["prevRandao"], 32),
            suggested_fee_recipient=from_hex(d["suggestedFeeRecipient"], 20),
            transactions=tuple(from_hex(t) for t in d.get("transactions") or ()),
            gas_limit=parse_quantity(d["gasLimit"]), no_tx_pool=bool(d.get("noTxPool", False)),
            withdrawals=opt("withdrawals", tuple), parent_beacon_block_root=opt("parentBeaconBlockRoot",
                                                                               lambda v: from_hex(v, 32)),
            eip1559_params=opt("eip1559Params", lambda v: from_hex(v, 8)), min_base_fee=opt("minBaseFee",
                                                                                            parse_quantity))


@dataclass(frozen=True, slots=True)
class AttributesWithParent:
    """Derived attributes with their L2 parent, the L1 block they were derived from (for finality), and whether
    they conclude their batch (the safe head moves only then: spec-checklist N-07)."""

    attributes: PayloadAttributes
    parent: L2BlockRef
    derived_from: L1BlockRef
    is_last_in_span: bool
