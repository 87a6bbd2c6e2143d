"""The engine eth reader: JWT on every request, errors as types, bounded responses."""

from __future__ import annotations

import json

import httpx
import pytest

from derivation.protocol.errors import ParseError
from derivation.protocol.rollup_config import Fork
from opnode.jsonrpc.errors import RpcError, TransportError
from opnode.jsonrpc.jwt import check_authorization
from opnode.node.l2_reader import BlockNotFound, L2Reader
from opnode.node.metrics import Metrics
from opnode.node.networks import load_rollup_config

SECRET = b"\x07" * 32


def reader(handler, **kw) -> L2Reader:
    return L2Reader("http://engine:8551", transport=httpx.MockTransport(handler), **kw)


def answer(result=None, error=None, status=200):
    def handler(request: httpx.Request):
        body = {"jsonrpc": "2.0", "id": json.loads(request.content)["id"]}
        body.update({"error": error} if error is not None else {"result": result})
        return httpx.Response(status, json=body)

    return handler


async def test_jwt_and_request_shape():
    seen = []

    def handler(request: httpx.Request):
        check_authorization(SECRET, request.headers["authorization"])
        seen.append(json.loads(request.content))
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": seen[-1]["id"], "result": {"hash": "0x01"}})

    r = reader(handler, jwt_secret=SECRET)
    assert await r.block_by_number(16, True) == {"hash": "0x01"}
    await r.get_proof(b"\x42" * 20, [b"\x00" * 32], b"\x11" * 32)
    assert seen[0]["method"] == "eth_getBlockByNumber" and seen[0]["params"] == ["0x10", True]
    assert seen[1]["params"] == ["0x" + "42" * 20, ["0x" + "00" * 32], {"blockHash": "0x" + "11" * 32}]
    await r.aclose()


async def test_errors_are_typed_and_metered():
    m = Metrics()
    with pytest.raises(BlockNotFound):
        await reader(answer(None), metrics=m).block_by_hash(b"\x01" * 32)
    with pytest.raises(RpcError) as e:
        await reader(answer(error={"code": -32000, "message": "header not found"}), metrics=m).call("eth_x")
    assert e.value.code == -32000
    with pytest.raises(TransportError) as e:
        await reader(lambda req: httpx.Response(503, text="busy"), metrics=m).call("eth_y")
    assert e.value.label == "http_503"
    with pytest.raises(TransportError, match="not JSON"):
        await reader(lambda req: httpx.Response(200, content=b"<html>"), metrics=m).call("eth_z")
    with pytest.raises(TransportError, match="not JSON"):
        await reader(lambda req: httpx.Response(200, content=b"[" * 500_000), metrics=m).call("eth_z")

    def refuse(request):
        raise httpx.ConnectError("refused")

    with pytest.raises(TransportError, match="ConnectError"):
        await reader(refuse).call("eth_chainId")
    with pytest.raises(ParseError):
        await reader(answer([1, 2])).block_by_number(1)
    assert m.sample("op_node_default_rpc_client_responses_total", {"rpc": "engine-api", "method": "eth_x", "error": "rpc_-32000"}) == 1
    assert m.sample("op_node_default_rpc_client_responses_total", {"rpc": "engine-api", "method": "eth_y", "error": "http_503"}) == 1
    assert m.sample("op_node_default_rpc_client_responses_total", {"rpc": "engine-api", "method": "eth_getBlockByHash",
                                                                   "error": "<nil>"}) == 1


async def test_output_needs_matching_header_and_isthmus_root():
    cfg = load_rollup_config("op-sepolia")
    t = cfg.fork_time(Fork.ISTHMUS)
    header = {"hash": "0x" + "22" * 32, "stateRoot": "0x" + "33" * 32, "timestamp": hex(t)}
    with pytest.raises(ParseError, match="answered block"):
        await reader(answer(header)).output_v0_at_block(cfg, b"\x21" * 32)
    with pytest.raises(ParseError, match="no withdrawalsRoot"):
        await reader(answer(header)).output_v0_at_block(cfg, b"\x22" * 32)
    out = await reader(answer({**header, "withdrawalsRoot": "0x" + "44" * 32})).output_v0_at_block(cfg, b"\x22" * 32)
    assert out.message_passer_storage_root == b"\x44" * 32 and out.state_root == b"\x33" * 32
