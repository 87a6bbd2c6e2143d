"""The engine's side of the Engine API shapes: the JSON-RPC errors the Engine API defines (execution-apis
src/engine; specs: exec-engine.md), and the one place where the shared payload model
(:mod:`derivation.protocol.payload`, :mod:`derivation.protocol.attributes`) meets the engine's own block types:
JSON parse errors become -32602, a stored block becomes an ``ExecutionPayloadEnvelope`` (``envelope_of``) and a payload
the header its ``blockHash`` must hash (``payload_header``), payload attributes become the block builder's
``BlockAttributes``; plus payload ids and forkchoice states. The
error type and codes are the project's one :class:`~opnode.jsonrpc.errors.RpcError`; ``invalid_params`` builds the
``-32602`` answers of the decoders here.
"""

from __future__ import annotations

import hashlib

from derivation.protocol.attributes import PayloadAttributes
from derivation.protocol.errors import ParseError
from derivation.protocol.forks import Fork
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.payload import ExecutionPayload, ExecutionPayloadEnvelope, PayloadShapeError, hex_field
from derivation.protocol.trie import EMPTY_TRIE_ROOT, ordered_trie_root
from engine.execution.chain_spec import ChainSpec
from engine.execution.evm.block import BlockAttributes
from engine.execution.evm.header import EMPTY_REQUESTS_HASH, Header
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


def payload_from_json(d) -> ExecutionPayload:
    """``executionPayload`` of newPayload; extraData unbounded here (a long one makes the block INVALID)."""
    try:
        return ExecutionPayload.from_json(d, max_extra_data=None)
    except PayloadShapeError as e:
        raise invalid_params(str(e)) from None


def attributes_from_json(d) -> PayloadAttributes:
    try:
        return PayloadAttributes.from_json(d)
    except PayloadShapeError as e:
        raise invalid_params(str(e)) from None


def hex_list_from_json(v, name: str, length: int | None = None) -> list[bytes]:
    """A JSON array of hex strings (``length`` bytes each when given), as Go decodes newPayload's
    ``expectedBlobVersionedHashes`` (``[]common.Hash``) and ``executionRequests`` (``[]hexutil.Bytes``): anything
    else is -32602 (op-geth eth/catalyst/api.go ``NewPayloadV3``/``V4``; ``null`` is the caller's)."""
    if not isinstance(v, list):
        raise invalid_params(f"{name}: expected an array, got {type(v).__name__}")
    out = []
    for i, item in enumerate(v):
        if not isinstance(item, str) or not item.startswith("0x"):
            raise invalid_params(f"{name}[{i}]: expected a 0x-prefixed hex string")
        try:
            out.append(from_hex(item, length))
        except ParseError as e:
            raise invalid_params(f"{name}[{i}]: {e}") from None
    return out


def forkchoice_state_from_json(d) -> tuple[bytes, bytes, bytes]:
    try:
        return tuple(hex_field(d, k, 32) for k in ("headBlockHash", "safeBlockHash", "finalizedBlockHash"))
    except PayloadShapeError as e:
        raise invalid_params(str(e)) from None


# ---------------------------------------------------------------------------------------------------- conversions


def envelope_of(spec: ChainSpec, header: Header, raw_txs, has_withdrawals: bool) -> ExecutionPayloadEnvelope:
    """The payload of a stored or sealed block and its parent beacon root: ``withdrawals`` empty from Canyon (None
    before), the blob fields as the header has them (Ecotone+), ``withdrawalsRoot`` from Isthmus (op-service
    ``BlockAsPayload`` / ``BlockAsPayloadEnv``)."""
    isthmus = spec.is_active(Fork.ISTHMUS, header.timestamp)
    payload = ExecutionPayload(
        parent_hash=header.parent_hash, fee_recipient=header.coinbase, state_root=header.state_root,
        receipts_root=header.receipts_root, logs_bloom=header.logs_bloom, prev_randao=header.mix_hash,
        block_number=header.number, gas_limit=header.gas_limit, gas_used=header.gas_used, timestamp=header.timestamp,
        extra_data=header.extra_data, base_fee_per_gas=header.base_fee, block_hash=header.hash,
        transactions=tuple(raw_txs), withdrawals=() if has_withdrawals else None,
        blob_gas_used=header.blob_gas_used, excess_blob_gas=header.excess_blob_gas,
        withdrawals_root=header.withdrawals_root if isthmus else None)
    return ExecutionPayloadEnvelope(payload, header.parent_beacon_root)


def payload_header(spec: ChainSpec, env: ExecutionPayloadEnvelope) -> Header:
    """The header a payload describes (what its ``blockHash`` must be the hash of): Shanghai fields from Canyon,
    Cancun fields from Ecotone, Prague's requests hash from Isthmus (op-service ``CheckBlockHash``)."""
    p = env.payload
    t = p.timestamp
    shanghai, cancun, prague = (spec.is_active(Fork.CANYON, t), spec.is_active(Fork.ECOTONE, t),
                                spec.is_active(Fork.ISTHMUS, t))
    wroot = None
    if shanghai:
        wroot = p.withdrawals_root if prague and p.withdrawals_root is not None else EMPTY_TRIE_ROOT
    return Header(parent_hash=p.parent_hash, coinbase=p.fee_recipient, state_root=p.state_root,
                  transactions_root=ordered_trie_root(list(p.transactions)), receipts_root=p.receipts_root,
                  logs_bloom=p.logs_bloom, number=p.block_number, gas_limit=p.gas_limit, gas_used=p.gas_used,
                  timestamp=t, extra_data=p.extra_data, mix_hash=p.prev_randao, base_fee=p.base_fee_per_gas,
                  withdrawals_root=wroot, blob_gas_used=p.blob_gas_used if cancun else None,
                  excess_blob_gas=p.excess_blob_gas if cancun else None,
                  parent_beacon_root=env.parent_beacon_block_root if cancun else None,
                  requests_hash=EMPTY_REQUESTS_HASH if prague else None)


def block_attributes(a: PayloadAttributes) -> BlockAttributes:
    """What the block builder takes from checked attributes (``gasLimit`` is required by then)."""
    return BlockAttributes(timestamp=a.timestamp, prev_randao=a.prev_randao, fee_recipient=a.suggested_fee_recipient,
                           gas_limit=a.gas_limit, parent_beacon_root=a.parent_beacon_block_root,
                           eip1559_params=a.eip1559_params, min_base_fee=a.min_base_fee)


def payload_id(parent: bytes, a: PayloadAttributes, version: int) -> bytes:
    """Deterministic id over everything that shapes the payload; the first byte is the payload version, as geth."""
    h = hashlib.sha256()
    h.update(parent)
    h.update(a.timestamp.to_bytes(8, "big"))
    h.update(a.prev_randao)
    h.update(a.suggested_fee_recipient)
    h.update(repr(None if a.withdrawals is None else [w.to_json() for w in a.withdrawals]).encode())
    if a.parent_beacon_block_root is not None:
        h.update(a.parent_beacon_block_root)
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


def status(s: str, latest_valid: bytes | None = None, error: str | None = None) -> dict:
    return {"status": s, "latestValidHash": None if latest_valid is None else to_hex(latest_valid),
            "validationError": error}
