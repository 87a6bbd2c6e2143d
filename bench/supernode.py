"""One supernode deriving two chains next to two source nodes deriving the same chains (real processes, one anvil,
one counting L1 proxy), over the same window (issue 16):

- L1 requests per L1 block (counted per call at the proxy): the supernode's one head poll and one cache by hash
  serve both chains, where each source node polls and fetches on its own (upstream measured the Go supernode at
  1.9-2.6x *more* than two op-nodes before its fix, op-supernode #20074);
- CPU per derived L2 block: the supernode process's CPU seconds over the L2 blocks both chains derived in the window,
  next to the two source nodes' CPU over the blocks they derived (the engines, the same work on both sides, apart;
  each source answers the same ``optimism_syncStatus`` polls as the supernode's route of its chain, 10 per second);
- cross-safe lag: per L2 block past the interop activation, the time from the supernode showing it local-safe to
  showing it cross-safe (``safe_l2`` of ``/<chainID>``), p50/p99. Samples every ``SAMPLE`` s: each lag carries up
  to that much sampling error.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import psutil

from bench.follow import first_seen, percentile
from bench.timing import header
from opnode.testing.l1_proxy import L1Proxy
from opnode.tools.devnet.stack import Stack

DURATION, BLOCK_TIME, SAMPLE = 60.0, 2, 0.1
ACTIVATION_BLOCKS = 6
CHAINS = (901, 902)


def _cpu(node) -> float:
    """CPU seconds (user + system) of a stack node's process so far."""
    if node.proc.pid is None:
        raise RuntimeError(f"{node.name} is not running")
    t = psutil.Process(node.proc.pid).cpu_times()
    return t.user + t.system


def supernode_run(workdir: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp, L1Proxy("http://127.0.0.1:1") as proxy:
        def l1_url_for(anvil_url: str, node: str) -> str:
            proxy.upstream = anvil_url
            return proxy.url_for(anvil_url, node)

        with Stack(workdir or Path(tmp), sources=0, light_nodes=0, block_time=BLOCK_TIME, l1_url_for=l1_url_for,
                   batcher_args=["--da", "calldata", "--max-channel-duration", "1"]) as stack:
            seq2 = stack.add_chain(902)
            activation = max(f.rollup_config.genesis.l2_time for f in stack.chain_files.values()) + \
                ACTIVATION_BLOCKS * BLOCK_TIME
            sn = stack.add_supernode(extra_args=["--interop.activation-timestamp", str(activation)])
            sources = [stack.add_node("source-901", "source"), stack.add_node("source-902", "source", files=seq2.files)]

            def status(cid: int) -> dict:
                return stack.rpc(f"{sn.rpc}/{cid}", "optimism_syncStatus")

            deadline = time.monotonic() + 300
            while any(status(c)["safe_l2"]["timestamp"] < activation for c in CHAINS):  # warm-up: verifying
                if time.monotonic() > deadline:
                    raise RuntimeError("the supernode never verified past the activation time")
                time.sleep(0.5)

            def derived() -> tuple[int, int]:
                return (sum(status(c)["local_safe_l2"]["number"] for c in CHAINS),
                        sum(stack.sync_status(s)["safe_l2"]["number"] for s in sources))

            l1_0, (sn_blocks_0, src_blocks_0) = int(stack.l1_rpc("eth_blockNumber"), 16), derived()
            cpu_0 = {"supernode": _cpu(sn), "sources": sum(_cpu(s) for s in sources)}
            start = time.monotonic()
            hist: dict[tuple[int, str], list[tuple[float, int]]] = {(c, k): [] for c in CHAINS
                                                                    for k in ("local_safe_l2", "safe_l2")}
            while time.monotonic() - start < DURATION:
                t = time.monotonic()
                for c in CHAINS:
                    st = status(c)
                    for k in ("local_safe_l2", "safe_l2"):
                        hist[(c, k)].append((time.monotonic(), st[k]["number"]))
                for s in sources:  # the same status polls on both sides: they cost each process CPU too
                    stack.sync_status(s)
                time.sleep(max(0.0, SAMPLE - (time.monotonic() - t)))
            end = time.monotonic()
            cpu = {"supernode": _cpu(sn) - cpu_0["supernode"],
                   "sources": sum(_cpu(s) for s in sources) - cpu_0["sources"]}
            l1_blocks = int(stack.l1_rpc("eth_blockNumber"), 16) - l1_0
            sn_blocks, src_blocks = (b - b0 for b, b0 in zip(derived(), (sn_blocks_0, src_blocks_0), strict=True))
            calls = {"supernode": sum(proxy.counts(sn.name, start, end).values()),
                     "sources": sum(sum(proxy.counts(s.name, start, end).values()) for s in sources)}
    lag = []
    for c in CHAINS:
        local, safe = first_seen(hist[(c, "local_safe_l2")]), first_seen(hist[(c, "safe_l2")])
        lag += [safe[n] - t for n, t in local.items() if n in safe]
    return {"l1_blocks": l1_blocks, "l2_blocks": {"supernode": sn_blocks, "sources": src_blocks},
            "l1_per_l1_block": {k: v / l1_blocks for k, v in calls.items()},
            "cpu_ms_per_l2_block": {"supernode": 1e3 * cpu["supernode"] / max(sn_blocks, 1),
                                    "sources": 1e3 * cpu["sources"] / max(src_blocks, 1)},
            "cross_safe_lag": {"n": len(lag), "p50_s": percentile(lag, 50) if lag else math.nan,
                               "p99_s": percentile(lag, 99) if lag else math.nan}}


def run() -> dict:
    header("supernode: one supernode for two chains next to two source nodes (same run, same window)")
    r = supernode_run()
    per, cpu, lag = r["l1_per_l1_block"], r["cpu_ms_per_l2_block"], r["cross_safe_lag"]
    print(f"  window {DURATION:.0f} s: {r['l1_blocks']} L1 blocks; L2 blocks derived: supernode "
          f"{r['l2_blocks']['supernode']}, sources {r['l2_blocks']['sources']}")
    print(f"  L1 requests per L1 block: supernode {per['supernode']:.2f}, two source nodes {per['sources']:.2f} "
          f"(ratio {per['supernode'] / per['sources']:.2f}x)")
    print(f"  CPU per derived L2 block (node processes, engines apart): supernode {cpu['supernode']:.1f} ms, "
          f"source nodes {cpu['sources']:.1f} ms (ratio {cpu['supernode'] / cpu['sources']:.2f}x)")
    print(f"  cross-safe lag (local-safe -> cross-safe), {lag['n']} blocks: p50 {lag['p50_s']:.2f} s, "
          f"p99 {lag['p99_s']:.2f} s")
    return r
