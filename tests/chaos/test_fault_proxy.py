"""The chaos suite's fault proxy (opnode/testing/fault_proxy.py) against a real anvil: each fault changes what a
client gets, counts itself, and goes away when cleared."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from opnode.testing.fault_proxy import Fault, FaultProxy
from opnode.tools.anvil import Anvil
from tests.e2e.waiting import wait


@pytest.fixture(scope="module")
def anvil():
    a = Anvil().start()
    a.rpc("anvil_mine", hex(12))
    yield a
    a.stop()


@pytest.fixture
def proxy(anvil):
    with FaultProxy() as p:
        p.route("l1", anvil.url)
        p.route("beacon", anvil.url)
        yield p


def _call(url: str, method: str, *params, http: httpx.Client | None = None):
    c = http or httpx
    r = c.post(url, json={"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)}, timeout=30)
    return r


def _result(url, method, *params):
    return _call(url, method, *params).json()["result"]


def test_forwards_unchanged_without_a_fault(proxy, anvil):
    url = proxy.url("l1", "n")
    assert _result(url, "eth_blockNumber") == anvil.rpc("eth_blockNumber")
    batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_chainId", "params": []} for i in range(3)]
    assert [a["result"] for a in httpx.post(url, json=batch).json()] == [anvil.rpc("eth_chainId")] * 3
    r = httpx.get(proxy.url("beacon", "n") + "/eth/v1/beacon/genesis")
    assert r.status_code == 200 and "genesis_time" in r.json()["data"]
    assert proxy.hits("l1", "n") == 0


def test_http_error_for_one_node_and_method_then_cleared(proxy):
    url = proxy.url("l1", "a")
    proxy.set("l1", "a", Fault("status", status=503, methods=frozenset({"eth_blockNumber"})))
    assert _call(url, "eth_blockNumber").status_code == 503
    assert _call(url, "eth_chainId").status_code == 200, "other methods pass"
    assert _call(proxy.url("l1", "b"), "eth_blockNumber").status_code == 200, "other nodes pass"
    assert proxy.hits("l1", "a", "status") == 1
    proxy.clear()
    assert _call(url, "eth_blockNumber").status_code == 200


def test_hang_holds_the_request_until_cleared(proxy):
    url = proxy.url("l1", "h")
    proxy.set("l1", "h", Fault("hang", seconds=120))
    got: list = []

    def client():
        try:
            got.append(_call(url, "eth_blockNumber"))
        except httpx.HTTPError as e:
            got.append(e)

    t = threading.Thread(target=client)
    t.start()
    wait(lambda: proxy.hits("l1", "h") == 1, 30, "the request to reach the proxy")
    assert not got, "no answer while hanging"
    proxy.clear()
    t.join(30)
    assert len(got) == 1 and isinstance(got[0], httpx.HTTPError), got


def test_truncated_body_breaks_the_transfer(proxy):
    proxy.set("l1", "t", Fault("truncate"))
    with pytest.raises(httpx.HTTPError):
        _call(proxy.url("l1", "t"), "eth_getBlockByNumber", "0x1", True)


def test_garbage_bodies_in_turn(proxy):
    proxy.set("l1", "g", Fault("garbage"))
    bodies = [_call(proxy.url("l1", "g"), "eth_getBlockByNumber", "0x1", False).content for _ in range(3)]
    parsed = 0
    for b in bodies:
        try:
            doc = json.loads(b)
        except ValueError:
            continue
        parsed += 1
        assert doc["id"] == 7 and not isinstance(doc["result"]["hash"], str), "wrong shape, right id"
    assert parsed == 1, bodies
    assert proxy.hits("l1", "g", "garbage") == 3


def test_lagging_backend_answers_as_of_n_blocks_ago(proxy, anvil):
    url = proxy.url("l1", "lag")
    head = int(anvil.rpc("eth_blockNumber"), 16)
    proxy.set("l1", "lag", Fault("lag", blocks=4))
    assert int(_result(url, "eth_blockNumber"), 16) == head - 4
    assert int(_result(url, "eth_getBlockByNumber", "latest", False)["number"], 16) == head - 4
    assert _result(url, "eth_getBlockByNumber", hex(head), False) is None, "a block it has not seen yet"
    real = anvil.rpc("eth_getBlockByNumber", hex(head - 4), False)
    assert _result(url, "eth_getBlockByHash", real["hash"], False)["hash"] == real["hash"]
    newest = anvil.rpc("eth_getBlockByNumber", hex(head), False)
    assert _result(url, "eth_getBlockByHash", newest["hash"], False) is None


def test_two_backends_disagree_on_one_block(proxy, anvil):
    url = proxy.url("l1", "d")
    real = anvil.rpc("eth_getBlockByNumber", "0x5", False)
    child = anvil.rpc("eth_getBlockByNumber", "0x6", False)
    proxy.set("l1", "d", Fault("disagree", block=5))
    hashes = {_result(url, "eth_getBlockByNumber", "0x5", False)["hash"] for _ in range(4)}
    assert real["hash"] in hashes and len(hashes) == 2
    parents = {_result(url, "eth_getBlockByNumber", "0x6", False)["parentHash"] for _ in range(4)}
    assert child["parentHash"] in parents and len(parents) == 2
    assert {_result(url, "eth_getBlockByNumber", "0x4", False)["hash"] for _ in range(4)} == {
        anvil.rpc("eth_getBlockByNumber", "0x4", False)["hash"]}, "other blocks agree"


def test_engine_answers_syncing(proxy, anvil):
    proxy.route("engine", anvil.url, node="e")
    proxy.set("engine", "e", Fault("syncing"))
    url = proxy.url("engine", "e")
    fcu = _result(url, "engine_forkchoiceUpdatedV3", {"headBlockHash": "0x" + "11" * 32}, None)
    assert fcu == {"payloadStatus": {"status": "SYNCING", "latestValidHash": None, "validationError": None},
                   "payloadId": None}
    assert _result(url, "engine_newPayloadV4", {}, [], "0x" + "00" * 32, [])["status"] == "SYNCING"
    assert _result(url, "eth_chainId") == anvil.rpc("eth_chainId"), "the rest reaches the engine"


def test_beacon_faults_by_path(proxy):
    base = proxy.url("beacon", "bn")
    proxy.set("beacon", "bn", Fault("status", status=500, methods=frozenset({"/eth/v1/beacon/blobs"})))
    assert httpx.get(base + "/eth/v1/beacon/blobs/3").status_code == 500
    assert httpx.get(base + "/eth/v1/beacon/genesis").status_code == 200


def test_unknown_fault_kind_refused():
    with pytest.raises(ValueError):
        Fault("explode")
    with pytest.raises(ValueError):
        Fault("disagree")
