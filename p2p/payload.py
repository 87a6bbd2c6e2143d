"""The execution payload the sequencer gossips and every node hands to its engine: one value, two shapes.

:class:`ExecutionPayload` carries the Engine API fields (execution-apis ``ExecutionPayloadV1..V3``; OP's V4 adds
``withdrawalsRoot``, isthmus/exec-engine.md §Update to ExecutionPayload). :class:`PayloadEnvelope` adds the parent
beacon block root that Ecotone+ blocks commit to. Both convert from/to the JSON of ``engine_getPayloadV2..V4`` and
``engine_newPayloadV2..V4``, so a sealed payload goes to :meth:`p2p.service.GossipService.publish` and a received
one to ``EngineClient.new_payload(env.engine_payload(), env.parent_beacon_block_root)`` without more glue.
"""

from __future__ import annotations

from dataclasses import dataclass

from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity, quantity, to_hex

U64_MAX = (1 << 64) - 1
U256_MAX = (1 << 256) - 1
MAX_EXTRA_DATA = 32  # the SSZ codec rejects more (op-service eth/ssz.go), so does geth's header check


class PayloadShapeError(ParseError):
    """A payload's fields do not fit the shape (version) asked for, or a JSON field is malformed."""


@dataclass(frozen=True, slots=True)
class Withdrawal:
    index: int
    validator_index: int
    address: bytes
    amount: int

    def to_json(self) -> dict:
        return {"index": quantity(self.index), "validatorIndex": quantity(self.validator_index),
                "address": to_hex(self.address), "amount": quantity(self.amount)}


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
    def from_engine_json(cls, d: dict) -> ExecutionPayload:
        """Parse ``executionPayload`` JSON; optional fork fields stay None when absent or null."""
        if not isinstance(d, dict):
            raise PayloadShapeError("executionPayload must be a JSON object")
        withdrawals = d.get("withdrawals")
        if withdrawals is not None:
            if not isinstance(withdrawals, list):
                raise PayloadShapeError("field 'withdrawals' must be an array")
            withdrawals = tuple(Withdrawal(_u64(w, "index"), _u64(w, "validatorIndex"), _hex(w, "address", 20),
                                           _u64(w, "amount")) for w in withdrawals)
        txs = d.get("transactions")
        if not isinstance(txs, list):
            raise PayloadShapeError("field 'transactions' must be an array")
        try:
            transactions = tuple(from_hex(t) for t in txs)
        except ParseError as e:
            raise PayloadShapeError(f"field 'transactions': {e}") from None
        extra = _hex(d, "extraData")
        if len(extra) > MAX_EXTRA_DATA:
            raise PayloadShapeError(f"extraData is {len(extra)} bytes, at most {MAX_EXTRA_DATA} allowed")
        base_fee = _qty(d, "baseFeePerGas")
        if base_fee > U256_MAX:
            raise PayloadShapeError("baseFeePerGas does not fit 256 bits")
        return cls(parent_hash=_hex(d, "parentHash", 32), fee_recipient=_hex(d, "feeRecipient", 20),
                   state_root=_hex(d, "stateRoot", 32), receipts_root=_hex(d, "receiptsRoot", 32),
                   logs_bloom=_hex(d, "logsBloom", 256), prev_randao=_hex(d, "prevRandao", 32),
                   block_number=_u64(d, "blockNumber"), gas_limit=_u64(d, "gasLimit"), gas_used=_u64(d, "gasUsed"),
                   timestamp=_u64(d, "timestamp"), extra_data=extra, base_fee_per_gas=base_fee,
                   block_hash=_hex(d, "blockHash", 32), transactions=transactions, withdrawals=withdrawals,
                   blob_gas_used=None if d.get("blobGasUsed") is None else _u64(d, "blobGasUsed"),
                   excess_blob_gas=None if d.get("excessBlobGas") is None else _u64(d, "excessBlobGas"),
                   withdrawals_root=None if d.get("withdrawalsRoot") is None else _hex(d, "withdrawalsRoot", 32))

    def to_engine_json(self) -> dict:
        """The ``executionPayload`` JSON ``engine_newPayload`` takes; fork fields only when set."""
        out = {"parentHash": to_hex(self.parent_hash), "feeRecipient": to_hex(self.fee_recipient),
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
class PayloadEnvelope:
    """A payload and, from Ecotone, the parent beacon block root of its L1 origin (op-service
    ``eth.ExecutionPayloadEnvelope``)."""

    payload: ExecutionPayload
    parent_beacon_block_root: bytes | None = None

    @classmethod
    def from_engine_json(cls, payload: dict, parent_beacon_block_root: bytes | str | None = None) -> PayloadEnvelope:
        root = parent_beacon_block_root
        if isinstance(root, str):
            try:
                root = from_hex(root, 32)
            except ParseError as e:
                raise PayloadShapeError(f"parentBeaconBlockRoot: {e}") from None
        elif root is not None and len(root) != 32:
            raise PayloadShapeError("parentBeaconBlockRoot must be 32 bytes")
        return cls(ExecutionPayload.from_engine_json(payload), root)

    @classmethod
    def from_get_payload_response(cls, result: dict) -> PayloadEnvelope:
        """The result object of ``engine_getPayloadV2..V4`` (``executionPayload`` + ``parentBeaconBlockRoot``)."""
        if not isinstance(result, dict):
            raise PayloadShapeError("getPayload result must be a JSON object")
        return cls.from_engine_json(result.get("executionPayload"), result.get("parentBeaconBlockRoot"))

    @classmethod
    def from_engine(cls, envelope) -> PayloadEnvelope:
        """Accept this type, or any object with ``payload`` (Engine API JSON) and ``parent_beacon_root``, like
        ``engine.client.ExecutionPayloadEnvelope`` (duck-typed: p2p does not import the engine)."""
        if isinstance(envelope, PayloadEnvelope):
            return envelope
        return cls.from_engine_json(envelope.payload, getattr(envelope, "parent_beacon_root", None))

    def engine_payload(self) -> dict:
        """First argument of ``engine_newPayloadV2..V4``."""
        return self.payload.to_engine_json()

    @property
    def block_hash(self) -> bytes:
        return self.payload.block_hash

    @property
    def block_number(self) -> int:
        return self.payload.block_number

    @property
    def timestamp(self) -> int:
        return self.payload.timestamp


def _field(d: dict, key: str):
    if not isinstance(d, dict):
        raise PayloadShapeError(f"expected an object holding '{key}'")
    v = d.get(key)
    if v is None:
        raise PayloadShapeError(f"missing field '{key}'")
    return v


def _hex(d: dict, key: str, length: int | None = None) -> bytes:
    try:
        return from_hex(_field(d, key), length)
    except PayloadShapeError:
        raise
    except ParseError as e:
        raise PayloadShapeError(f"field '{key}': {e}") from None


def _qty(d: dict, key: str) -> int:
    v = _field(d, key)
    if not isinstance(v, str) or not v.startswith("0x"):
        raise PayloadShapeError(f"field '{key}' must be a hex quantity")
    try:
        return parse_quantity(v)
    except ParseError as e:
        raise PayloadShapeError(f"field '{key}': {e}") from None


def _u64(d: dict, key: str) -> int:
    v = _qty(d, key)
    if v > U64_MAX:
        raise PayloadShapeError(f"field '{key}' does not fit 64 bits")
    return v
