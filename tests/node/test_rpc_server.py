"""The JSON-RPC server over real HTTP on 127.0.0.1: framing, go-ethereum's error codes, limits, admin gating,
and the rpc_server_* metrics. Bad input gets a JSON-RPC error or a short HTTP status, never a traceback."""

from __future__ import annotations

import json

import httpx
import pytest
import trio

from opnode.jsonrpc.server import Limits, Method
from opnode.node.networks import load_rollup_config
from tests.node.rpc_support import Client, FakeNode, start_server

CFG = load_rollup_config("op-sepolia")


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


async def serve(nursery, http, node=None, **kw):
    node = node or FakeNode(CFG)
    port, metrics = await start_server(nursery, node, **kw)
    return Client(http, f"http://127.0.0.1:{port}/"), node, metrics


async def test_single_call_and_ids(nursery, client):
    c, _, _ = await serve(nursery, client)
    for rid in (1, "abc", None, 7.5):
        body = await c.rpc("optimism_version", rid=rid)
        assert body == {"jsonrpc": "2.0", "id": rid, "result": "v9.9.9-test"}
    r = await c.post({"jsonrpc": "2.0", "id": 3, "method": "optimism_syncStatus"})  # params may be omitted
    assert r.headers["content-type"] == "application/json" and len(r.json()["result"]) == 11


@pytest.mark.parametrize("body,code,message", [
    (b"{", -32700, "parse error"),
    (b"\xff\xfe", -32700, "parse error"),
    (b"[" * 100_000, -32700, "parse error"),
    (b"[" * 300 + b'"' + b'\\"' * 32_000, -32700, "parse error"),  # the probe that froze the node for 17 s
    (b"5", -32600, "invalid request"),
    (b'"x"', -32600, "invalid request"),
    (b'{"jsonrpc":"1.0","id":1,"method":"optimism_version"}', -32600, "invalid request"),
    (b'{"jsonrpc":"2.0","id":1}', -32600, "invalid request"),
    (b'{"jsonrpc":"2.0","id":1,"method":5}', -32600, "invalid request"),
    (b'{"jsonrpc":"2.0","id":{"a":1},"method":"optimism_version"}', -32600, "invalid request"),
    (b"[]", -32600, "empty batch"),
    (b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}', -32601,
     "the method eth_chainId does not exist/is not available"),
    (b'{"jsonrpc":"2.0","id":1,"method":"optimism_syncStatus","params":{"a":1}}', -32602, "non-array args"),
    (b'{"jsonrpc":"2.0","id":1,"method":"optimism_syncStatus","params":[1]}', -32602,
     "too many arguments, want at most 0"),
    (b'{"jsonrpc":"2.0","id":1,"method":"optimism_outputAtBlock","params":[]}', -32602,
     "missing value for required argument 0"),
])
async def test_malformed_requests_get_json_rpc_errors(nursery, client, body, code, message):
    c, _, _ = await serve(nursery, client)
    r = await c.post(body)
    assert r.status_code == 200
    out = r.json()
    assert out["error"] == {"code": code, "message": message}
    assert out["jsonrpc"] == "2.0"
    assert "Traceback" not in r.text


@pytest.mark.parametrize("param,message", [
    ("23ad2e", "hex string without 0x prefix"), ("0x", 'hex string "0x"'), ("0x01", "hex number with leading zero"),
    ("0x" + "f" * 17, "hex number > 64 bits"), ("0xzz", "invalid hex string"), (5, "cannot unmarshal non-string"),
    ("", "empty hex string"),
])
async def test_quantity_params_are_decoded_like_geth(nursery, client, param, message):
    c, _, _ = await serve(nursery, client)
    err = (await c.rpc("optimism_safeHeadAtL1Block", param))["error"]
    assert err["code"] == -32602 and err["message"].startswith("invalid argument 0: ") and message in err["message"]


async def test_batches(nursery, client):
    c, _, _ = await serve(nursery, client)
    batch = [{"jsonrpc": "2.0", "id": 1, "method": "optimism_version"},
             {"jsonrpc": "2.0", "method": "optimism_version"},  # notification: no answer
             5,
             {"jsonrpc": "2.0", "id": "b", "method": "nope"},
             {"jsonrpc": "2.0", "id": 4, "method": "optimism_syncStatus", "params": []}]
    out = (await c.post(batch)).json()
    assert [x.get("id") for x in out] == [1, None, "b", 4]
    assert out[0]["result"] == "v9.9.9-test"
    assert out[1]["error"]["code"] == -32600
    assert out[2]["error"]["code"] == -32601
    assert set(out[3]["result"]) >= {"safe_l2", "local_safe_l2"}
    only_notifications = await c.post([{"jsonrpc": "2.0", "method": "optimism_version"}])
    assert only_notifications.status_code == 200 and only_notifications.content == b""
    single_notification = await c.post({"jsonrpc": "2.0", "method": "optimism_version"})
    assert single_notification.status_code == 200 and single_notification.content == b""


async def test_batch_limits(nursery, client):
    c, _, _ = await serve(nursery, client, limits=Limits(max_batch=3, max_batch_response_bytes=2500))
    too_many = [{"jsonrpc": "2.0", "id": i, "method": "optimism_version"} for i in range(4)]
    too_many[0] = {"jsonrpc": "2.0", "method": "optimism_version"}
    out = (await c.post(too_many)).json()
    assert out == [{"jsonrpc": "2.0", "id": 1, "error": {"code": -32600, "message": "batch too large"}}]
    big = [{"jsonrpc": "2.0", "id": i, "method": "optimism_syncStatus"} for i in range(3)]
    out = (await c.post(big)).json()
    assert "result" in out[0]
    assert out[-1]["error"] == {"code": -32003, "message": "response too large"}


async def test_body_limit_content_type_and_http_methods(nursery, client):
    c, _, _ = await serve(nursery, client, limits=Limits(max_body_bytes=1000))
    r = await c.post(b" " * 2000)
    assert r.status_code == 413 and r.text.startswith("content length too large (2000>1000)")

    async def chunks():  # no content-length: the limit applies while reading
        for _ in range(10):
            yield b" " * 500

    r = await client.post(c.url, content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    r = await c.post(b'{"jsonrpc":"2.0","id":1,"method":"optimism_version"}', content_type="text/plain")
    assert r.status_code == 415 and "only application/json" in r.text
    r = await c.post(b'{"jsonrpc":"2.0","id":1,"method":"optimism_version"}',
                     content_type="application/json; charset=utf-8")
    assert r.json()["result"] == "v9.9.9-test"
    assert (await client.get(c.url)).status_code == 200
    assert (await client.put(c.url, content=b"{}")).status_code == 405


async def test_admin_namespace_needs_the_flag(nursery, client):
    c, node, _ = await serve(nursery, client)
    for method in ("admin_resetDerivationPipeline", "admin_startSequencer", "admin_stopSequencer",
                   "admin_sequencerActive", "admin_postUnsafePayload", "admin_setLogLevel"):
        err = (await c.rpc(method))["error"]
        assert err == {"code": -32601, "message": f"the method {method} does not exist/is not available"}
    assert node.calls == []
    c2, node2, _ = await serve(nursery, client, admin=True)
    assert await c2.result("admin_resetDerivationPipeline") is None
    assert node2.calls == [("reset",)]


async def test_handler_bugs_and_timeouts_are_errors_not_tracebacks(nursery, client):
    node = FakeNode(CFG)
    c, _, _ = await serve(nursery, client, node=node, admin=True, limits=Limits(handler_timeout=0.3))
    node.fail = KeyError("secret internal detail")
    r = await c.post({"jsonrpc": "2.0", "id": 9, "method": "admin_resetDerivationPipeline"})
    assert r.json() == {"jsonrpc": "2.0", "id": 9, "error": {"code": -32603, "message": "internal error"}}
    assert "secret" not in r.text
    node.delay = 5
    with trio.fail_after(3):
        err = (await c.rpc("admin_sequencerActive"))["error"]
    assert err == {"code": -32002, "message": "request timed out"}


async def test_unencodable_result_is_an_internal_error(nursery, client):
    async def bad():
        return object()

    c, _, _ = await serve(nursery, client, extra={"test_bad": Method(bad)})
    assert (await c.rpc("test_bad"))["error"] == {"code": -32603, "message": "internal error"}


async def test_rpc_server_metrics(nursery, client):
    c, _, metrics = await serve(nursery, client)
    for _ in range(3):
        await c.rpc("optimism_syncStatus")
    await c.rpc("optimism_outputAtBlock", "nope")  # counted: the method exists
    await c.rpc("made_up_method")  # not counted: garbage must not grow the label set
    assert metrics.sample("op_node_default_rpc_server_requests_total", {"rpc": "main", "method": "optimism_syncStatus"}) == 3
    assert metrics.sample("op_node_default_rpc_server_requests_total", {"rpc": "main", "method": "optimism_outputAtBlock"}) == 1
    assert metrics.sample("op_node_default_rpc_server_requests_total", {"rpc": "main", "method": "made_up_method"}) is None
    assert metrics.sample("op_node_default_rpc_server_request_duration_seconds_count",
                          {"rpc": "main", "method": "optimism_syncStatus"}) == 3


async def test_port_in_use_is_a_clear_error(nursery, client):
    c, _, _ = await serve(nursery, client)
    port = int(c.url.rsplit(":", 1)[1].strip("/"))
    from opnode.jsonrpc.http import BindError, bind

    with pytest.raises(BindError, match=f"cannot listen on 127.0.0.1:{port}"):
        bind("127.0.0.1", port)
    assert json.loads((await c.post({"jsonrpc": "2.0", "id": 1, "method": "optimism_version"})).text)["id"] == 1


async def test_deep_nesting_is_refused_under_py_evms_recursion_limit(nursery, client):
    """py-evm and py_ecc raise the recursion limit to 100000 on import; json's C decoder then overflows the C
    stack on deep input instead of raising. The server must answer, not crash."""
    import sys

    before = sys.getrecursionlimit()
    sys.setrecursionlimit(max(before, 100_000))
    try:
        c, _, _ = await serve(nursery, client, limits=Limits(max_body_bytes=10_000_000))
        r = await c.post(b"[" * 1_000_000)
        assert r.json()["error"] == {"code": -32700, "message": "parse error"}
        ok = await c.post(b"[" * 200 + b'{"jsonrpc":"2.0","id":1,"method":"optimism_version"}' + b"]" * 200)
        assert ok.json()[0]["error"]["code"] == -32600  # within bounds: parsed, then refused as a request
    finally:
        sys.setrecursionlimit(before)


async def test_for_node_wires_the_methods_and_the_admin_flag(nursery, client):
    from opnode.node.rpc.methods import VERSION
    from opnode.node.rpc.server import RPCConfig, RPCServer

    for admin in (False, True):
        server = RPCServer.for_node(RPCConfig(addr="127.0.0.1", port=0, enable_admin=admin), FakeNode(CFG))
        port = await nursery.start(server.run)
        assert server.port == port
        c = Client(client, f"http://127.0.0.1:{port}")
        assert await c.result("optimism_version") == VERSION
        body = await c.rpc("admin_sequencerActive")
        assert ("result" in body) == admin
