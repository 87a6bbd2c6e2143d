"""Engine API JSON shapes: ExecutionPayload V1–V4 (OP: V4 carries ``withdrawalsRoot``), payload attributes with OP's
extensions (``transactions``, ``noTxPool``, ``gasLimit``, ``eip1559Params``, ``minBaseFee``), forkchoice state,
payload ids, and the JSON-RPC errors the Engine API defines (execution-apis src/engine; specs: exec-engine.md). The
error type and codes are the project's one :class:`~opnode.jsonrpc.errors.RpcError`; ``invalid_params`` builds the
``-32602`` answers of the decoders here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity, quantity, to_hex
from engine.execution.chain import Payload
from engine.execution.evm.block import SealedBlock
from opnode.jsonrpc.errors import (  # noqa: F401  (the Engine API's error codes, used through this module)
    INVALID_FORKCHOICE_STATE,
    INVALID_PARAMS,
    INVALID_PAYLOAD_ATTRIBUTES,
    SERVER_ERROR,
    UNKNOWN_PAYLOAD,
    UNSUPPORTED_FORK,
    RpcError,
)

PAYLOAD_V1, PAYLOAD_V2, PAYLOAD_V3 = 1, 2, 3


def invalid_params(msg: str) -> RpcError:
    return RpcError(INVALID_PARAMS, f"invalid params: {msg}" if not msg.startswith("invalid") else msg)


def _req(d: dict, key: str):
    if not isinstance(d, dict):
        raise invalid_params("expected an object")
    if key not in d or d[key] is None:
        raise invalid_params(f"missing required field '{key}'")
    return d[key]


def _hex(d: dict, key: str, length: int | None = None) -> bytes:
    try:
        return from_hex(_req(d, key), length)
    except ParseError as e:
        raise invalid_params(f"field '{key}': {e}") from None


def _qty(d: dict, key: str) -> int:
    v = _req(d, key)
    if not isinstance(v, str) or not v.startswith("0x"):
        raise invalid_params(f"field '{key}' must be a hex quantity")
    try:
        return parse_quantity(v)
    except ParseError as e:
        raise invalid_params(f"field '{key}': {e}") from None


def _opt_qty(d: dict, key: str) -> int | None:
    return None if d.get(key) is None else _qty(d, key)


def _opt_hex(d: dict, key: str, length: int | None = None) -> bytes | None:
    return None if d.get(key) is None else _hex(d, key, length)


def _withdrawals(d: dict) -> list | None:
    w = d.get("withdrawals")
    if w is None:
        return None
    if not isinstance(w, list):
        raise invalid_params("withdrawals must be an array")
    return [{"index": _qty(x, "index"), "validatorIndex": _qty(x, "validatorIndex"),
             "address": _hex(x, "address", 20), "amount": _qty(x, "amount")} for x in w]


def _transactions(d: dict, key: str = "transactions") -> list[bytes]:
    txs = d.get(key) or []
    if not isinstance(txs, list):
        raise invalid_params(f"{key} must be an array")
    out = []
    for i, t in enumerate(txs):
        try:
            out.append(from_hex(t))
        except ParseError as e:
            raise invalid_params(f"transaction {i}: {e}") from None
    return out


# ---------------------------------------------------------------------------------------------------- payloads


def payload_from_json(d: dict) -> Payload:
    if not isinstance(d, dict):
        raise invalid_params("executionPayload must be an object")
    return Payload(parent_hash=_hex(d, "parentHash", 32), fee_recipient=_hex(d, "feeRecipient", 20),
                   state_root=_hex(d, "stateRoot", 32), receipts_root=_hex(d, "receiptsRoot", 32),
                   logs_bloom=_hex(d, "logsBloom", 256), prev_randao=_hex(d, "prevRandao", 32),
                   number=_qty(d, "blockNumber"), gas_limit=_qty(d, "gasLimit"), gas_used=_qty(d, "gasUsed"),
                   timestamp=_qty(d, "timestamp"), extra_data=_hex(d, "extraData"),
                   base_fee=_qty(d, "baseFeePerGas"), block_hash=_hex(d, "blockHash", 32),
                   transactions=_transactions(d), withdrawals=_withdrawals(d),
                   blob_gas_used=_opt_qty(d, "blobGasUsed"), excess_blob_gas=_opt_qty(d, "excessBlobGas"),
                   withdrawals_root=_opt_hex(d, "withdrawalsRoot", 32))


def payload_to_json(block: SealedBlock, *, with_withdrawals: bool, with_blob: bool, with_withdrawals_root: bool) -> dict:
    h = block.header
    out = {"parentHash": to_hex(h.parent_hash), "feeRecipient": to_hex(h.coinbase), "stateRoot": to_hex(h.state_root),
           "receiptsRoot": to_hex(h.receipts_root), "logsBloom": to_hex(h.logs_bloom),
           "prevRandao": to_hex(h.mix_hash), "blockNumber": quantity(h.number), "gasLimit": quantity(h.gas_limit),
           "gasUsed": quantity(h.gas_used), "timestamp": quantity(h.timestamp), "extraData": to_hex(h.extra_data),
           "baseFeePerGas": quantity(h.base_fee), "blockHash": to_hex(h.hash),
           "transactions": [to_hex(t.raw) for t in block.transactions]}
    if with_withdrawals:
        out["withdrawals"] = []
    if with_blob:
        out["blobGasUsed"] = quantity(h.blob_gas_used or 0)
        out["excessBlobGas"] = quantity(h.excess_blob_gas or 0)
    if with_withdrawals_root:
        out["withdrawalsRoot"] = to_hex(h.withdrawals_root)
    return out


# ---------------------------------------------------------------------------------------------------- attributes


@dataclass(frozen=True, slots=True)
class Attributes:
    timestamp: int
    prev_randao: bytes
    fee_recipient: bytes
    withdrawals: list | None
    parent_beacon_root: bytes | None
    transactions: list[bytes]
    no_tx_pool: bool
    gas_limit: int | None
    eip1559_params: bytes | None
    min_base_fee: int | None


def attributes_from_json(d: dict) -> Attributes:
    if not isinstance(d, dict):
        raise invalid_params("payloadAttributes must be an object")
    no_tx_pool = d.get("noTxPool", False)
    if not isinstance(no_tx_pool, bool):
        raise invalid_params("noTxPool must be a boolean")
    return Attributes(timestamp=_qty(d, "timestamp"), prev_randao=_hex(d, "prevRandao", 32),
                      fee_recipient=_hex(d, "suggestedFeeRecipient", 20), withdrawals=_withdrawals(d),
                      parent_beacon_root=_opt_hex(d, "parentBeaconBlockRoot", 32), transactions=_transactions(d),
                      no_tx_pool=no_tx_pool, gas_limit=_opt_qty(d, "gasLimit"),
                      eip1559_params=_opt_hex(d, "eip1559Params"), min_base_fee=_opt_qty(d, "minBaseFee"))


def payload_id(parent: bytes, a: Attributes, version: int) -> bytes:
    """Deterministic id over everything that shapes the payload; the first byte is the payload version, as geth."""
    h = hashlib.sha256()
    h.update(parent)
    h.update(a.timestamp.to_bytes(8, "big"))
    h.update(a.prev_randao)
    h.update(a.fee_recipient)
    h.update(repr(a.withdrawals).encode())
    if a.parent_beacon_root is not None:
        h.update(a.parent_beacon_root)
    h.update(b"\x01" if a.no_tx_pool else b"\x00")
    for tx in a.transactions:
        h.update(hashlib.sha256(tx).digest())
    if a.gas_limit is not None:
        h.update(a.gas_limit.to_bytes(8, "big"))
    if a.eip1559_params is not None:
        h.update(a.eip1559_params)
    if a.min_base_fee is not None:
        h.update(a.min_base_fee.to_bytes(8, "big"))
    return bytes([version]) + h.digest()[1:8]


def forkchoice_state_from_json(d: dict) -> tuple[bytes, bytes, bytes]:
    return _hex(d, "headBlockHash", 32), _hex(d, "safeBlockHash", 32), _hex(d, "finalizedBlockHash", 32)


def status(s: str, latest_valid: bytes | None = None, error: str | None = None) -> dict:
    return {"status": s, "latestValidHash": None if latest_valid is None else to_hex(latest_valid),
            "validationError": error}
