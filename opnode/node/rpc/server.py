"""The node's JSON-RPC server (``--rpc.addr``/``--rpc.port``): hypercorn on trio, HTTP only, as op-node's RPC
server (op-service/rpc ``Handler`` on go-ethereum's HTTP handler stack, op-node/node/server.go; okx/optimism@7573e762,
2026-06-30). The JSON-RPC and HTTP rules (codes, texts, limits, 405/413/415) are the shared toolkit's
(:mod:`opnode.jsonrpc.server`); the node's HTTP surface around them is op-node's:

- ``/`` serves JSON-RPC; ``/healthz`` (and ``/healthz/``) answers ``{"version":"…"}`` as JSON to any method
  (``defaultHealthzHandler``); every other path is Go's ``404 page not found``;
- CORS for every origin (op-node passes ``WithCORSHosts(["*"])``; go-ethereum's ``newCorsHandler``: rs/cors with
  methods POST and GET, any header, max age 600): a preflight (``OPTIONS`` with ``Access-Control-Request-Method``)
  gets 204 and the allow headers, a request with an ``Origin`` gets ``Access-Control-Allow-Origin: *``.

Wiring (the runtime)::

    server = RPCServer.for_node(cfg.rpc, node_api, metrics=metrics)
    port = await nursery.start(server.run)
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import trio

from opnode.jsonrpc.http import Receive, Scope, Send, bind, header_map, serve_socket
from opnode.jsonrpc.server import Dispatcher, JsonRpcApp, Limits, Method

CORS_METHODS = ("POST", "GET")
CORS_MAX_AGE = 600
NOT_FOUND = b"404 page not found\n"
GO_TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class RPCConfig:
    addr: str = "127.0.0.1"  # --rpc.addr (the CLI's default is op-node's 0.0.0.0)
    port: int = 9545  # --rpc.port
    enable_admin: bool = False  # --rpc.enable-admin
    admin_state: str = ""  # --rpc.admin-state (persisted sequencer state; the runtime reads it)


class NodeHTTP:
    """op-node's routes and CORS around the JSON-RPC app (see the module docstring)."""

    def __init__(self, rpc: JsonRpcApp, version: str):
        self.rpc = rpc
        self.healthz = (json.dumps({"version": version}, separators=(",", ":")) + "\n").encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.rpc(scope, receive, send)
            return
        path = scope.get("path", "")
        if path in ("/healthz", "/healthz/"):
            await _respond(send, 200, self.healthz, [(b"content-type", b"application/json")])
            return
        if path != "/":
            await _respond(send, 404, NOT_FOUND, [(b"content-type", GO_TEXT.encode()),
                                                  (b"x-content-type-options", b"nosniff")])
            return
        headers = header_map(scope)
        origin = headers.get("origin")
        wanted = headers.get("access-control-request-method")
        if scope["method"] == "OPTIONS" and wanted is not None:
            await _respond(send, 204, b"", _preflight(origin, wanted, headers.get("access-control-request-headers")))
            return
        extra = [(b"vary", b"Origin")]
        if origin:
            extra.append((b"access-control-allow-origin", b"*"))

        async def send_with_cors(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.rpc(scope, receive, send_with_cors)


def _preflight(origin: str | None, method: str, request_headers: str | None) -> list[tuple[bytes, bytes]]:
    """rs/cors ``handlePreflight`` with AllowedOrigins ``*``: no allow headers for a missing origin or a method
    other than POST and GET."""
    out = [(b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers")]
    if not origin or method.upper() not in CORS_METHODS:
        return out
    out += [(b"access-control-allow-origin", b"*"), (b"access-control-allow-methods", method.upper().encode())]
    if request_headers:
        out.append((b"access-control-allow-headers", request_headers.encode("latin-1")))
    out.append((b"access-control-max-age", str(CORS_MAX_AGE).encode()))
    return out


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class RPCServer:
    """Serves ``methods`` on ``cfg.addr:cfg.port`` inside the caller's nursery: ``port = await nursery.start(
    server.run)``; cancelled with the nursery. ``metrics`` (a :class:`~opnode.node.metrics.Metrics`) records
    ``rpc_server_requests_total{rpc="main",method}`` and ``rpc_server_request_duration_seconds{rpc,method}``."""

    def __init__(self, cfg: RPCConfig, methods: dict[str, Method], *, version: str, metrics=None,
                 limits: Limits = Limits()):
        self.cfg = cfg
        on_call = metrics.record_rpc_server_request if metrics is not None else None
        self.dispatcher = Dispatcher(methods, limits, on_call)
        self.app = NodeHTTP(JsonRpcApp(self.dispatcher), version)
        self.port: int | None = None

    @classmethod
    def for_node(cls, cfg: RPCConfig, api, *, metrics=None, extra: dict[str, Method] | None = None,
                 limits: Limits = Limits()) -> RPCServer:
        """op-node's methods over ``api`` (a :class:`~opnode.node.rpc.api.NodeAPI`); admin ones with
        ``cfg.enable_admin``; ``extra`` adds more (e.g. the P2P service's ``opp2p_*``)."""
        from opnode.node.rpc.methods import VERSION, node_methods

        return cls(cfg, node_methods(api, enable_admin=cfg.enable_admin, extra=extra), version=VERSION,
                   metrics=metrics, limits=limits)

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        sock = bind(self.cfg.addr, self.cfg.port)
        self.port = sock.getsockname()[1]
        await serve_socket(self.app, sock, task_status=task_status)
