"""The server toolkit's error mapping, request by request, against go-ethereum's answers (op-geth rpc/json.go,
rpc/handler.go, rpc/errors.go: the texts and codes below are geth's), without a socket; and its HTTP rules and JWT
check over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from functools import partial

import httpx
import pytest
import trio

from opnode.jsonrpc.errors import InvalidParams, RpcError
from opnode.jsonrpc.http import serve_url
from opnode.jsonrpc.jwt import make_token
from opnode.jsonrpc.server import Dispatcher, JsonRpcApp, Limits, Method, methods_of


def _fail(kind):
    if kind == "rpc":
        raise RpcError(-32000, "not found", {"why": 1})
    if kind == "params":
        raise InvalidParams("invalid argument 0: hex string without 0x prefix")
    raise KeyError("a bug")


async def _slow():
    await trio.sleep(10)


METHODS = {**methods_of({"echo": lambda a, b=None: [a, b], "none": lambda: None, "fail": _fail,
                         "bad_result": lambda: object()}),
           "slow": Method(_slow)}
DISPATCHER = Dispatcher(METHODS, Limits(handler_timeout=0.2))


def req(method="echo", params=(1,), rid=1, **extra):
    out = {"jsonrpc": "2.0", "id": rid, "method": method, "params": list(params)}
    out.update(extra)
    return json.dumps(out).encode()


@pytest.mark.parametrize("body,answer", [
    (b"{", {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}),
    (b"[" * 100_000, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}),
    (b"7", {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}),
    (b"[]", {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "empty batch"}}),
    (req(jsonrpc="1.0"), {"jsonrpc": "2.0", "id": 1, "error": {"code": -32600, "message": "invalid request"}}),
    (req(rid={}), {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}),
    (req(rid=[1]), {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}),
    (req(method=5), {"jsonrpc": "2.0", "id": 1, "error": {"code": -32600, "message": "invalid request"}}),
    (req(method="nope"), {"jsonrpc": "2.0", "id": 1,
                          "error": {"code": -32601, "message": "the method nope does not exist/is not available"}}),
    (req(params=()), {"jsonrpc": "2.0", "id": 1,
                      "error": {"code": -32602, "message": "missing value for required argument 0"}}),
    (req(params=(1, 2, 3)), {"jsonrpc": "2.0", "id": 1,
                             "error": {"code": -32602, "message": "too many arguments, want at most 2"}}),
    (b'{"jsonrpc":"2.0","id":1,"method":"echo","params":null}',
     {"jsonrpc": "2.0", "id": 1, "error": {"code": -32602, "message": "missing value for required argument 0"}}),
    (b'{"jsonrpc":"2.0","id":1,"method":"echo","params":{"a":1}}',
     {"jsonrpc": "2.0", "id": 1, "error": {"code": -32602, "message": "non-array args"}}),
    (req("fail", ["rpc"]), {"jsonrpc": "2.0", "id": 1,
                            "error": {"code": -32000, "message": "not found", "data": {"why": 1}}}),
    (req("fail", ["params"]), {"jsonrpc": "2.0", "id": 1, "error": {
        "code": -32602, "message": "invalid argument 0: hex string without 0x prefix"}}),
    (req("fail", ["bug"]), {"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "internal error"}}),
    (req("bad_result", []), {"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "internal error"}}),
    (req("slow", []), {"jsonrpc": "2.0", "id": 1, "error": {"code": -32002, "message": "request timed out"}}),
    (req(rid="x"), {"jsonrpc": "2.0", "id": "x", "result": [1, None]}),
    (req(rid=None), {"jsonrpc": "2.0", "id": None, "result": [1, None]}),
    (req(rid=True), {"jsonrpc": "2.0", "id": True, "result": [1, None]}),  # geth: any id but {…} or […]
])
async def test_error_mapping(body, answer, caplog):
    out = await DISPATCHER.handle_body(body)
    assert json.loads(out) == answer
    assert "Traceback" not in out.decode()


def test_params_null_is_no_params():
    # geth accepts "params": null (its own client used to send it); a method without parameters then runs
    out = trio.run(DISPATCHER.handle_body, b'{"jsonrpc":"2.0","id":1,"method":"none","params":null}')
    assert json.loads(out) == {"jsonrpc": "2.0", "id": 1, "result": None}


async def test_notifications_get_no_answer_and_batches_keep_order():
    assert await DISPATCHER.handle_body(b'{"jsonrpc":"2.0","method":"echo","params":[1]}') is None
    assert await DISPATCHER.handle_body(b'{"jsonrpc":"2.0","method":"nope"}') is None
    batch = [json.loads(req(rid=1)), {"jsonrpc": "2.0", "method": "echo", "params": [2]}, 5, json.loads(req("x", rid=3))]
    out = json.loads(await DISPATCHER.handle_body(json.dumps(batch).encode()))
    assert [o["id"] for o in out] == [1, None, 3]
    assert [o.get("error", {}).get("code") for o in out] == [None, -32600, -32601]


async def test_batch_limits():
    d = Dispatcher(METHODS, Limits(max_batch=2, max_batch_response_bytes=60))
    too_many = [{"jsonrpc": "2.0", "method": "echo", "params": [0]}] + [json.loads(req(rid=i)) for i in (7, 8)]
    assert json.loads(await d.handle_body(json.dumps(too_many).encode())) == [
        {"jsonrpc": "2.0", "id": 7, "error": {"code": -32600, "message": "batch too large"}}]
    big = [json.loads(req(params=["x" * 50], rid=i)) for i in range(2)]
    out = json.loads(await d.handle_body(json.dumps(big).encode()))
    assert "result" in out[0] and out[1]["error"] == {"code": -32003, "message": "response too large"}


def test_arities_come_from_signatures():
    def f(a, b, c=1, *rest, d=2):
        pass

    m = Method.of(f)
    assert (m.required, m.optional) == (2, 1)
    assert (Method.of(lambda: 0).required, Method.of(lambda: 0).optional) == (0, 0)


SECRET = b"\x05" * 32


@pytest.fixture
async def app_url(nursery):
    app = JsonRpcApp(DISPATCHER, jwt_secret=SECRET, get_routes={"/healthz": (b"v1", "text/plain")})
    return await nursery.start(partial(serve_url, app))


async def test_http_rules_and_jwt(app_url):
    good = {"authorization": f"Bearer {make_token(SECRET)}", "content-type": "application/json"}
    async with httpx.AsyncClient() as http:
        r = await http.post(app_url, content=req(), headers=good)
        assert r.status_code == 200 and r.json()["result"] == [1, None]
        r = await http.post(app_url, content=req(), headers={"content-type": "application/json"})
        assert r.status_code == 401 and r.text == "missing token\n"
        stale = {**good, "authorization": f"Bearer {make_token(SECRET, 1_000_000)}"}
        assert (await http.post(app_url, content=req(), headers=stale)).text == "stale token\n"
        future = {**good, "authorization": f"Bearer {make_token(SECRET, 2**40)}"}
        assert (await http.post(app_url, content=req(), headers=future)).text == "future token\n"
        r = await http.post(app_url, content=req(), headers={**good, "content-type": "text/plain"})
        assert r.status_code == 415
        assert (await http.put(app_url, content=req(), headers=good)).status_code == 405
        r = await http.post(app_url, content=b" " * (5 * 1024 * 1024 + 1), headers=good)
        assert r.status_code == 413 and r.text.startswith("content length too large")
        assert (await http.get(app_url + "/healthz", headers=good)).text == "v1"
        r = await http.get(app_url + "/", headers=good)
        assert r.status_code == 200 and r.content == b""
