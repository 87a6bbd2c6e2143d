"""``opnode supernode`` as a real process, the only source of the devnet's chain (a dependency set of one: the
devnet runs one L2 chain on its anvil), and a light node following its ``/<chainID>`` route (issue 16).

- routing on one port: ``/`` answers ``supernode_syncStatus``, ``heartbeat_check``; ``/<chainID>`` the chain's
  op-node API and ``GET /<chainID>/healthz``; an unknown chain is HTTP 404 with a JSON body;
- the verifier runs from ``--interop.activation-timestamp`` (a few blocks after genesis, so the pre-activation
  path, cross-safe = local-safe, is crossed too): cross-safe (``safe_l2``) passes it and never exceeds local-safe;
- the light node reaches the sequencer's safe chain, hash by hash;
- ``superroot_atTimestamp`` at a verified timestamp equals super root v1 recomputed from the *sequencer's*
  ``optimism_outputAtBlock``;
- kill -9 of the supernode and a restart: it resumes from its interop store, cross-safe keeps the same hashes and
  moves on.
"""

from __future__ import annotations

import json

import httpx
import pytest

from derivation.interop.super_root import super_root_v1
from derivation.protocol.hexutil import from_hex
from opnode.testing.l1_proxy import L1Proxy
from opnode.tools.devnet.stack import Stack
from tests.e2e.waiting import wait

pytestmark = pytest.mark.slow

BLOCK_TIME = 2
ACTIVATION_BLOCKS = 6  # the verifier starts at genesis + 6 blocks


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    with L1Proxy("http://127.0.0.1:1") as proxy:
        def l1_url_for(anvil_url: str, node: str) -> str:
            proxy.upstream = anvil_url
            return proxy.url_for(anvil_url, node)

        with Stack(tmp_path_factory.mktemp("supernode"), sources=0, light_nodes=0, block_time=BLOCK_TIME,
                   l1_url_for=l1_url_for,
                   batcher_args=["--da", "calldata", "--max-channel-duration", "0", "--num-confirmations", "1"],
                   ) as stack:
            stack.proxy = proxy
            rollup = json.loads(stack.files.rollup.read_text())
            stack.activation = rollup["genesis"]["l2_time"] + ACTIVATION_BLOCKS * BLOCK_TIME
            sn = stack.add_supernode(extra_args=["--interop.activation-timestamp", str(stack.activation)])
            cid = stack.l2_chain_id
            stack.chain_url = f"{sn.rpc}/{cid}"
            stack.add_light_node("light-1", stack.chain_url, peer=stack.node("sequencer"),
                                 sync_peer=stack.node("sequencer"))
            yield stack


def test_routes_on_one_port(net):
    stack = net
    sn, cid = stack.node("supernode"), stack.l2_chain_id
    st = stack.rpc(sn.rpc, "supernode_syncStatus")
    assert st["chain_ids"] == [str(cid)] and str(cid) in st["chains"]
    beat = stack.rpc(sn.rpc, "heartbeat_check")
    assert len(from_hex(beat)) == 4
    chain = stack.rpc(stack.chain_url, "optimism_syncStatus")
    assert set(chain) >= {"safe_l2", "local_safe_l2", "unsafe_l2", "current_l1", "head_l1"}
    assert stack.rpc(stack.chain_url, "optimism_rollupConfig")["l2_chain_id"] == cid
    assert stack.rpc(stack.chain_url, "optimism_dependencySet") == {"dependencies": {str(cid): {}}}
    r = httpx.get(stack.chain_url + "/healthz", timeout=10)
    assert r.status_code == 200 and r.text.startswith("v")
    r = httpx.post(sn.rpc + "/999999", json={"jsonrpc": "2.0", "id": 1, "method": "optimism_syncStatus"},
                   timeout=10)
    assert r.status_code == 404 and r.json()["chain_ids"] == [str(cid)]


def _cross_safe_past_activation(stack):
    st = stack.rpc(stack.chain_url, "optimism_syncStatus")
    assert st["safe_l2"]["number"] <= st["local_safe_l2"]["number"], st
    return st if st["safe_l2"]["timestamp"] >= stack.activation + 4 * BLOCK_TIME else None


def test_cross_safe_is_verified_and_the_light_node_follows(net):
    stack = net
    seq, light = stack.node("sequencer"), stack.node("light-1")
    st = wait(lambda: _cross_safe_past_activation(stack), 240, "the supernode's cross-safe head past activation")
    safe = st["safe_l2"]
    assert stack.block_hash(seq, safe["number"]) == safe["hash"]

    def light_safe():
        s = stack.sync_status(light)
        return s if s["safe_l2"]["number"] >= safe["number"] else None

    ls = wait(light_safe, 120, "the light node's safe head to reach the supernode's cross-safe head")
    n = ls["safe_l2"]["number"]
    for i in range(1, n + 1):
        assert stack.block_hash(light, i) == stack.block_hash(seq, i), f"block {i}"


def test_super_root_matches_the_sequencers_outputs(net):
    stack = net
    sn, seq, cid = stack.node("supernode"), stack.node("sequencer"), stack.l2_chain_id
    st = stack.rpc(stack.chain_url, "optimism_syncStatus")
    ts = st["safe_l2"]["timestamp"]
    got = stack.rpc(sn.rpc, "superroot_atTimestamp", hex(ts))
    assert got["chain_ids"] == [str(cid)] and "data" in got, got
    out = stack.rpc(seq.rpc, "optimism_outputAtBlock", hex(st["safe_l2"]["number"]))
    want = super_root_v1(ts, [(cid, from_hex(out["outputRoot"], 32))])
    assert got["data"]["super_root"] == "0x" + want.root().hex()
    future = stack.rpc(sn.rpc, "superroot_atTimestamp", hex(ts + 10_000))
    assert "data" not in future and future["optimistic_at_timestamp"] == {}


def test_kill9_and_restart_resumes_cross_safe(net):
    stack = net
    sn, seq = stack.node("supernode"), stack.node("sequencer")
    before = stack.rpc(stack.chain_url, "optimism_syncStatus")["safe_l2"]
    sn.proc.kill9()
    stack.start_node(sn)
    after = wait(lambda: (lambda s: s if s["safe_l2"]["number"] > before["number"] else None)(
        stack.rpc(stack.chain_url, "optimism_syncStatus")), 180, "cross-safe to move on after the restart")
    assert stack.block_hash(seq, before["number"]) == before["hash"]
    assert stack.block_hash(seq, after["safe_l2"]["number"]) == after["safe_l2"]["hash"]
