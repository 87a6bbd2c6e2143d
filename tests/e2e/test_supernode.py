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
  moves on;
- the process dies right after a decision reached the WAL, before applying it (a failpoint, as kill -9 there):
  the restart applies it once and goes on;
- chain 902's engine down: chain 901 keeps deriving (local-safe moves), cross-safe waits for 902; the engine back:
  both go on;
- an L1 reorg (anvil revert) of the L1 blocks verified results depend on: the verifier rewinds, verifies again on
  the new L1, and cross-safe and the light nodes end on the sequencers' chains with canonical L1 data.
"""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from derivation.interop.super_root import super_root_v1
from derivation.protocol.hexutil import from_hex
from opnode.jsonrpc.errors import RpcError
from opnode.supernode.verifier import FAILPOINT_ENV
from opnode.testing.consensus_poller import ConsensusPoller
from opnode.testing.l1_proxy import L1Proxy
from opnode.tools.devnet.procs import Proc, free_port
from opnode.tools.devnet.stack import Stack
from tests.e2e.waiting import wait

pytestmark = [pytest.mark.slow, pytest.mark.long]

BLOCK_TIME = 2
ACTIVATION_BLOCKS = 6  # the verifier starts at genesis + 6 blocks
SEQUENCER_L1_CONFS = 30  # deeper than the L1 reorg below (which waits for the verifier, slow on a loaded machine): the sequencers' L1 origins stay out of it


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    with L1Proxy("http://127.0.0.1:1") as proxy:
        def l1_url_for(anvil_url: str, node: str) -> str:
            proxy.upstream = anvil_url
            return proxy.url_for(anvil_url, node)

        with Stack(tmp_path_factory.mktemp("supernode"), sources=0, light_nodes=0, block_time=BLOCK_TIME,
                   l1_url_for=l1_url_for, sequencer_l1_confs=SEQUENCER_L1_CONFS,
                   batcher_args=["--da", "calldata", "--max-channel-duration", "0", "--num-confirmations", "20"],
                   ) as stack:
            stack.proxy = proxy
            seq2 = stack.add_chain(902)
            # both chains share the activation time: the later genesis + a few blocks
            stack.activation = max(f.rollup_config.genesis.l2_time for f in stack.chain_files.values()) + \
                ACTIVATION_BLOCKS * BLOCK_TIME
            activation = ["--interop.activation-timestamp", str(stack.activation)]
            stack.metrics_port = free_port()
            sn = stack.add_supernode(extra_args=[*activation, "--metrics.enabled", "--metrics.port",
                                                 str(stack.metrics_port), "--metrics.addr", "127.0.0.1"])
            sn_b = stack.add_supernode("supernode-b", extra_args=activation)  # the second backend proxyd polls
            stack.add_node("source-901", "source")
            stack.add_node("source-902", "source", files=seq2.files)
            for cid, seq in ((901, stack.node("sequencer")), (902, seq2)):
                stack.add_light_node(f"light-{cid}", f"{sn.rpc}/{cid}", peer=seq, sync_peer=seq)
            stack.pollers = {cid: ConsensusPoller({"supernode": f"{sn.rpc}/{cid}", "supernode-b": f"{sn_b.rpc}/{cid}"})
                             .start() for cid in (901, 902)}
            try:
                yield stack
            finally:
                for p in stack.pollers.values():
                    p.stop()


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
    # one metrics server: the shared L1 client's calls, counted once for both chains
    text = httpx.get(f"http://127.0.0.1:{stack.metrics_port}/metrics", timeout=10).text
    l1_calls = [line for line in text.splitlines()
                if line.startswith("op_node_default_rpc_client_requests_total{") and 'rpc="l1"' in line]
    assert l1_calls and any(float(line.rsplit(" ", 1)[1]) > 0 for line in l1_calls), text[:3000]


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

    def finalized():
        st = stack.rpc(stack.node("supernode").rpc, "supernode_syncStatus")["chains"]
        return all(st[str(c)]["finalized_l2"]["timestamp"] >= stack.activation for c in (901, 902)) and st

    st = wait(finalized, 180, "verified blocks of both chains to be finalized")
    for cid in (901, 902):
        fin = st[str(cid)]["finalized_l2"]
        assert fin["number"] <= st[str(cid)]["safe_l2"]["number"]
        assert stack.block_hash(stack.node(SEQ[cid]), fin["number"]) == fin["hash"]


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



def test_death_between_wal_write_and_apply_resumes(net):
    stack = net
    sn = stack.node("supernode")
    sn.proc.stop()
    log_text = sn.proc.log_path.read_text(errors="replace")
    sn.proc = Proc(sn.name, sn.args, stack.logs, env={FAILPOINT_ENV: "after-wal"}).start()
    wait(lambda: not sn.proc.alive(), 120, "the supernode to die at the failpoint")
    tail = sn.proc.log_path.read_text(errors="replace")[len(log_text):]
    m = re.search(r"failpoint after-wal: dying with the (\w+) at (\d+) written", tail)
    assert m, tail[-2000:]
    kind, ts = m.group(1), int(m.group(2))
    stack.start_node(sn)  # no failpoint
    wait(lambda: f"resuming pending {kind} at {ts}" in sn.proc.log_path.read_text(errors="replace"), 60,
         "the restarted supernode to apply the pending decision")
    after = wait(lambda: (lambda st: st if st["safe_timestamp"] > ts else None)(
        stack.rpc(sn.rpc, "supernode_syncStatus")), 120, "cross-safe past the resumed decision")
    rest = sn.proc.log_path.read_text(errors="replace")[len(log_text):]
    assert len(re.findall(rf"interop \w+ at {ts} ", rest)) == 1  # decided once, applied once (by the resume)
    for cid in (901, 902):
        safe = after["chains"][str(cid)]["safe_l2"]
        assert stack.block_hash(stack.node(SEQ[cid]), safe["number"]) == safe["hash"]


def _local_and_safe(stack, cid):
    st = stack.rpc(_chain_url(stack, cid), "optimism_syncStatus")
    return st["local_safe_l2"], st["safe_l2"]


def test_one_engine_down_the_other_chain_keeps_deriving(net):
    """A timestamp's frontier holds each chain's highest block with time <= it, so with 902's engine down the
    set verifies up to the last second 902's local-safe block covers (its time + block time - 1), never further;
    chain 901's blocks there may be newer than 902's (the two geneses need not share a parity)."""
    stack = net
    sn = stack.node("supernode")
    engine902, eth902 = sn.engines[902]
    engine902.stop()
    try:
        local902, _ = _local_and_safe(stack, 902)
        local901, _ = _local_and_safe(stack, 901)
        wait(lambda: _local_and_safe(stack, 901)[0]["number"] >= local901["number"] + 5, 120,
             "chain 901 to keep deriving while chain 902's engine is down")
        covered = local902["timestamp"] + BLOCK_TIME - 1
        for cid in (901, 902):
            _, safe = _local_and_safe(stack, cid)
            assert safe["timestamp"] <= covered, f"chain {cid} cross-safe passed what 902 derived"
        root = stack.rpc(sn.rpc, "supernode_syncStatus")
        assert root["safe_timestamp"] <= covered, root
        with pytest.raises(RpcError, match="chain 902: failed to get L2 output"):
            stack.rpc(sn.rpc, "superroot_atTimestamp", hex(root["safe_timestamp"]))
        assert sn.proc.alive()
    finally:
        engine902.start()
        engine902.wait_rpc(eth902, "eth_chainId", timeout=120)
    for cid in (901, 902):
        wait(lambda c=cid: _local_and_safe(stack, c)[1]["timestamp"] > local902["timestamp"] + 4, 180,
             f"chain {cid}'s cross-safe to move on once 902's engine is back")


def test_a_proxyd_consensus_poller_banned_neither_supernode(net):
    """proxyd's consensus-aware CL routing polled both supernodes' ``/<chainID>`` routes every second through the
    tests above (cross-safe verification, kill -9 and restart, a death between WAL write and apply, an engine down):
    no ban rule fired (safe > local_safe, ordering, safe or finalized going down, an output-root dissent) and the
    group never split. The L1 reorg below is left out: a rewind of cross-safe lowers safe, which proxyd bans by
    design (its drift thresholds default to 0)."""
    stack = net
    for cid, poller in stack.pollers.items():
        poller.stop()
        s = poller.summary()
        print(f"proxyd poller, chain {cid}:", s)
        assert s["bans"] == [] and s["halts"] == 0, s
        assert s["output_checks"] >= 30, s  # the two supernodes' outputs were compared through the run


def _rewinds(stack) -> int:
    return stack.node("supernode").proc.log_path.read_text(errors="replace").count('msg="interop rewind')


def _canonical_l1(stack, ref: dict) -> bool:
    b = stack.l1_rpc("eth_getBlockByNumber", hex(ref["number"]), False)
    return b is not None and b["hash"] == ref["hash"]


def test_l1_reorg_rewinds_and_reverifies(net):
    stack = net
    sn = stack.node("supernode")
    rewinds = _rewinds(stack)
    snapshot = stack.l1_rpc("evm_snapshot")
    base = int(stack.l1_rpc("eth_blockNumber"), 16)

    def verified_past_base():
        st = stack.rpc(sn.rpc, "supernode_syncStatus")
        got = stack.rpc(sn.rpc, "superroot_atTimestamp", hex(st["safe_timestamp"]))
        return "data" in got and got["data"]["verified_required_l1"]["number"] > base and st

    before = wait(verified_past_base, 120, "a verified result that needs L1 blocks above the snapshot", poll=0.5)
    depth = int(stack.l1_rpc("eth_blockNumber"), 16) - base
    assert depth < SEQUENCER_L1_CONFS, f"a {depth}-block reorg would reach the sequencers' L1 origins"
    stack.l1_rpc("evm_revert", snapshot)
    wait(lambda: _rewinds(stack) > rewinds, 90, "the verifier to rewind onto the new L1 chain")
    for cid in (901, 902):
        target = before["chains"][str(cid)]["safe_l2"]["number"] + 2

        def again(cid=cid, target=target):
            st = stack.rpc(_chain_url(stack, cid), "optimism_syncStatus")
            return st["safe_l2"]["number"] >= target and _canonical_l1(stack, st["current_l1"]) and st

        st = wait(again, 180, f"chain {cid}'s cross-safe head to be verified again past where it was")
        seq, light = stack.node(SEQ[cid]), stack.node(f"light-{cid}")
        assert st["safe_l2"]["hash"] == stack.block_hash(seq, st["safe_l2"]["number"])

        def followed(light=light, n=st["safe_l2"]["number"]):
            ls = stack.sync_status(light)
            return ls["safe_l2"]["number"] >= n and _canonical_l1(stack, ls["current_l1"]) and ls

        ls = wait(followed, 120, f"light-{cid} to follow the re-verified chain")
        assert ls["safe_l2"]["hash"] == stack.block_hash(seq, ls["safe_l2"]["number"])
