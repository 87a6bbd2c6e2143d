"""`opnode node` as real processes (issue 6): anvil L1 + beacon shim, a sequencer node and a source node each with
its own embedded engine, and a test batcher posting the sequencer's blocks to L1 as calldata and as blobs. The
source node derives the safe chain from L1 alone; its blocks equal the sequencer's hash by hash; safe and
finalized advance in optimism_syncStatus; after kill -9 it resumes from its engine and safe-head DB.

The source node reads L1 over a websocket (``--l1=ws://…``, issue 17: anvil serves it on its HTTP port), so the
whole of derivation runs over that transport and its L1 head comes from the newHeads subscription; the sequencer
reads L1 over HTTP."""

from __future__ import annotations

import re

import pytest

from derivation.protocol.hexutil import to_hex
from derivation.protocol.rollup_config import Fork
from opnode.node.safedb import SafeDB
from opnode.testing.engine import transfer
from opnode.tools.anvil import DEV_KEYS
from opnode.tools.devnet.stack import Stack
from tests.e2e.batching import L1Poster
from tests.e2e.waiting import wait as _wait


@pytest.fixture
def stack(tmp_path):
    forks = {Fork.GRANITE: 0, Fork.HOLOCENE: 0, Fork.ISTHMUS: 0, Fork.JOVIAN: 0}
    def l1_url_for(anvil_url: str, node: str) -> str:
        return anvil_url.replace("http://", "ws://") if node == "source-A" else anvil_url

    with Stack(tmp_path, sources=1, forks=forks, start_batcher=False, seq_window_size=100, metrics=True,
               l1_url_for=l1_url_for) as s:
        yield s


def _send_l2_txs(stack, n, start_nonce):
    seq = stack.node("sequencer")
    key = bytes.fromhex(DEV_KEYS[3][2:])
    for i in range(n):
        raw = transfer(key, start_nonce + i, b"\x42" * 20, 1000 + i).raw
        stack.rpc(seq.engine_rpc, "eth_sendRawTransaction", to_hex(raw))


def test_source_node_derives_the_sequencers_chain(stack):
    cfg = stack.files.rollup_config
    seq, src = stack.node("sequencer"), stack.node("source-A")
    batcher = L1Poster(stack, cfg)
    _send_l2_txs(stack, 5, 0)
    _wait(lambda: stack.sync_status(seq)["unsafe_l2"]["number"] >= 8, 60, "the sequencer to build blocks")
    assert batcher.post_new_blocks(blobs=False) >= 8
    _send_l2_txs(stack, 5, 5)
    _wait(lambda: stack.sync_status(seq)["unsafe_l2"]["number"] >= batcher.posted + 6, 60, "more blocks")
    assert batcher.post_new_blocks(blobs=True) >= 6
    target = batcher.posted
    _wait(lambda: stack.sync_status(src)["safe_l2"]["number"] >= target, 120, f"source safe head {target}")
    for n in range(1, target + 1):
        assert stack.block_hash(src, n) == stack.block_hash(seq, n), n
    txs = sum(len(stack.rpc(src.engine_rpc, "eth_getBlockByNumber", hex(n), False)["transactions"])
              for n in range(1, target + 1))
    assert txs >= target + 10  # an L1-info deposit per block plus the ten transfers
    # its L1 client went over the websocket: a newHeads subscription, and derivation's calls, in op-node's metrics
    metrics = stack.jsonrpc.http.get(src.metrics + "/metrics").text  # labels in name order
    assert re.search(r'rpc_client_requests_total\{method="eth_subscribe",rpc="l1"\} [1-9]', metrics), metrics
    assert re.search(r'rpc_client_requests_total\{method="eth_getBlockReceipts",rpc="l1"\} [1-9]', metrics)
    l1_head = int(stack.l1_rpc("eth_blockNumber"), 16)
    _wait(lambda: stack.sync_status(src)["head_l1"]["number"] >= l1_head, 30, "the subscribed L1 head")
    st = _wait(lambda: (s := stack.sync_status(src))["finalized_l2"]["number"] > 0 and s, 60, "finality")
    assert st["finalized_l2"]["number"] <= st["safe_l2"]["number"] <= st["local_safe_l2"]["number"]
    assert st["current_l1"]["number"] > 0 and st["head_l1"]["number"] >= st["current_l1"]["number"]
    # The safe-head DB answers for the L1 blocks the safe chain was derived from.
    at = stack.rpc(src.rpc, "optimism_safeHeadAtL1Block", hex(st["current_l1"]["number"]))
    assert at["safeHead"]["number"] <= st["safe_l2"]["number"] and at["safeHead"]["number"] > 0

    # kill -9 mid-run, post more, restart: it resumes from its own heads, fast, and catches up.
    src.proc.kill9()
    _send_l2_txs(stack, 3, 10)
    _wait(lambda: stack.sync_status(seq)["unsafe_l2"]["number"] >= batcher.posted + 4, 60, "more blocks")
    batcher.post_new_blocks(blobs=False)
    stack.start_node(src)
    st = stack.sync_status(src)  # the first answer: the heads were read from the engine before the RPC served
    assert st["safe_l2"]["number"] > 0 and st["unsafe_l2"]["number"] >= st["safe_l2"]["number"]
    _wait(lambda: stack.sync_status(src)["safe_l2"]["number"] >= batcher.posted, 120, "catch-up after restart")
    for n in range(1, batcher.posted + 1):
        assert stack.block_hash(src, n) == stack.block_hash(seq, n), n
    # The safe-head DB: one entry per L1 block, L2 safe heads never going back, each one the sequencer's block,
    # and the newest at the node's safe head (nothing lost across the kill).
    safe = stack.sync_status(src)["safe_l2"]
    with SafeDB(stack.dir / "data" / "source-A.safedb") as db:
        rows = db.entries()
    l1s = [r.l1.number for r in rows]
    l2s = [r.safe_head.number for r in rows]
    assert l1s == sorted(set(l1s)) and l2s == sorted(l2s)
    assert all("0x" + r.safe_head.hash.hex() == stack.block_hash(seq, r.safe_head.number) for r in rows)
    assert rows[-1].safe_head.number == safe["number"]
