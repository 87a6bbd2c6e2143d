"""The batcher's JSON-RPC endpoint (``--rpc.port``): op-batcher's admin methods and a status method.

- ``admin_startBatcher`` / ``admin_stopBatcher``: resume / stop posting (stop returns once nothing is in flight),
- ``admin_flushBatcher``: close the open channel now,
- ``batcher_status``: keys, heads, queue, transactions in flight and the event counters (faults, rewinds, txs by DA).

The devnet's traffic generator uses stop/start around a batcher key rotation (see opnode/devnet/traffic.py).
"""

from __future__ import annotations

import json

import httpx

from opnode.jsonrpc.http import lifespan, read_body, send_response

MAX_BODY = 1 << 20


def make_app(batcher):
    async def handle(req: dict):
        method, rid = req.get("method"), req.get("id")
        if method == "admin_startBatcher":
            batcher.start()
            result = None
        elif method == "admin_stopBatcher":
            await batcher.stop()
            result = None
        elif method == "admin_flushBatcher":
            batcher.flush()
            result = None
        elif method == "batcher_status":
            result = batcher.status()
        else:
            return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": f"the method {method} does "
                                                                                      "not exist/is not available"}}
        return {"jsonrpc": "2.0", "id": rid, "result": result}

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await read_body(receive, MAX_BODY)
        if body is None:
            await send_response(send, 413, b'{"error":"request too large"}')
            return
        try:
            req = json.loads(body)
        except ValueError:
            out = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}
        else:
            if isinstance(req, list):
                out = [await handle(r) if isinstance(r, dict) else _invalid() for r in req]
            elif isinstance(req, dict):
                out = await handle(req)
            else:
                out = _invalid()
        await send_response(send, 200, json.dumps(out, default=lambda v: "0x" + v.hex()).encode())

    return app


def _invalid() -> dict:
    return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}


class BatcherControl:
    """The admin methods of a batcher in another process (the same interface as the in-process Batcher)."""

    def __init__(self, url: str, timeout: float = 120.0):
        self.url = url
        self.timeout = timeout

    async def _call(self, method: str):
        async with httpx.AsyncClient(timeout=self.timeout) as http:
            r = (await http.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": []})).json()
        if r.get("error"):
            raise RuntimeError(f"{method}: {r['error']}")
        return r.get("result")

    async def pause(self) -> None:
        await self._call("admin_stopBatcher")

    async def resume(self) -> None:
        await self._call("admin_startBatcher")

    async def status(self) -> dict:
        return await self._call("batcher_status")
