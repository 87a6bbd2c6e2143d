"""The one JSON-RPC client against a scripted hypercorn/trio server on 127.0.0.1: what is retried (5xx, 429,
garbage, missing answers) and what is not (401, an error object), JWT on every request, op-node's metric labels,
batches split by size, and a response bound that a hostile server cannot get past."""

from __future__ import annotations

import json
from functools import partial

import pytest
import trio

from opnode.jsonrpc.client import RetryPolicy, RpcClient, SyncRpcClient
from opnode.jsonrpc.errors import RpcError, TransportError
from opnode.jsonrpc.http import lifespan, read_body, send_response, serve_url
from opnode.jsonrpc.jwt import JWTError, check_authorization

FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002)
SECRET = b"\x09" * 32


class Scripted:
    """Answers each POST with the next scripted reply (status, body or a callable of the request), then echoes."""

    def __init__(self):
        self.script: list = []
        self.requests: list[dict] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        body = await read_body(receive)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.requests.append({"body": json.loads(body), "headers": headers})
        step = self.script.pop(0) if self.script else "echo"
        if step == "echo":
            doc = json.loads(body)
            answer = [_echo(d) for d in doc] if isinstance(doc, list) else _echo(doc)
            await send_response(send, 200, json.dumps(answer).encode())
        else:
            status, out = step
            await send_response(send, status, out(json.loads(body)) if callable(out) else out)


def _echo(d: dict) -> dict:
    if d["method"] == "fail":
        return {"jsonrpc": "2.0", "id": d["id"], "error": {"code": -32000, "message": "nope", "data": "0x01"}}
    return {"jsonrpc": "2.0", "id": d["id"], "result": d["params"]}


class Sink:
    def __init__(self):
        self.seen: list[tuple[str, str | None]] = []

    def record_rpc_client(self, method, seconds, error):
        self.seen.append((method, error))


@pytest.fixture
async def server(nursery):
    app = Scripted()
    app.url = await nursery.start(partial(serve_url, app))
    return app


@pytest.mark.parametrize("fault", [(503, b"busy"), (500, b""), (429, b"slow down"), (200, b'{"jsonrpc":"2.0",'),
                                   (200, b"[]")])
async def test_transport_failures_are_retried_with_jitter(server, fault):
    server.script = [fault, fault]
    sink = Sink()
    async with RpcClient(server.url, retry=FAST, metrics=sink) as c:
        assert await c.call("eth_x", 1, "a") == [1, "a"]
        assert c.stats.retries == 2 and c.stats.http_requests == 3
    assert sink.seen[-1] == ("eth_x", None)
    if fault[0] != 200:
        assert sink.seen[0] == ("eth_x", f"http_{fault[0]}")


async def test_retries_run_out_into_a_transport_error(server):
    server.script = [(503, b"")] * 3
    async with RpcClient(server.url, retry=FAST) as c:
        with pytest.raises(TransportError, match="failed after 3 attempts: HTTP 503") as e:
            await c.call("eth_x")
    assert e.value.status == 503 and e.value.label == "http_503"


async def test_an_error_object_and_a_401_are_answers_not_retried(server):
    sink = Sink()
    server.script = ["echo", (401, b"missing token\n")]
    async with RpcClient(server.url, retry=FAST, metrics=sink) as c:
        with pytest.raises(RpcError) as e:
            await c.call("fail")
        assert (e.value.code, e.value.message, e.value.data, e.value.method) == (-32000, "nope", "0x01", "fail")
        with pytest.raises(TransportError) as e:
            await c.call("eth_x")
        assert e.value.status == 401 and "missing token" in str(e.value)
        assert c.stats.retries == 0
    assert sink.seen == [("fail", "rpc_-32000"), ("eth_x", "http_401")]


async def test_jwt_on_every_request(server):
    async with RpcClient(server.url, jwt_secret=SECRET) as c:
        await c.call("a")
        await c.call("b")
    for r in server.requests:
        check_authorization(SECRET, r["headers"]["authorization"])
    with pytest.raises(JWTError):
        check_authorization(b"\x00" * 32, server.requests[0]["headers"]["authorization"])


async def test_batches_are_split_and_keep_order(server):
    sink = Sink()
    async with RpcClient(server.url, max_batch_size=3, metrics=sink) as c:
        out = await c.batch([("m", [i]) if i != 4 else ("fail", []) for i in range(7)])
    sizes = sorted(len(r["body"]) if isinstance(r["body"], list) else 1 for r in server.requests)
    assert sizes == [1, 3, 3]
    assert out[:4] == [[0], [1], [2], [3]] and isinstance(out[4], RpcError) and out[5:] == [[5], [6]]
    assert {m for m, _ in sink.seen} == {"<batch>", "m"}


async def test_a_batch_answer_missing_calls_is_retried(server):
    server.script = [(200, lambda doc: json.dumps([_echo(doc[0])]).encode())]
    async with RpcClient(server.url, retry=FAST) as c:
        assert await c.batch([("m", [1]), ("m", [2])]) == [[1], [2]]
        assert c.stats.retries == 1


async def test_the_response_bound_holds(server):
    huge = b'{"jsonrpc":"2.0","id":1,"result":"' + b"a" * 200_000 + b'"}'
    server.script = [(200, huge)]
    async with RpcClient(server.url, retry=RetryPolicy(attempts=1), max_response_bytes=100_000) as c:
        with pytest.raises(TransportError, match="larger than 100000 bytes"):
            await c.call("eth_x")
    server.script = [(200, huge)]

    def sync_call():
        with SyncRpcClient(server.url, max_response_bytes=100_000) as s, pytest.raises(TransportError,
                                                                                        match="larger"):
            s.call("eth_x")

    await trio.to_thread.run_sync(sync_call)  # the server runs on this thread's event loop


async def test_the_sync_client(server):
    def use():
        with SyncRpcClient(server.url) as s:
            assert s.call("m", 1) == [1]
            assert s.batch([("m", [i]) for i in range(5)], chunk=2) == [[i] for i in range(5)]
            with pytest.raises(RpcError, match="fail: RPC error -32000: nope"):
                s.batch([("m", [1]), ("fail", [])])
            server.script = [(502, b"")]
            with pytest.raises(TransportError, match="HTTP 502"):
                s.call("m")

    await trio.to_thread.run_sync(use)
