"""``opnode supernode`` as a real process: two L2 chains (901, 902) on one anvil, each with its sequencer and
batcher, one supernode deriving both (a dependency set of two, an engine per chain) and a light node per chain
following its ``/<chainID>`` route; two plain source nodes (one per chain) run alongside, behind the same counting
L1 proxy, for the L1 request comparison (issue 16).

- routing on one port: ``/`` answers ``supernode_syncStatus``, ``heartbeat_check``; ``/<chainID>`` the chain's
  op-node API and ``GET /<chainID>/healthz``; an unknown chain is HTTP 404 with a JSON body;
- the verifier runs from ``--interop.activation-timestamp`` (a few blocks after genesis, so the pre-activation
  path, cross-safe = local-safe, is crossed too): cross-safe (``safe_l2``) passes it and never exceeds local-safe;
- each light node reaches its sequencer's safe chain, hash by hash;
- the supernode makes fewer L1 requests per L1 block than the two source nodes together (same run, same window);
- ``superroot_atTimestamp`` at a verified timestamp equals super root v1 recomputed from the *sequencer's*
  ``optimism_outputAtBlock``;
- kill -9 of the supernode and a restart: it resumes from its interop store, cross-safe keeps the same hashes and
  moves on.
"""

from __future__ import annotations

import json
import time

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
            seq2 = stack.add_chain(902)
            # both chains share the activation time: the later genesis + a few blocks
            stack.activation = max(f.rollup_config.genesis.l2_time for f in stack.chain_files.values()) + \
                ACTIVATION_BLOCKS * BLOCK_TIME
            sn = stack.add_supernode(extra_args=["--interop.activation-timestamp", str(stack.activation)])
            stack.add_node("source-901", "source")
            stack.add_node("source-902", "source", files=seq2.files)
            for cid, seq in ((901, stack.node("sequencer")), (902, seq2)):
                stack.add_light_node(f"light-{cid}", f"{sn.rpc}/{cid}", peer=seq, sync_peer=seq)
            yield stack


SEQ = {901: "sequencer", 902: "sequencer-902"}


def _chain_url(stack, cid: int) -> str:
    return f"{stack.node('supernode').rpc}/{cid}"


def test_routes_on_one_port(net):
    stack = net
    sn = stack.node("supernode")
    st = stack.rpc(sn.rpc, "supernode_syncStatus")
    assert st["chain_ids"] == ["901", "902"] and set(st["chains"]) == {"901", "902"}
    beat = stack.rpc(sn.rpc, "heartbeat_check")
    assert len(from_hex(beat)) == 4
    for cid in (901, 902):
        chain = stack.rpc(_chain_url(stack, cid), "optimism_syncStatus")
        assert set(chain) >= {"safe_l2", "local_safe_l2", "unsafe_l2", "current_l1", "head_l1"}
        assert stack.rpc(_chain_url(stack, cid), "optimism_rollupConfig")["l2_chain_id"] == cid
        assert stack.rpc(_chain_url(stack, cid), "optimism_dependencySet") == {"dependencies": {"901": {}, "902": {}}}
        r = httpx.get(_chain_url(stack, cid) + "/healthz", timeout=10)
        assert r.status_code == 200 and r.text.startswith("v")
    r = httpx.post(sn.rpc + "/999999", json={"jsonrpc": "2.0", "id": 1, "method": "optimism_syncStatus"},
                   timeout=10)
    assert r.status_code == 404 and r.json()["chain_ids"] == ["901", "902"]


def _cross_safe_past_activation(stack):
    out = {}
    for cid in (901, 902):
        st = stack.rpc(_chain_url(stack, cid), "optimism_syncStatus")
        assert st["safe_l2"]["number"] <= st["local_safe_l2"]["number"], st
        if st["safe_l2"]["timestamp"] < stack.activation + 4 * BLOCK_TIME:
            return None
        out[cid] = st
    return out


def test_cross_safe_is_verified_and_the_light_nodes_follow(net):
    stack = net
    sts = wait(lambda: _cross_safe_past_activation(stack), 300, "both chains' cross-safe heads past activation")
    for cid, st in sts.items():
        seq, light, safe = stack.node(SEQ[cid]), stack.node(f"light-{cid}"), st["safe_l2"]
        assert stack.block_hash(seq, safe["number"]) == safe["hash"]

        def light_safe(light=light, safe=safe):
            s = stack.sync_status(light)
            return s if s["safe_l2"]["number"] >= safe["number"] else None

        ls = wait(light_safe, 120, f"light-{cid}'s safe head to reach the supernode's cross-safe head")
        for i in range(1, ls["safe_l2"]["number"] + 1):
            assert stack.block_hash(light, i) == stack.block_hash(seq, i), f"chain {cid} block {i}"
    root = stack.rpc(stack.node("supernode").rpc, "supernode_syncStatus")
    assert root["safe_timestamp"] == min(s["safe_l2"]["timestamp"] for s in root["chains"].values())


def test_super_root_matches_the_sequencers_outputs(net):
    stack = net
    sn = stack.node("supernode")
    st = stack.rpc(sn.rpc, "supernode_syncStatus")
    ts = st["safe_timestamp"]
    got = stack.rpc(sn.rpc, "superroot_atTimestamp", hex(ts))
    assert got["chain_ids"] == ["901", "902"] and "data" in got, got
    pairs = []
    for cid in (901, 902):
        cfg = stack.chain_files[cid].rollup_config
        number = cfg.genesis.l2.number + (ts - cfg.genesis.l2_time) // cfg.block_time
        out = stack.rpc(stack.node(SEQ[cid]).rpc, "optimism_outputAtBlock", hex(number))
        pairs.append((cid, from_hex(out["outputRoot"], 32)))
    assert got["data"]["super_root"] == "0x" + super_root_v1(ts, pairs).root().hex()
    future = stack.rpc(sn.rpc, "superroot_atTimestamp", hex(ts + 10_000))
    assert "data" not in future and future["optimistic_at_timestamp"] == {}


def test_fewer_l1_requests_than_two_source_nodes(net):
    """Same run, same window: the supernode's L1 calls (one head poll, one cache for both chains) against those of
    the two source nodes deriving the same chains."""
    stack = net
    proxy = stack.proxy
    t0, l1_0 = time.monotonic(), int(stack.l1_rpc("eth_blockNumber"), 16)
    time.sleep(30)
    t1, l1_1 = time.monotonic(), int(stack.l1_rpc("eth_blockNumber"), 16)
    blocks = l1_1 - l1_0
    sn = sum(proxy.counts("supernode", t0, t1).values())
    sources = sum(proxy.counts("source-901", t0, t1).values()) + sum(proxy.counts("source-902", t0, t1).values())
    stack.l1_per_block = {"l1_blocks": blocks, "supernode": sn / blocks, "two_sources": sources / blocks}
    (stack.dir / "l1_requests.json").write_text(json.dumps(stack.l1_per_block))
    print("L1 requests per L1 block:", stack.l1_per_block)
    assert blocks > 0 and sn < sources, stack.l1_per_block


def test_kill9_and_restart_resumes_cross_safe(net):
    stack = net
    sn = stack.node("supernode")
    before = {cid: stack.rpc(_chain_url(stack, cid), "optimism_syncStatus")["safe_l2"] for cid in (901, 902)}
    sn.proc.kill9()
    stack.start_node(sn)
    for cid in (901, 902):
        after = wait(lambda c=cid: (lambda s: s if s["safe_l2"]["number"] > before[c]["number"] else None)(
            stack.rpc(_chain_url(stack, c), "optimism_syncStatus")), 180, f"chain {cid}'s cross-safe to move on")
        seq = stack.node(SEQ[cid])
        assert stack.block_hash(seq, before[cid]["number"]) == before[cid]["hash"]
        assert stack.block_hash(seq, after["safe_l2"]["number"]) == after["safe_l2"]["hash"]
