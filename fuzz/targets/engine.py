"""Targets for Engine API JSON: the engine's parsers of execution payloads, payload attributes and forkchoice
states (engine/execution/payload.py), the shared payload model (derivation/protocol/payload.py), and the node's engine client reading
the engine's answers (engine/client.py)."""

from __future__ import annotations

import json

import httpx

from derivation.protocol.errors import ParseError, TemporaryError
from derivation.protocol.payload import ExecutionPayload, ExecutionPayloadEnvelope
from engine.client import EngineClient, EngineRPCError, ForkchoiceState
from engine.execution.payload import RpcError, attributes_from_json, forkchoice_state_from_json, payload_from_json
from fuzz.targets import Cursor, json_input, target
from fuzz.targets.config import CONFIG
from fuzz.vectors import vector


def _payload() -> dict:
    return dict(vector("p2p_external")["real_blocks"][0]["execution_payload"])


def _attributes() -> dict:
    p = _payload()
    return {"timestamp": p["timestamp"], "prevRandao": p["prevRandao"], "suggestedFeeRecipient": p["feeRecipient"],
            "withdrawals": [], "parentBeaconBlockRoot": "0x" + "11" * 32, "transactions": p["transactions"][:1],
            "noTxPool": True, "gasLimit": p["gasLimit"], "eip1559Params": "0x" + "00" * 8, "minBaseFee": "0x0"}


def _payload_json_seeds():
    p = _payload()
    root = vector("p2p_external")["real_blocks"][0]["parent_beacon_block_root"]
    yield b"\x00" + json.dumps(p).encode()
    yield b"\x01" + json.dumps(_attributes()).encode()
    yield b"\x02" + json.dumps({"headBlockHash": p["blockHash"], "safeBlockHash": p["parentHash"],
                                "finalizedBlockHash": p["parentHash"]}).encode()
    yield b"\x03" + json.dumps({"executionPayload": p, "parentBeaconBlockRoot": root, "blockValue": "0x1"}).encode()


@target("payload_json", allowed=(ParseError, RpcError), seeds=_payload_json_seeds, max_len=8192,
        tokens=(b'"0x', b"null", b'"withdrawals":[', b'"transactions":[', b'"blobGasUsed":', b'"0x0"'))
def payload_json_target(data: bytes) -> None:
    """engine/execution/payload.py and derivation/protocol/payload.py: the first byte picks the shape (0 executionPayload, 1
    payloadAttributes, 2 forkchoiceState, 3 getPayload result), the rest is its JSON."""
    c = Cursor(data)
    kind = c.byte() % 4
    doc = json_input(c.rest())
    if kind == 0:
        payload_from_json(doc)
        ExecutionPayload.from_json(doc).to_json()
    elif kind == 1:
        attributes_from_json(doc)
    elif kind == 2:
        forkchoice_state_from_json(doc)
    else:
        ExecutionPayloadEnvelope.from_json(doc)


# ------------------------------------------------------------------------------------------------ engine client

_ANSWER: list[tuple[int, bytes]] = [(200, b"")]
_CLIENT = EngineClient("http://engine.invalid", b"\x01" * 32, CONFIG,
                       transport=httpx.MockTransport(lambda req: httpx.Response(*_ANSWER[0][:1],
                                                                                content=_ANSWER[0][1])))
_STATE = ForkchoiceState(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32)
_STATUSES = (200, 200, 200, 401, 500, 200, 204, 200)


def _drive(coro):
    """Run a coroutine that never suspends (the mock transport answers at once) without an event loop."""
    try:
        coro.send(None)
    except StopIteration as e:
        return e.value
    coro.close()
    raise AssertionError("the engine client suspended on a mock transport")


def _client_call(kind: int):
    payload = _payload()
    if kind == 0:
        return _CLIENT.forkchoice_updated(_STATE)
    if kind == 1:
        return _CLIENT.get_payload(b"\x03" * 8, int(payload["timestamp"], 16))
    if kind == 2:
        return _CLIENT.new_payload(ExecutionPayloadEnvelope(ExecutionPayload.from_json(payload), b"\x04" * 32))
    if kind == 3:
        return _CLIENT.exchange_capabilities(["engine_newPayloadV4"])
    return _CLIENT.block("latest")


def _result(r) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "result": r}).encode()


def _client_seeds():
    p = _payload()
    status = {"status": "VALID", "latestValidHash": p["blockHash"], "validationError": None}
    yield b"\x00\x00" + _result({"payloadStatus": status, "payloadId": "0x0303030303030303"})
    yield b"\x01\x00" + _result({"executionPayload": p, "blockValue": "0x1", "parentBeaconBlockRoot": "0x" + "11" * 32})
    yield b"\x02\x00" + _result(status)
    yield b"\x03\x00" + _result(["engine_newPayloadV4"])
    yield b"\x04\x00" + _result(p)
    yield b"\x00\x00" + json.dumps({"jsonrpc": "2.0", "id": 1, "error": {"code": -38002, "message": "x"}}).encode()
    yield b"\x02\x03" + b'{"error":"bad jwt"}'


@target("engine_client", allowed=(ParseError, TemporaryError, EngineRPCError), seeds=_client_seeds, max_len=8192,
        tokens=(b'"result":', b'"error":', b'"payloadStatus":', b'"executionPayload":', b'"code":-38001', b"null"))
def engine_client_target(data: bytes) -> None:
    """engine/client.py: the engine's HTTP answer (first byte: which call; second: the HTTP status) read by the
    node's Engine API client; errors must be its transport/RPC error types or parse errors."""
    c = Cursor(data)
    kind = c.byte() % 5
    _ANSWER[0] = (_STATUSES[c.byte() % len(_STATUSES)], c.rest())
    _drive(_client_call(kind))
