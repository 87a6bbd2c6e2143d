"""The RPC surface op-node operators and tools rely on, through the real HTTP server: op-service/rpc's
``health_status`` and ``GET /healthz`` JSON, go-ethereum's ``rpc_modules``, only ``/`` answering, CORS for every
origin, ``optimism_dependencySet``, the admin methods op-conductor calls, and op-node's error texts
(op-service/rpc/handler.go and server_test.go, op-node/node/api.go and server.go, okx/optimism@7573e762,
2026-06-30)."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from derivation.interop.dependency_set import from_chain_ids
from derivation.protocol.hexutil import to_hex
from opnode.node.networks import load_rollup_config
from tests.node.rpc_support import Client, FakeNode, start_server

CFG = load_rollup_config("op-sepolia")
VERSION = "v9.9.9-test"


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


async def _serve(nursery, http, node=None, **kw):
    node = node or FakeNode(CFG)
    port, _ = await start_server(nursery, node, **kw)
    return Client(http, f"http://127.0.0.1:{port}/"), node


async def test_health_status_and_healthz_json(nursery, http):
    """op-service/rpc server_test.go: GET /healthz is exactly {"version":"<appVersion>"}\\n, health_status the
    version."""
    c, _ = await _serve(nursery, http)
    assert await c.result("health_status") == VERSION
    for path in ("healthz", "healthz/"):
        r = await http.get(c.url + path)
        assert r.status_code == 200 and r.text == '{"version":"v9.9.9-test"}\n'
        assert r.headers["content-type"] == "application/json"


async def test_only_the_root_path_answers(nursery, http):
    c, _ = await _serve(nursery, http)
    for path in ("11155420", "foo/bar", "rpc"):
        r = await http.post(c.url + path, json={"jsonrpc": "2.0", "id": 1, "method": "optimism_version"})
        assert (r.status_code, r.text) == (404, "404 page not found\n"), path
    assert (await c.result("optimism_version")) == VERSION


async def test_rpc_modules_lists_the_namespaces_served(nursery, http):
    c, _ = await _serve(nursery, http)
    assert await c.result("rpc_modules") == {"health": "1.0", "opp2p": "1.0", "optimism": "1.0", "rpc": "1.0",
                                             "superroot": "1.0"}
    admin, _ = await _serve(nursery, http, admin=True)
    assert (await admin.result("rpc_modules"))["admin"] == "1.0"


async def test_cors_for_every_origin(nursery, http):
    """go-ethereum's newCorsHandler with op-node's WithCORSHosts(["*"]): rs/cors, methods POST/GET, max age 600."""
    c, _ = await _serve(nursery, http)
    pre = await http.options(c.url, headers={"Origin": "https://dash.example", "Access-Control-Request-Method":
                                             "POST", "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "*"
    assert pre.headers["access-control-allow-methods"] == "POST"
    assert pre.headers["access-control-allow-headers"] == "content-type"
    assert pre.headers["access-control-max-age"] == "600"
    refused = await http.options(c.url, headers={"Origin": "https://x", "Access-Control-Request-Method": "DELETE"})
    assert "access-control-allow-origin" not in refused.headers
    r = await http.post(c.url, json={"jsonrpc": "2.0", "id": 1, "method": "optimism_version"},
                        headers={"Origin": "https://dash.example"})
    assert r.headers["access-control-allow-origin"] == "*" and r.json()["result"] == VERSION
    plain = await c.post({"jsonrpc": "2.0", "id": 1, "method": "optimism_version"})
    assert "access-control-allow-origin" not in plain.headers


async def test_dependency_set(nursery, http):
    c, _ = await _serve(nursery, http, FakeNode(dataclasses.replace(CFG, dependency_set=None)))
    assert (await c.rpc("optimism_dependencySet"))["error"] == {"code": -32000, "message": "not found"}
    interop = dataclasses.replace(CFG, dependency_set=from_chain_ids([902, 901, 11155420]))
    c, _ = await _serve(nursery, http, FakeNode(interop))
    assert await c.result("optimism_dependencySet") == {"dependencies": {"11155420": {}, "901": {}, "902": {}}}
    windowed = dataclasses.replace(CFG, dependency_set=from_chain_ids([901, 902], 3600))
    c, _ = await _serve(nursery, http, FakeNode(windowed))
    assert (await c.result("optimism_dependencySet"))["overrideMessageExpiryWindow"] == 3600


async def test_admin_recover_mode_override_leader_and_conductor(nursery, http):
    c, node = await _serve(nursery, http, admin=True)
    assert await c.result("admin_setRecoverMode", True) is None and node.recover
    assert await c.result("admin_setRecoverMode", False) is None and not node.recover
    err = (await c.rpc("admin_setRecoverMode", "true"))["error"]
    assert err == {"code": -32602, "message": "invalid argument 0: json: cannot unmarshal string into Go value of "
                                              "type bool"}
    assert await c.result("admin_conductorEnabled") is False
    assert await c.result("admin_overrideLeader") is None
    verifier, _ = await _serve(nursery, http, FakeNode(CFG, sequencer=False), admin=True)
    assert (await verifier.rpc("admin_overrideLeader"))["error"] == {"code": -32000,
                                                                      "message": "sequencer is not enabled"}
    plain, _ = await _serve(nursery, http)
    for method in ("admin_setRecoverMode", "admin_overrideLeader", "admin_conductorEnabled"):
        assert (await plain.rpc(method))["error"]["code"] == -32601


async def test_post_unsafe_payload_bad_hash_text_is_op_nodes(nursery, http):
    """op-node adminAPI.PostUnsafePayload: "payload has bad block hash: <the payload's>, actual block hash is:
    <computed>" (op-conductor and tools match on it), through the runtime's API; a real Unichain Sepolia block with
    its hash replaced."""
    from types import SimpleNamespace

    from opnode.node.rpc.methods import node_methods
    from opnode.node.rpc.server import RPCConfig, RPCServer
    from opnode.node.runtime.api import RuntimeAPI
    from tests.p2p.gossip_vectors import chain, real_v4_envelope

    env = real_v4_envelope()
    bad = b"\x01" * 32
    wrong = dataclasses.replace(env, payload=dataclasses.replace(env.payload, block_hash=bad))
    cfg = chain("unichain-sepolia")
    submitted = []
    config = SimpleNamespace(fetch_withdrawal_root_from_state=False, rpc=RPCConfig())
    node = SimpleNamespace(cfg=cfg, l2_reader=None, safedb=None, p2p=None, config=config, sequencer=None,
                           driver=SimpleNamespace(submit_unsafe=submitted.append))
    server = RPCServer(RPCConfig(port=0), node_methods(RuntimeAPI(node), enable_admin=True), version=VERSION)
    port = await nursery.start(server.run)
    c = Client(http, f"http://127.0.0.1:{port}/")
    err = (await c.rpc("admin_postUnsafePayload", wrong.to_json()))["error"]
    assert err == {"code": -32000, "message": f"payload has bad block hash: {to_hex(bad)}, actual block "
                                              f"hash is: {to_hex(env.block_hash)}"}
    assert submitted == []
    assert await c.result("admin_postUnsafePayload", env.to_json()) is None and submitted == [env]
