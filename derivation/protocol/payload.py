"""The execution payload: one model for the node, the engine client, block gossip and the embedded engine.

Model: op-service ``eth/types.go`` (``ExecutionPayload``, ``ExecutionPayloadEnvelope``; okx/optimism@2b5011ab,
2026), itself execution-apis ``ExecutionPayloadV1..V3`` plus OP's V4 ``withdrawalsRoot`` (isthmus/exec-engine.md
§Update to ExecutionPayload). The envelope adds the parent beacon block root that Ecotone+ blocks commit to; it is
the shape of op-node's ``admin_postUnsafePayload`` parameter and of ``engine_getPayloadV3+`` results (whose
``blockValue``, ``blobsBundle`` and ``executionRequests`` the node does not keep, as op-node). Payload attributes are
:class:`derivation.protocol.attributes.PayloadAttributes`. Gossip's SSZ codec is in ``p2p/ssz.py``.

JSON decoding follows go-ethereum's ``hexutil`` types: quantities are ``0x`` strings, 64-bit fields must fit
(``hexutil.Uint64``), the base fee 256 bits (op-service ``Uint256Quantity``). Any malformed field raises
:class:`PayloadShapeError`, a ParseError naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity, quantity, to_hex
from derivation.protocol.jsonutil import JSONObject, JSONValue

T = TypeVar("T")

U64_MAX = (1 << 64) - 1
U256_MAX = (1 << 256) - 1
MAX_EXTRA_DATA = 32  # op-service BytesMax32 and the SSZ codec; geth's header check (params.MaximumExtraDataSize)


class PayloadShapeError(ParseError):
    """A payload's fields do not fit the shape (version) asked for, or a JSON field is malformed."""


@dataclass(frozen=True, slots=True)
class Withdrawal:
    index: int
    validator_index: int
    address: bytes
    amount: int

    def to_json(self) -> JSONObject:
        return {"index": quantity(self.index), "validatorIndex": quantity(self.validator_index),
                "address": to_hex(self.address), "amount": quantity(self.amount)}

    @classmethod
    def from_json(cls, d: JSONValue) -> Withdrawal:
        return cls(u64(d, "index"), u64(d, "validatorIndex"), hex_field(d, "address", 20), u64(d, "amount"))


def withdrawals_from_json(d: JSONObject) -> tuple[Withdrawal, ...] | None:
    """The optional ``withdrawals`` array of a payload or of payload attributes (None when absent or null)."""
    w = d.get("withdrawals")
    if w is None:
        return None
    if not isinstance(w, list):
        raise PayloadShapeError("field 'withdrawals' must be an array")
    return tuple(Withdrawal.from_json(x) for x in w)


def transactions_from_json(d: JSONObject) -> tuple[bytes, ...]:
    txs = d.get("transactions")
    if not isinstance(txs, list):
        raise PayloadShapeError("field 'transactions' must be an array")
    out = []
    for i, t in enumerate(txs):
        try:
            out.append(from_hex(t))
        except ParseError as e:
            raise PayloadShapeError(f"field 'transactions': transaction {i}: {e}") from None
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ExecutionPayload:
    parent_hash: bytes
    fee_recipient: bytes
    state_root: bytes
    receipts_root: bytes
    logs_bloom: bytes
    prev_randao: bytes
    block_number: int
    gas_limit: int
    gas_used: int
    timestamp: int
    extra_data: bytes
    base_fee_per_gas: int
    block_hash: bytes
    transactions: tuple[bytes, ...]
    withdrawals: tuple[Withdrawal, ...] | None = None  # Canyon+ (always empty on OP)
    blob_gas_used: int | None = None  # Ecotone+; Jovian stores the DA footprint here
    excess_blob_gas: int | None = None  # Ecotone+
    withdrawals_root: bytes | None = None  # Isthmus+: storage root of L2ToL1MessagePasser

    @classmethod
    def from_json(cls, d: JSONValue, *, max_extra_data: int | None = MAX_EXTRA_DATA) -> ExecutionPayload:
        """Parse ``executionPayload`` JSON; optional fork fields stay None when absent or null. ``max_extra_data``
        is op-service's ``BytesMax32``; the execution engine passes None because for it a longer extraData is
        an invalid block (status INVALID), not malformed JSON (geth ``ExecutableDataToBlock``)."""
        if not isinstance(d, dict):
            raise PayloadShapeError("executionPayload must be a JSON object")
        extra = hex_field(d, "extraData")
        if max_extra_data is not None and len(extra) > max_extra_data:
            raise PayloadShapeError(f"extraData is {len(extra)} bytes, at most {max_extra_data} allowed")
        base_fee = qty(d, "baseFeePerGas")
        if base_fee > U256_MAX:
            raise PayloadShapeError("baseFeePerGas does not fit 256 bits")
        return cls(parent_hash=hex_field(d, "parentHash", 32), fee_recipient=hex_field(d, "feeRecipient", 20),
                   state_root=hex_field(d, "stateRoot", 32), receipts_root=hex_field(d, "receiptsRoot", 32),
                   logs_bloom=hex_field(d, "logsBloom", 256), prev_randao=hex_field(d, "prevRandao", 32),
                   block_number=u64(d, "blockNumber"), gas_limit=u64(d, "gasLimit"), gas_used=u64(d, "gasUsed"),
                   timestamp=u64(d, "timestamp"), extra_data=extra, base_fee_per_gas=base_fee,
                   block_hash=hex_field(d, "blockHash", 32), transactions=transactions_from_json(d),
                   withdrawals=withdrawals_from_json(d), blob_gas_used=opt(d, "blobGasUsed", u64),
                   excess_blob_gas=opt(d, "excessBlobGas", u64),
                   withdrawals_root=opt(d, "withdrawalsRoot", lambda d, k: hex_field(d, k, 32)))

    def to_json(self) -> JSONObject:
        """The ``executionPayload`` JSON ``engine_newPayload`` takes and ``engine_getPayload`` returns; fork fields
        only when set."""
        out: JSONObject = {"parentHash": to_hex(self.parent_hash), "feeRecipient": to_hex(self.fee_recipient),
               "stateRoot": to_hex(self.state_root), "receiptsRoot": to_hex(self.receipts_root),
               "logsBloom": to_hex(self.logs_bloom), "prevRandao": to_hex(self.prev_randao),
               "blockNumber": quantity(self.block_number), "gasLimit": quantity(self.gas_limit),
               "gasUsed": quantity(self.gas_used), "timestamp": quantity(self.timestamp),
               "extraData": to_hex(self.extra_data), "baseFeePerGas": quantity(self.base_fee_per_gas),
               "blockHash": to_hex(self.block_hash), "transactions": [to_hex(t) for t in self.transactions]}
        if self.withdrawals is not None:
            out["withdrawals"] = [w.to_json() for w in self.withdrawals]
        if self.blob_gas_used is not None:
            out["blobGasUsed"] = quantity(self.blob_gas_used)
        if self.excess_blob_gas is not None:
            out["excessBlobGas"] = quantity(self.excess_blob_gas)
        if self.withdrawals_root is not None:
            out["withdrawalsRoot"] = to_hex(self.withdrawals_root)
        return out


@dataclass(frozen=True, slots=True)
class ExecutionPayloadEnvelope:
    """A payload and, from Ecotone, the parent beacon block root of its L1 origin (op-service
    ``eth.ExecutionPayloadEnvelope``)."""

    payload: ExecutionPayload
    parent_beacon_block_root: bytes | None = None

    @classmethod
    def from_json(cls, d: JSONValue, *, max_extra_data: int | None = MAX_EXTRA_DATA) -> ExecutionPayloadEnvelope:
        """``{"executionPayload": {...}, "parentBeaconBlockRoot": hash?}`` (other keys of a getPayload result are
        ignored)."""
        if not isinstance(d, dict):
            raise PayloadShapeError("expected an object with executionPayload")
        root = opt(d, "parentBeaconBlockRoot", lambda d, k: hex_field(d, k, 32))
        return cls(ExecutionPayload.from_json(d.get("executionPayload"), max_extra_data=max_extra_data), root)

    def to_json(self) -> JSONObject:
        out: JSONObject = {"executionPayload": self.payload.to_json()}
        if self.parent_beacon_block_root is not None:
            out["parentBeaconBlockRoot"] = to_hex(self.parent_beacon_block_root)
        return out

    @property
    def block_hash(self) -> bytes:
        return self.payload.block_hash

    @property
    def parent_hash(self) -> bytes:
        return self.payload.parent_hash

    @property
    def number(self) -> int:
        return self.payload.block_number

    @property
    def timestamp(self) -> int:
        return self.payload.timestamp

    @property
    def transactions(self) -> tuple[bytes, ...]:
        return self.payload.transactions


# ---------------------------------------------------------------------------------------------------- JSON fields


def field_of(d: JSONValue, key: str) -> JSONValue:
    """The value of a required field (present and not null)."""
    if not isinstance(d, dict):
        raise PayloadShapeError(f"expected an object holding '{key}'")
    v = d.get(key)
    if v is None:
        raise PayloadShapeError(f"missing field '{key}'")
    return v


def hex_field(d: JSONValue, key: str, length: int | None = None) -> bytes:
    v = field_of(d, key)
    try:
        return from_hex(v, length)
    except ParseError as e:
        raise PayloadShapeError(f"field '{key}': {e}") from None


def qty(d: JSONValue, key: str) -> int:
    v = field_of(d, key)
    if not isinstance(v, str) or not v.startswith("0x"):
        raise PayloadShapeError(f"field '{key}' must be a hex quantity")
    try:
        return parse_quantity(v)
    except ParseError as e:
        raise PayloadShapeError(f"field '{key}': {e}") from None


def u64(d: JSONValue, key: str) -> int:
    v = qty(d, key)
    if v > U64_MAX:
        raise PayloadShapeError(f"field '{key}' does not fit 64 bits")
    return v


def opt(d: JSONObject, key: str, parse: Callable[[JSONObject, str], T]) -> T | None:
    """``parse(d, key)`` when the field is present and not null, else None."""
    return None if d.get(key) is None else parse(d, key)
