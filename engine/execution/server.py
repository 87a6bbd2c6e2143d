"""The engine's JSON-RPC servers on hypercorn/trio: the authenticated Engine API port (``engine_*`` plus ``eth_*``, as
op-geth's authrpc) and the public HTTP port (``eth_*``, ``net_*``, ``web3_*``).

Requests are JSON-RPC 2.0, single or batched. A missing or bad JWT on the auth port answers HTTP 401, as op-geth.
Handlers run one at a time in a worker thread so execution never blocks the event loop.
"""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import dataclass, field

import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from derivation.protocol.jsonutil import loads_bounded
from engine.execution.engine_api import EngineAPI
from engine.execution.eth_api import EthAPI
from engine.execution.payload import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    TOO_LARGE_REQUEST,
    RpcError,
)
from engine.jwt import JWTError, check_authorization

log = logging.getLogger("opnode.engine")
MAX_BODY = 32 * 1024 * 1024
MAX_BATCH = 1024


def engine_methods(e: EngineAPI) -> dict:
    return {
        "engine_exchangeCapabilities": e.exchange_capabilities,
        "engine_getClientVersionV1": e.client_version,
        "engine_signalSuperchainV1": e.signal_superchain,
        "engine_forkchoiceUpdatedV1": lambda s, a=None: e.forkchoice_updated(1, s, a),
        "engine_forkchoiceUpdatedV2": lambda s, a=None: e.forkchoice_updated(2, s, a),
        "engine_forkchoiceUpdatedV3": lambda s, a=None: e.forkchoice_updated(3, s, a),
        "engine_getPayloadV2": lambda pid: e.get_payload(2, pid),
        "engine_getPayloadV3": lambda pid: e.get_payload(3, pid),
        "engine_getPayloadV4": lambda pid: e.get_payload(4, pid),
        "engine_getPayloadV5": lambda pid: e.get_payload(5, pid),
        "engine_newPayloadV2": lambda p: e.new_payload(2, p),
        "engine_newPayloadV3": lambda p, h=None, r=None: e.new_payload(3, p, h, r),
        "engine_newPayloadV4": lambda p, h=None, r=None, q=None: e.new_payload(4, p, h, r, q),
    }


def eth_methods(x: EthAPI) -> dict:
    return {
        "eth_chainId": x.chain_id, "eth_config": x.config, "eth_blockNumber": x.block_number,
        "eth_getBlockByNumber": x.get_block_by_number, "eth_getBlockByHash": x.get_block_by_hash,
        "eth_getTransactionByHash": x.get_transaction_by_hash,
        "eth_getTransactionReceipt": x.get_transaction_receipt, "eth_getBlockReceipts": x.get_block_receipts,
        "eth_getBalance": x.get_balance, "eth_getCode": x.get_code, "eth_getStorageAt": x.get_storage_at,
        "eth_getTransactionCount": x.get_transaction_count, "eth_getProof": x.get_proof,
        "eth_sendRawTransaction": x.send_raw_transaction, "eth_call": x.call, "eth_estimateGas": x.estimate_gas,
        "debug_getRawBlock": x.get_raw_block, "eth_gasPrice": x.gas_price, "eth_maxPriorityFeePerGas": x.max_priority_fee, "eth_syncing": x.syncing,
        "net_version": lambda: str(x.chain.spec.chain_id), "web3_clientVersion": lambda: "opnode-engine/0.1.0",
    }


def dispatch(methods: dict, req) -> dict | None:
    """One JSON-RPC request object → its response (None for a notification)."""
    if not isinstance(req, dict) or req.get("jsonrpc") != "2.0" or not isinstance(req.get("method"), str):
        return {"jsonrpc": "2.0", "id": None, "error": {"code": INVALID_REQUEST, "message": "invalid request"}}
    rid = req.get("id")
    fn = methods.get(req["method"])
    try:
        if fn is None:
            raise RpcError(METHOD_NOT_FOUND, f"the method {req['method']} does not exist/is not available")
        params = req.get("params", [])
        if params is None:
            params = []
        if not isinstance(params, list):
            raise RpcError(INVALID_PARAMS, "params must be an array")
        try:
            result = fn(*params)
        except TypeError as e:
            if "positional argument" in str(e) or "required" in str(e):
                raise RpcError(INVALID_PARAMS, f"invalid params: {e}") from None
            raise
        out = {"jsonrpc": "2.0", "id": rid, "result": result}
    except RpcError as e:
        out = {"jsonrpc": "2.0", "id": rid, "error": e.to_json()}
    except Exception as e:  # a bug in a handler must not take the server down
        log.exception("internal error in %s", req.get("method"))
        out = {"jsonrpc": "2.0", "id": rid, "error": {"code": INTERNAL_ERROR, "message": f"internal error: {e}"}}
    return None if "id" not in req else out


def parse_body(body: bytes):
    """The request JSON, or the encoded parse-error response (bytes) when the body is not JSON."""
    try:
        return loads_bounded(body)
    except (ValueError, UnicodeDecodeError):
        return json.dumps({"jsonrpc": "2.0", "id": None,
                           "error": {"code": PARSE_ERROR, "message": "parse error"}}).encode()


def handle_request(methods: dict, req) -> bytes:
    if isinstance(req, list):
        if not req:
            return json.dumps({"jsonrpc": "2.0", "id": None,
                               "error": {"code": INVALID_REQUEST, "message": "empty batch"}}).encode()
        if len(req) > MAX_BATCH:
            return json.dumps({"jsonrpc": "2.0", "id": None,
                               "error": {"code": TOO_LARGE_REQUEST, "message": "batch too large"}}).encode()
        out = [r for r in (dispatch(methods, x) for x in req) if r is not None]
        return json.dumps(out).encode()
    r = dispatch(methods, req)
    return json.dumps(r if r is not None else "").encode()


@dataclass
class RpcApp:
    """A minimal ASGI JSON-RPC endpoint; ``secret`` turns on JWT checking."""

    methods: dict
    lock: trio.Lock
    secret: bytes | None = None
    limiter: trio.CapacityLimiter = field(default_factory=lambda: trio.CapacityLimiter(1))

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        if self.secret is not None:
            try:
                check_authorization(self.secret, headers.get("authorization"))
            except JWTError as e:
                await _respond(send, 401, json.dumps({"error": str(e)}).encode())
                return
        if scope["method"] == "GET":
            await _respond(send, 200, b'{"status":"ok"}')
            return
        if scope["method"] != "POST":
            await _respond(send, 405, b'{"error":"method not allowed"}')
            return
        body = bytearray()
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if len(body) > MAX_BODY:
                await _respond(send, 413, b'{"error":"request too large"}')
                return
            if not msg.get("more_body"):
                break
        # Parsing happens outside the lock: a large body on the public port must not hold up the Engine API.
        req = await trio.to_thread.run_sync(parse_body, bytes(body))
        if isinstance(req, bytes):
            await _respond(send, 200, req)
            return
        async with self.lock:
            out = await trio.to_thread.run_sync(handle_request, self.methods, req, limiter=self.limiter)
        await _respond(send, 200, out)


async def _respond(send, code: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def bind_socket(port: int, host: str = "127.0.0.1") -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(128)
    s.set_inheritable(True)
    return s


async def serve_app(app, sock: socket.socket, shutdown: trio.Event | None = None) -> None:
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("opnode.engine.http")
    config.keep_alive_timeout = 30
    config.graceful_timeout = 1
    trigger = shutdown.wait if shutdown is not None else None
    await serve(app, config, shutdown_trigger=trigger)
