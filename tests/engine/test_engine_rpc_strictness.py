"""The engine's JSON-RPC ports answer malformed requests as op-geth does: a status line or a JSON-RPC error, never a
500 with a traceback, never a Python message. Each case was a probe that broke the engine's old server (HTTP 500,
an echoed object id, a Python ``TypeError`` text, an ``OverflowError`` from SQLite); expected answers are op-geth's
(rpc/json.go ``hasValidID``, rpc/http.go ``validateRequest``, node/jwt_handler.go, rpc.BlockNumber)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import pytest

from engine.execution.service import EngineService
from opnode.jsonrpc.jwt import make_token
from opnode.testing.engine import genesis

SECRET = bytes(range(32))
CALL = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}


@pytest.fixture
async def ports(nursery, tmp_path):
    svc = EngineService(genesis(), SECRET, http_port=0, auth_port=0, datadir=str(tmp_path))  # SQLite store
    ports = await nursery.start(svc.run)
    yield ports
    svc.shutdown.set()


@pytest.fixture
async def post(ports):
    async with httpx.AsyncClient(timeout=30) as http:
        async def post(body, *, headers=None, auth=True):
            hdrs = [("content-type", "application/json")]
            if auth:
                hdrs.append(("authorization", f"Bearer {make_token(SECRET)}"))
            hdrs += list(headers or [])
            content = body if isinstance(body, bytes) else json.dumps(body).encode()
            return await http.post(f"http://127.0.0.1:{ports.auth}", content=content, headers=hdrs)
        yield post


def _token_with_claims(claims: bytes) -> str:
    def b64(d: bytes) -> str:
        return base64.urlsafe_b64encode(d).rstrip(b"=").decode()

    head = b64(b'{"alg":"HS256","typ":"JWT"}')
    body = b64(claims)
    sig = b64(hmac.new(SECRET, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


async def test_non_utf8_header_values_are_read_not_a_500(post):
    r = await post(CALL, headers=[("x-probe", b"\xff\xfe")])
    assert r.status_code == 200 and r.json()["result"]
    r = await post(CALL, auth=False, headers=[("authorization", b"Bearer \xff\xfe")])
    assert r.status_code == 401 and "Traceback" not in r.text


@pytest.mark.parametrize("iat", [b"1" + b"0" * 400, b"1e400", b"-1e400", b'"1700000000"', b"true"])
async def test_an_iat_that_is_no_date_is_401(post, iat):
    token = _token_with_claims(b'{"iat":' + iat + b"}")
    r = await post(CALL, auth=False, headers=[("authorization", f"Bearer {token}")])
    assert r.status_code == 401 and "Traceback" not in r.text


@pytest.mark.parametrize("rid", [{}, [], {"a": 1}, [1]])
async def test_object_and_array_ids_are_invalid_requests(post, rid):
    r = await post({**CALL, "id": rid})
    assert r.json() == {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}


@pytest.mark.parametrize("rid", [5, "abc", 1.5, None, 2**70])
async def test_number_string_and_null_ids_are_echoed(post, rid):
    r = await post({**CALL, "id": rid})
    assert r.json()["id"] == rid and r.json()["result"] == hex(genesis().spec.chain_id)


async def test_a_non_json_content_type_is_415(post):
    r = await post(CALL, headers=[("content-type", "text/plain")])
    assert r.status_code == 415 and r.text.startswith("invalid content type, only application/json is supported")


@pytest.mark.parametrize("method,params,message", [
    ("eth_getBlockByNumber", [], "missing value for required argument 0"),
    ("eth_getBlockByNumber", ["0x0", False, 3], "too many arguments, want at most 2"),
    ("engine_getPayloadV3", [], "missing value for required argument 0"),
    ("engine_newPayloadV4", [{}, [], "0x" + "00" * 32, [], 5], "too many arguments, want at most 4"),
    ("eth_chainId", [1], "too many arguments, want at most 0"),
])
async def test_argument_counts_get_geths_texts(post, method, params, message):
    r = await post({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    assert r.json()["error"] == {"code": -32602, "message": message}


@pytest.mark.parametrize("root", [5, [], {}, True])
async def test_a_non_string_parent_beacon_block_root_is_invalid_params(post, root):
    head = (await post({"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": ["latest", False]}))
    head = head.json()["result"]
    state = {"headBlockHash": head["hash"], "safeBlockHash": head["hash"], "finalizedBlockHash": head["hash"]}
    attrs = {"timestamp": hex(int(head["timestamp"], 16) + 2), "prevRandao": "0x" + "00" * 32,
             "suggestedFeeRecipient": "0x" + "00" * 20, "withdrawals": [], "parentBeaconBlockRoot": root}
    r = await post({"jsonrpc": "2.0", "id": 1, "method": "engine_forkchoiceUpdatedV3", "params": [state, attrs]})
    assert r.json()["error"]["code"] == -32602


@pytest.mark.parametrize("method,params", [
    ("eth_getBlockByNumber", ["0xffffffffffffffff", False]),
    ("eth_getBlockByNumber", ["0x8000000000000000", False]),
    ("eth_getBalance", ["0x" + "00" * 20, "0xffffffffffffffff"]),
    ("eth_getTransactionCount", ["0x" + "00" * 20, "0xffffffffffffffff"]),
    ("eth_getBlockReceipts", ["0xffffffffffffffff"]),
    ("debug_getRawBlock", ["0xffffffffffffffff"]),
])
async def test_a_block_number_beyond_int64_is_invalid_params_not_an_overflow(post, method, params):
    r = await post({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    err = r.json()["error"]
    assert err["code"] == -32602 and "larger than int64" in err["message"]


async def test_the_largest_int64_block_number_is_just_not_found(post):
    r = await post({"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber",
                    "params": ["0x7fffffffffffffff", False]})
    assert r.json() == {"jsonrpc": "2.0", "id": 1, "result": None}
