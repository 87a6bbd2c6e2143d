"""Payload attributes: what derivation hands the engine for one L2 block, the one model the node, the engine client
and the embedded engine share (specs: exec-engine.md, Extended PayloadAttributesV2/V3; holocene/ and jovian/
exec-engine.md; op-service ``eth.PayloadAttributes``, okx/optimism@2b5011ab 2026)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from derivation.protocol.hexutil import quantity, to_hex
from derivation.protocol.jsonutil import JSONObject, JSONValue
from derivation.protocol.payload import (
    PayloadShapeError,
    Withdrawal,
    hex_field,
    opt,
    transactions_from_json,
    u64,
    withdrawals_from_json,
)
from derivation.protocol.transactions import DEPOSIT
from derivation.protocol.types import L1BlockRef, L2BlockRef


@dataclass(frozen=True, slots=True)
class PayloadAttributes:
    timestamp: int
    prev_randao: bytes
    suggested_fee_recipient: bytes
    transactions: tuple[bytes, ...]
    gas_limit: int | None  # always set by derivation; optional in the Engine API (the engine requires it)
    no_tx_pool: bool = True
    withdrawals: tuple[Withdrawal, ...] | None = None  # None before Canyon, () after
    parent_beacon_block_root: bytes | None = None  # Ecotone+
    eip1559_params: bytes | None = None  # Holocene+: denominator(u32 BE) ‖ elasticity(u32 BE)
    min_base_fee: int | None = None  # Jovian+

    def deposits_only(self) -> PayloadAttributes:
        """Holocene's replacement for an invalid payload: the same attributes with only deposit transactions."""
        return dataclasses.replace(self, transactions=tuple(t for t in self.transactions if t[:1] == bytes((DEPOSIT,))))

    @property
    def is_deposits_only(self) -> bool:
        return all(t[:1] == bytes((DEPOSIT,)) for t in self.transactions)

    def to_json(self) -> JSONObject:
        """Engine API shape (quantities as hex); optional fields only when set."""
        out: JSONObject = {"timestamp": quantity(self.timestamp), "prevRandao": to_hex(self.prev_randao),
               "suggestedFeeRecipient": to_hex(self.suggested_fee_recipient),
               "transactions": [to_hex(t) for t in self.transactions], "noTxPool": self.no_tx_pool}
        if self.gas_limit is not None:
            out["gasLimit"] = quantity(self.gas_limit)
        if self.withdrawals is not None:
            out["withdrawals"] = [w.to_json() for w in self.withdrawals]
        if self.parent_beacon_block_root is not None:
            out["parentBeaconBlockRoot"] = to_hex(self.parent_beacon_block_root)
        if self.eip1559_params is not None:
            out["eip1559Params"] = to_hex(self.eip1559_params)
        if self.min_base_fee is not None:
            out["minBaseFee"] = quantity(self.min_base_fee)
        return out

    @classmethod
    def from_json(cls, d: JSONValue) -> PayloadAttributes:
        """Parse Engine API ``payloadAttributes`` (op-service ``eth.PayloadAttributes``): ``transactions``,
        ``noTxPool``, ``gasLimit`` and the fork fields are optional. ``eip1559Params`` is read at any length, as
        op-geth's ``[]byte``: its 8-byte rule belongs to whoever applies it (the engine answers -38003).
        Malformed fields raise :class:`PayloadShapeError`."""
        if not isinstance(d, dict):
            raise PayloadShapeError("payloadAttributes must be a JSON object")
        no_tx_pool = d.get("noTxPool", False)
        if not isinstance(no_tx_pool, bool):
            raise PayloadShapeError("field 'noTxPool' must be a boolean")
        return cls(timestamp=u64(d, "timestamp"), prev_randao=hex_field(d, "prevRandao", 32),
                   suggested_fee_recipient=hex_field(d, "suggestedFeeRecipient", 20),
                   transactions=() if d.get("transactions") is None else transactions_from_json(d),
                   gas_limit=opt(d, "gasLimit", u64), no_tx_pool=no_tx_pool, withdrawals=withdrawals_from_json(d),
                   parent_beacon_block_root=opt(d, "parentBeaconBlockRoot", lambda d, k: hex_field(d, k, 32)),
                   eip1559_params=opt(d, "eip1559Params", hex_field), min_base_fee=opt(d, "minBaseFee", u64))


@dataclass(frozen=True, slots=True)
class AttributesWithParent:
    """Derived attributes with their L2 parent, the L1 block they were derived from (for finality), and whether
    they conclude their batch (the safe head moves only then: op-node
    ``attributes.AttributesHandler`` promotes safe on ``IsLastInSpan``; specs: derivation.md "Engine Queue")."""

    attributes: PayloadAttributes
    parent: L2BlockRef
    derived_from: L1BlockRef
    is_last_in_span: bool
