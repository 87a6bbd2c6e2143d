"""The batcher's JSON-RPC endpoint (``--rpc.port``): op-batcher's admin methods and a status method.

- ``admin_startBatcher`` / ``admin_stopBatcher``: resume / stop posting (stop returns once nothing is in flight),
- ``admin_flushBatcher``: close the open channel now,
- ``batcher_status``: keys, heads, queue, transactions in flight and the event counters (faults, rewinds, txs by DA).

The devnet's traffic generator uses stop/start around a batcher key rotation (see opnode/devnet/traffic.py).
"""

from __future__ import annotations

from opnode.jsonrpc.client import RpcClient
from opnode.jsonrpc.server import Dispatcher, JsonRpcApp, Limits, methods_of

MAX_BODY = 1 << 20


def _hex_bytes(v):
    """The status as JSON holds it: bytes as 0x-hex, recursively."""
    if isinstance(v, bytes):
        return "0x" + v.hex()
    if isinstance(v, dict):
        return {k: _hex_bytes(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_hex_bytes(x) for x in v]
    return v


def make_app(batcher) -> JsonRpcApp:
    """The batcher's endpoint on the project's JSON-RPC server toolkit (geth's codes and HTTP rules)."""

    async def stop():
        await batcher.stop()

    methods = methods_of({
        "admin_startBatcher": lambda: batcher.start(),
        "admin_stopBatcher": stop,
        "admin_flushBatcher": lambda: batcher.flush(),
        "batcher_status": lambda: _hex_bytes(batcher.status()),
    })
    return JsonRpcApp(Dispatcher(methods, Limits(max_body_bytes=MAX_BODY)))


class BatcherControl:
    """The admin methods of a batcher in another process (the same interface as the in-process Batcher)."""

    def __init__(self, url: str, timeout: float = 120.0):
        self.url = url
        self.timeout = timeout

    async def _call(self, method: str):
        async with RpcClient(self.url, timeout=self.timeout) as rpc:
            return await rpc.call(method)

    async def pause(self) -> None:
        await self._call("admin_stopBatcher")

    async def resume(self) -> None:
        await self._call("admin_startBatcher")

    async def status(self) -> dict:
        return await self._call("batcher_status")
