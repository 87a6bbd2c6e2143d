"""The supernode's one-port routing (op-supernode resources/rpc_router.go): ``/`` the root methods, ``/<chainID>``
the chain's app with the prefix stripped (``/<chainID>/healthz`` is the chain's ``/healthz``), anything else an
HTTP 404 whose body is JSON naming the hosted chains."""

from __future__ import annotations

import httpx
import trio

from opnode.jsonrpc.http import bind, serve_socket
from opnode.jsonrpc.server import TEXT, Dispatcher, JsonRpcApp, Method
from opnode.supernode.router import Router


def _app(name: str) -> JsonRpcApp:
    async def who():
        return name

    return JsonRpcApp(Dispatcher({"who": Method(who)}), get_routes={"/healthz": (name.encode(), TEXT)})


async def _serve_and(fn):
    router = Router(_app("root"), {"901": _app("chain-901"), "902": _app("chain-902")})
    async with trio.open_nursery() as n:
        port = await n.start(lambda task_status: serve_socket(router, bind("127.0.0.1", 0), task_status=task_status))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            await fn(client)
        n.cancel_scope.cancel()


def _call(method="who"):
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": []}


def test_routes():
    async def check(client):
        assert (await client.post("/", json=_call())).json()["result"] == "root"
        assert (await client.post("/901", json=_call())).json()["result"] == "chain-901"
        assert (await client.post("/902/", json=_call())).json()["result"] == "chain-902"
        assert (await client.get("/901/healthz")).text == "chain-901"
        assert (await client.get("/healthz")).text == "root"
        r = await client.post("/903", json=_call())
        assert r.status_code == 404 and r.headers["content-type"] == "application/json"
        assert r.json() == {"error": "unknown chain '903'", "chain_ids": ["901", "902"]}
        r = await client.get("/nonsense/healthz")
        assert r.status_code == 404 and r.json()["chain_ids"] == ["901", "902"]

    trio.run(_serve_and, check)
