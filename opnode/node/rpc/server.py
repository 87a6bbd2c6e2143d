"""The node's JSON-RPC server (``--rpc.addr``/``--rpc.port``): hypercorn on trio, HTTP only, as op-node's
``rpcServer`` on go-ethereum's HTTP handler stack:

- ``POST`` (any path) with a JSON content type carries JSON-RPC (see :mod:`.jsonrpc` for codes and limits);
- a body over the limit → HTTP 413 "content length too large (N>M)"; another content type → HTTP 415
  "invalid content type, only application/json is supported"; ``PUT``/``DELETE``/other → HTTP 405;
- ``GET /healthz`` → the version text (op-node ``healthzHandler``); any other bodyless ``GET`` → HTTP 200 with an
  empty body (geth's health check for load balancers).
Every answer, even to garbage, is a status line and a short body: never a traceback.

Wiring (the runtime)::

    server = RPCServer.for_node(cfg.rpc, node_api, metrics=metrics)
    port = await nursery.start(server.run)
"""

from __future__ import annotations

from dataclasses import dataclass

import trio

from opnode.node.rpc.http import bind, lifespan, send_response, serve_socket
from opnode.node.rpc.jsonrpc import Dispatcher, Limits, Method

ACCEPTED_CONTENT_TYPES = ("application/json", "application/json-rpc", "application/jsonrequest")
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class RPCConfig:
    addr: str = "127.0.0.1"  # --rpc.addr
    port: int = 9545  # --rpc.port
    enable_admin: bool = False  # --rpc.enable-admin
    admin_state: str = ""  # --rpc.admin-state (persisted sequencer state; the runtime reads it)


class RPCApp:
    """ASGI application around a :class:`Dispatcher`."""

    def __init__(self, dispatcher: Dispatcher, version: str):
        self.dispatcher = dispatcher
        self.version = version

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method = scope["method"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if method == "GET" and scope.get("path") == "/healthz":
            await send_response(send, 200, self.version.encode(), TEXT)
            return
        if method == "GET" and not scope.get("query_string") and headers.get("content-length", "0") == "0":
            await send_response(send, 200, b"", TEXT)
            return
        if method != "POST":
            await send_response(send, 405, b"method not allowed\n", TEXT)
            return
        limit = self.dispatcher.limits.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_response(send, 413, f"content length too large ({declared}>{limit})\n".encode(), TEXT)
            return
        mime = headers.get("content-type", "").split(";")[0].strip().lower()
        if mime not in ACCEPTED_CONTENT_TYPES:
            await send_response(send, 415, b"invalid content type, only application/json is supported\n", TEXT)
            return
        body = bytearray()
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body += msg.get("body", b"")
            if len(body) > limit:
                size = len(body)
                # read (and drop) a bounded rest, so that a streaming client gets to see the answer
                while msg.get("more_body") and size <= 4 * limit:
                    msg = await receive()
                    size += len(msg.get("body", b""))
                await send_response(send, 413, f"content length too large ({size}>{limit})\n".encode(), TEXT)
                return
            if not msg.get("more_body"):
                break
        out = await self.dispatcher.handle_body(bytes(body))
        await send_response(send, 200, out if out is not None else b"", "application/json")


class RPCServer:
    """Serves ``methods`` on ``cfg.addr:cfg.port`` inside the caller's nursery: ``port = await nursery.start(
    server.run)``; cancelled with the nursery. ``metrics`` (a :class:`~opnode.node.metrics.Metrics`) records
    ``rpc_server_requests_total{method}`` and ``rpc_server_request_duration_seconds{method}``."""

    def __init__(self, cfg: RPCConfig, methods: dict[str, Method], *, version: str, metrics=None,
                 limits: Limits = Limits()):
        self.cfg = cfg
        on_call = metrics.record_rpc_server_request if metrics is not None else None
        self.dispatcher = Dispatcher(methods, limits, on_call)
        self.app = RPCApp(self.dispatcher, version)
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
