"""The running engine: chain + store + pool + Engine API and HTTP servers + EL sync, as one trio task."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from functools import partial

import trio

from engine.execution.chain import Chain
from engine.execution.engine_api import EngineAPI
from engine.execution.eth_api import EthAPI
from engine.execution.genesis import Genesis
from engine.execution.server import engine_methods, eth_methods, rpc_app
from engine.execution.store import Store
from engine.execution.sync import Syncer
from engine.execution.txpool import TxPool
from opnode.jsonrpc.http import bind, serve_socket

log = logging.getLogger("opnode.engine")


@dataclass
class Ports:
    http: int
    auth: int


class EngineService:
    def __init__(self, genesis: Genesis, secret: bytes, *, datadir: str | None = None, http_port: int = 8545,
                 auth_port: int = 8551, sync_peers: list[str] | None = None, host: str = "127.0.0.1"):
        self.store = Store(datadir)
        self.chain = Chain(genesis, self.store)
        self.secret = secret
        self.host = host
        self.http_port, self.auth_port = http_port, auth_port
        self.lock = trio.Lock()
        self.txpool = TxPool(genesis.spec.chain_id)
        self.syncer = Syncer(self.chain, sync_peers or [], self.lock) if sync_peers else None
        self.engine = EngineAPI(self.chain, self.txpool, self.syncer)
        self.eth = EthAPI(self.chain, self.txpool, self.lock, self.syncer)
        self.shutdown = trio.Event()

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        auth_sock = bind(self.host, self.auth_port)
        http_sock = bind(self.host, self.http_port)
        ports = Ports(http=http_sock.getsockname()[1], auth=auth_sock.getsockname()[1])
        eth = eth_methods(self.eth)
        auth_app = rpc_app({**eth, **engine_methods(self.engine)}, self.lock, self.secret)
        http_app = rpc_app(eth, self.lock)
        try:
            async with trio.open_nursery() as n:
                n.start_soon(partial(serve_socket, auth_app, auth_sock, shutdown=self.shutdown))
                n.start_soon(partial(serve_socket, http_app, http_sock, shutdown=self.shutdown))
                if self.syncer is not None:
                    n.start_soon(self.syncer.run)
                task_status.started(ports)
                await self.shutdown.wait()
                n.cancel_scope.deadline = trio.current_time() + 2
        finally:
            for sock in (auth_sock, http_sock):
                with contextlib.suppress(OSError):  # hypercorn may already have closed the listening fd
                    sock.close()
            self.store.close()
