"""The RPC servers under abuse (issue 18): the node's RPC, the embedded engine's public HTTP and authenticated Engine
API ports, the supernode's one-port router and the beacon shim, each a real server on 127.0.0.1 (hypercorn, as
they run), sent what an attacker would send: malformed and deeply nested JSON, 50 MB bodies, batches of 10,000,
wrong types, huge and negative numbers, non-UTF-8 bytes in the body, the path and the headers, slow clients that
never finish a request, and 200 connections at once.

Expected answers are go-ethereum's rpc package (op-node and op-geth serve through it; opnode/jsonrpc/server.py
names the files): -32700 for what is not JSON, -32600 for what is not a request or a batch over the limit,
-32602 for wrong parameters, HTTP 413 past the body limit, 401 for any token geth refuses. Afterwards each server
still answers a plain request, and the Python memory it retains (tracemalloc, after a collection) grew by less
than 16 MiB across the 50 MB bodies and 10,000-call batches.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field

import httpx
import pytest

from engine.execution.service import EngineService
from opnode.jsonrpc.http import bind, serve_socket
from opnode.jsonrpc.jwt import make_token
from opnode.jsonrpc.server import Dispatcher, JsonRpcApp
from opnode.node.networks import load_rollup_config
from opnode.node.rpc.methods import node_methods
from opnode.supernode.router import Router
from opnode.testing.engine import genesis
from opnode.tools.beacon_shim import BeaconShim
from tests.abuse.probes import (
    RetainedMemory,
    concurrently,
    error_code,
    host_port,
    post_request,
    raw,
    slow_clients,
)
from tests.abuse.probes import (
    request as call,
)
from tests.node.rpc_support import FakeNode, start_server

SECRET = bytes(range(32))
CFG = load_rollup_config("op-sepolia")
MB = 1 << 20
RETAINED_LIMIT = 16 * MB
DEEP = b"[" * 100_000 + b"]" * 100_000


@dataclass
class Server:
    name: str
    url: str
    plain: dict  # a request every server answers with a result
    number_method: str  # a method whose first parameter is a block number (QUANTITY)
    number_tail: list  # parameters after the number
    max_body: int
    max_batch: int
    headers: dict = field(default_factory=dict)


def _auth() -> dict:
    return {"Authorization": f"Bearer {make_token(SECRET)}"}


@pytest.fixture(params=["node", "engine-http", "engine-auth", "supernode"])
async def server(request: pytest.FixtureRequest, nursery):
    kind = request.param
    if kind == "node":
        port, _ = await start_server(nursery, FakeNode(CFG))
        yield Server(kind, f"http://127.0.0.1:{port}", _plain_node(), "optimism_safeHeadAtL1Block", [], 5 * MB, 1000)
    elif kind == "supernode":
        app = JsonRpcApp(Dispatcher(node_methods(FakeNode(CFG))))
        router = Router(app, {"11155420": app})
        port = await nursery.start(lambda task_status: serve_socket(router, bind("127.0.0.1", 0),
                                                                   task_status=task_status))
        yield Server(kind, f"http://127.0.0.1:{port}/11155420", _plain_node(), "optimism_safeHeadAtL1Block", [],
                     5 * MB, 1000)
    else:
        svc = EngineService(genesis(), SECRET, http_port=0, auth_port=0)
        ports = await nursery.start(svc.run)
        plain = call("eth_chainId")
        if kind == "engine-http":
            yield Server(kind, f"http://127.0.0.1:{ports.http}", plain, "eth_getBlockByNumber", [False], 5 * MB, 1000)
        else:
            yield Server(kind, f"http://127.0.0.1:{ports.auth}", plain, "eth_getBlockByNumber", [False], 128 * MB,
                         2000, headers=_auth())
        svc.shutdown.set()


def _plain_node() -> dict:
    return call("optimism_syncStatus")


async def _post(http: httpx.AsyncClient, s: Server, body: bytes, **kw) -> httpx.Response:
    headers = {"content-type": "application/json", **s.headers, **kw.pop("headers", {})}
    return await http.post(s.url, content=body, headers=headers, **kw)


async def _still_serves(http: httpx.AsyncClient, s: Server) -> None:
    if s.name == "engine-auth":
        s.headers = _auth()  # a fresh token: the abuse may have taken longer than a token lives
    r = await _post(http, s, json.dumps(s.plain).encode())
    assert r.status_code == 200 and "result" in r.json(), (s.name, r.status_code, r.text[:300])


def _quantity_cases():
    return [("-0x1", "negative"), ("0x" + "f" * 100, "beyond uint64"), (123, "a JSON number"), ("10", "decimal text"),
            (None, "null"), ({}, "an object"), ("0x" + "1" * 100_000, "100,000 digits")]


async def test_hostile_requests_get_geths_error_codes(server):
    s = server
    cases = [
        (b"{", -32700),
        (DEEP, -32700),
        (b'{"jsonrpc":"2.0","id":1,"method":"x","params":' + DEEP + b"}", -32700),
        (b"\xff\xfe\x00garbage", -32700),
        (b'{"jsonrpc":"2.0","id":1,"method":"\xff\xfe"}', -32700),  # not UTF-8: not JSON text
        (b"[]", -32600),
        (b"123", -32600),
        (b'{"jsonrpc":"2.0","id":1,"method":123}', -32600),
        (b'{"jsonrpc":"2.0","id":{},"method":"eth_chainId"}', -32600),
        (b'{"jsonrpc":"1.0","id":1,"method":"eth_chainId"}', -32600),
        (json.dumps(call("no_suchMethod")).encode(), -32601),
        (json.dumps({**s.plain, "params": {"a": 1}}).encode(), -32602),
        (json.dumps({**s.plain, "params": [1, 2, 3, 4, 5, 6]}).encode(), -32602),
    ]
    for value, _what in _quantity_cases():
        cases.append((json.dumps(call(s.number_method, [value, *s.number_tail])).encode(), -32602))
    async with httpx.AsyncClient(timeout=60) as http:
        for body, code in cases:
            r = await _post(http, s, body)
            assert r.status_code == 200, (s.name, body[:80], r.status_code, r.text[:200])
            assert error_code(r.content) == code, (s.name, body[:80], r.text[:300])
            assert "Traceback" not in r.text and "internal error" not in r.text
        # a huge id is echoed as sent (geth: any JSON value but an object or array)
        r = await _post(http, s, json.dumps({**s.plain, "id": 10 ** 400}).encode())
        assert r.json()["id"] == 10 ** 400
        await _still_serves(http, s)


async def test_big_bodies_and_batches_answer_and_memory_stays_bounded(server):
    s = server
    mem = RetainedMemory()
    mem.start()
    async with httpx.AsyncClient(timeout=120) as http:
        big = b" " * (50 * MB)
        r = await _post(http, s, big)
        if s.max_body < len(big):
            assert r.status_code == 413 and b"content length too large" in r.content, (s.name, r.status_code)
        else:  # the Engine API takes up to 128 MiB (op-geth engineAPIBodyLimit): whitespace is not JSON
            assert r.status_code == 200 and error_code(r.content) == -32700
        del big, r
        batch = json.dumps([call(s.plain["method"], rid=i) for i in range(10_000)]).encode()
        r = await _post(http, s, batch)
        doc = r.json()  # geth respondWithBatchTooLarge: a batch of one error carrying the first call's id
        assert [d["error"] for d in doc] == [{"code": -32600, "message": "batch too large"}] and doc[0]["id"] == 0, \
            (s.name, r.text[:300])
        del batch, r, doc
        await _still_serves(http, s)
        assert mem.growth() < RETAINED_LIMIT
        at_limit = json.dumps([call(s.plain["method"], rid=i) for i in range(s.max_batch)]).encode()
        r = await _post(http, s, at_limit)  # the limit itself is served whole
        assert len(r.json()) == s.max_batch and all("result" in x for x in r.json())


async def test_non_utf8_bytes_in_path_and_headers_get_a_status_not_a_500(server):
    s = server
    body = json.dumps(s.plain).encode()
    auth = s.headers.get("Authorization", "")
    extra = f"Authorization: {auth}\r\n".encode() if auth else b""
    base = host_port(s.url)[2].rstrip("/").encode()
    for path, header in ((base + b"/\xff\xfe", b""), (None, b"X-Probe: \xff\xfe\x80\r\n")):
        req = post_request(s.url, body, path=path, extra=extra + header)
        status, answer = await raw(s.url, req)
        assert status in (200, 400, 404), (s.name, path, header, status, answer[:200])  # h11: 400 for a raw byte
        assert b"Traceback" not in answer
    async with httpx.AsyncClient(timeout=60) as http:
        await _still_serves(http, s)


async def test_slow_clients_and_200_connections_do_not_stop_it(server):
    """50 clients that never finish their request hold connections while 200 others each send a request at once:
    all 200 are answered, and so is a request after the slow ones are gone."""
    s = server
    body = json.dumps(s.plain).encode()
    async with slow_clients(s.url, 50):
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=120, limits=limits) as http:
            answers = await concurrently(200, lambda: _post(http, s, body))
        assert [a.status_code for a in answers] == [200] * 200
        assert all("result" in a.json() for a in answers)
    async with httpx.AsyncClient(timeout=60) as http:
        await _still_serves(http, s)


# ------------------------------------------------------------------------------------------------ Engine API JWT


def _token(header: dict, claims: dict, secret: bytes = SECRET) -> str:
    def b64(d: bytes) -> str:
        return base64.urlsafe_b64encode(d).rstrip(b"=").decode()

    head, body = b64(json.dumps(header).encode()), b64(json.dumps(claims).encode())
    if header.get("alg") == "none":
        return f"{head}.{body}."
    sig = b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


HS256 = {"alg": "HS256", "typ": "JWT"}


@pytest.mark.parametrize("token, ok", [
    pytest.param(lambda: _token({"alg": "none", "typ": "JWT"}, {"iat": int(time.time())}), False, id="alg none"),
    pytest.param(lambda: _token(HS256, {"iat": int(time.time()) - 70}), False, id="expired iat (-70 s)"),
    pytest.param(lambda: _token(HS256, {"iat": int(time.time()) + 70}), False, id="future iat (+70 s)"),
    pytest.param(lambda: _token(HS256, {"iat": int(time.time()) - 50}), True, id="iat -50 s"),
    pytest.param(lambda: _token(HS256, {"iat": int(time.time()) + 50}), True, id="iat +50 s"),
    pytest.param(lambda: _token(HS256, {}), False, id="no iat claim"),
    pytest.param(lambda: _token(HS256, {"iat": "now"}), False, id="iat not a number"),
    pytest.param(lambda: _token(HS256, {"iat": 10 ** 400}), False, id="iat 10^400"),
    pytest.param(lambda: _token(HS256, {"iat": int(time.time())}, b"\x00" * 32), False, id="wrong secret"),
    pytest.param(lambda: "", False, id="empty token"),
    pytest.param(lambda: "a.b", False, id="two parts"),
])
async def test_engine_api_jwt(nursery, token, ok):
    svc = EngineService(genesis(), SECRET, http_port=0, auth_port=0)
    ports = await nursery.start(svc.run)
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(f"http://127.0.0.1:{ports.auth}", json=call("eth_chainId"),
                            headers={"Authorization": f"Bearer {token()}".rstrip()})
        if ok:
            assert r.status_code == 200 and "result" in r.json(), r.text
        else:
            assert r.status_code == 401 and "Traceback" not in r.text, (r.status_code, r.text)
        r = await http.post(f"http://127.0.0.1:{ports.auth}", json=call("eth_chainId"))
        assert r.status_code == 401 and r.text.strip() == "missing token"
    svc.shutdown.set()


# ------------------------------------------------------------------------------------------------ beacon shim


@pytest.fixture
async def shim(nursery):
    """The beacon shim in front of an L1 that is not there (nothing listens on the port): the probes are about the
    HTTP side, which must answer without one."""
    sock = bind("127.0.0.1", 0)
    dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    s = BeaconShim(dead)
    yield await nursery.start(s.serve)


async def test_beacon_shim_under_abuse(shim):
    mem = RetainedMemory()
    mem.start()
    async with httpx.AsyncClient(timeout=120) as http:
        r = await http.post(shim + "/eth/v1/beacon/genesis", content=b"x" * (50 * MB))
        assert r.status_code == 413, r.status_code  # read no further than the limit (it read all 50 MB first)
        for path in ("/eth/v1/beacon/blob_sidecars/" + "9" * 1000, "/eth/v1/beacon/blob_sidecars/-1",
                     "/eth/v1/beacon/blob_sidecars/head?indices=x,-1," + "9" * 100, "/" + "a/" * 2000):
            r = await http.get(shim + path)
            assert r.status_code < 600 and "Traceback" not in r.text, (path, r.status_code)
        status, answer = await raw(shim, b"GET /eth/v1/beacon/genesis?\xff\xfe=\x80 HTTP/1.1\r\nHost: x\r\n"
                                         b"X-Probe: \xff\r\nConnection: close\r\n\r\n")
        assert status in (200, 400, 404, 500, 503) and b"Traceback" not in answer, (status, answer[:300])
    async with slow_clients(shim, 50):
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=120, limits=limits) as http:
            answers = await concurrently(200, lambda: http.get(shim + "/eth/v1/node/version"))
        assert all(a.status_code == 200 for a in answers), {a.status_code for a in answers}
    assert mem.growth() < RETAINED_LIMIT
