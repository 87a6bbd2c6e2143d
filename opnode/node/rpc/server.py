"""The node's JSON-RPC server (``--rpc.addr``/``--rpc.port``): hypercorn on trio, HTTP only, as op-node's
``rpcServer`` on go-ethereum's HTTP handler stack. The JSON-RPC and HTTP rules (codes, texts, limits, 405/413/415)
are the shared toolkit's (:mod:`opnode.jsonrpc.server`); the node adds ``GET /healthz`` → the version text (op-node
``healthzHandler``).

Wiring (the runtime)::

    server = RPCServer.for_node(cfg.rpc, node_api, metrics=metrics)
    port = await nursery.start(server.run)
"""

from __future__ import annotations

from dataclasses import dataclass

import trio

from opnode.jsonrpc.http import bind, serve_socket
from opnode.jsonrpc.server import TEXT, Dispatcher, JsonRpcApp, Limits, Method


@dataclass(frozen=True, slots=True)
class RPCConfig:
    addr: str = "127.0.0.1"  # --rpc.addr
    port: int = 9545  # --rpc.port
    enable_admin: bool = False  # --rpc.enable-admin
    admin_state: str = ""  # --rpc.admin-state (persisted sequencer state; the runtime reads it)


class RPCServer:
    """Serves ``methods`` on ``cfg.addr:cfg.port`` inside the caller's nursery: ``port = await nursery.start(
    server.run)``; cancelled with the nursery. ``metrics`` (a :class:`~opnode.node.metrics.Metrics`) records
    ``rpc_server_requests_total{method}`` and ``rpc_server_request_duration_seconds{method}``."""

    def __init__(self, cfg: RPCConfig, methods: dict[str, Method], *, version: str, metrics=None,
                 limits: Limits = Limits()):
        self.cfg = cfg
        on_call = metrics.record_rpc_server_request if metrics is not None else None
        self.dispatcher = Dispatcher(methods, limits, on_call)
        self.app = JsonRpcApp(self.dispatcher, get_routes={"/healthz": (version.encode(), TEXT)})
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
