"""A fake NodeAPI and a real RPC server on 127.0.0.1 for the RPC tests."""

from __future__ import annotations

import httpx
import trio

from derivation.protocol.types import BlockID, L1BlockRef, L2BlockRef
from opnode.jsonrpc.errors import SERVER_ERROR, RpcError
from opnode.jsonrpc.server import Limits
from opnode.node.metrics import Metrics
from opnode.node.rpc.methods import node_methods
from opnode.node.rpc.server import RPCConfig, RPCServer
from opnode.node.sync_status import SyncStatus


def h(i: int) -> bytes:
    return i.to_bytes(32, "big")


def l1(n: int) -> L1BlockRef:
    return L1BlockRef(h(0x1000 + n), n, h(0x1000 + n - 1), 1_700_000_000 + 12 * n)


def l2(n: int, origin: int) -> L2BlockRef:
    return L2BlockRef(h(0x2000 + n), n, h(0x2000 + n - 1), 1_700_000_000 + 2 * n, BlockID(h(0x1000 + origin), origin),
                      n % 6)


STATUS = SyncStatus(current_l1=l1(95), current_l1_finalized=l1(80), head_l1=l1(100), safe_l1=l1(90),
                    finalized_l1=l1(80), unsafe_l2=l2(520, 99), safe_l2=l2(500, 94), finalized_l2=l2(400, 79),
                    pending_safe_l2=l2(505, 95), cross_unsafe_l2=l2(520, 99), local_safe_l2=l2(500, 94))


class FakeNode:
    """Records admin calls; ``fail`` makes the next hook raise that exception."""

    def __init__(self, rollup_config, *, l2_eth=None, safedb=None, p2p=None, status: SyncStatus = STATUS,
                 sequencer: bool = True):
        self.rollup_config = rollup_config
        self.dependency_set = rollup_config.dependency_set
        self.sequencer = sequencer
        self.recover = False
        self.l2_eth = l2_eth
        self.safedb = safedb
        self.p2p = p2p
        self.fetch_withdrawal_root_from_state = False
        self.status = status
        self.calls: list[tuple] = []
        self.active = True
        self.fail: Exception | None = None
        self.delay = 0.0

    def sync_status(self) -> SyncStatus:
        return self.status

    async def _hook(self, name, *args):
        self.calls.append((name, *args))
        if self.delay:
            await trio.sleep(self.delay)
        if self.fail is not None:
            e, self.fail = self.fail, None
            raise e

    async def reset_derivation_pipeline(self):
        await self._hook("reset")

    async def start_sequencer(self, unsafe_head: bytes):
        await self._hook("start", unsafe_head)
        if unsafe_head != self.status.unsafe_l2.hash:
            raise RpcError(SERVER_ERROR, "block hash does not match: head " + "0x" + self.status.unsafe_l2.hash.hex())
        self.active = True

    async def stop_sequencer(self) -> bytes:
        await self._hook("stop")
        self.active = False
        return self.status.unsafe_l2.hash

    async def sequencer_active(self) -> bool:
        await self._hook("active")
        return self.active

    async def post_unsafe_payload(self, envelope):
        await self._hook("post", envelope)

    async def set_recover_mode(self, mode: bool):
        await self._hook("recover", mode)
        self.recover = mode

    async def override_leader(self):
        await self._hook("override_leader")
        if not self.sequencer:
            raise RpcError(SERVER_ERROR, "sequencer is not enabled")

    async def conductor_enabled(self) -> bool:
        await self._hook("conductor_enabled")
        return False


class Client:
    def __init__(self, http: httpx.AsyncClient, url: str):
        self.http, self.url = http, url

    async def post(self, body, content_type="application/json", **kw) -> httpx.Response:
        if not isinstance(body, (bytes, str)):
            import json

            body = json.dumps(body)
        return await self.http.post(self.url, content=body, headers={"Content-Type": content_type}, **kw)

    async def rpc(self, method: str, *params, rid=1) -> dict:
        r = await self.post({"jsonrpc": "2.0", "id": rid, "method": method, "params": list(params)})
        assert r.status_code == 200, r.text
        return r.json()

    async def result(self, method: str, *params):
        body = await self.rpc(method, *params)
        assert "error" not in body, body
        return body["result"]


async def start_server(nursery, node, *, admin=False, limits=Limits(), metrics=None, extra=None):
    metrics = metrics if metrics is not None else Metrics()
    server = RPCServer(RPCConfig(addr="127.0.0.1", port=0, enable_admin=admin),
                       node_methods(node, enable_admin=admin, extra=extra, version="v9.9.9-test"), version="v9.9.9-test", metrics=metrics,
                       limits=limits)
    port = await nursery.start(server.run)
    return port, metrics
