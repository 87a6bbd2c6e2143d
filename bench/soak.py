"""Long sync soak (issue 18): a source node derives a long generated L1 range into an embedded engine, reporting L2
blocks/s per stretch of blocks and the process's RSS, to show that throughput stays flat and memory bounded.

The chain is made first (a sequencer on its own engine, a batcher posting brotli span-batch channels to an in-memory
L1, as :mod:`bench.node` does), keeping only what the sync needs (the last block's hash, the L1 range). Then the
node under test — the real driver, engine controller, pipeline and L1/L2 providers — syncs the whole range into a
fresh engine with a datadir (sqlite, as a deployed engine keeps its chain on disk rather than in memory) over HTTP +
JWT, in this process. Each ``SOAK_STRETCH`` safe blocks the section prints the stretch's blocks/s and the RSS.
Blocks/s are given per wall second and per CPU second of this process (node and engine together): on a machine
shared with other jobs only the second is steady, so flatness is judged on it.

RSS is the whole process: the node, its engine, and the generated L1 range and chain maker's leftovers, which are
in memory before the sync starts. The figures are the RSS when the sync starts, its peak during the sync, and the
growth between them (the node's and engine's own memory, as both start empty). Targets: flat throughput (the last
stretch within 20% of the first's blocks/s) and a peak RSS under 400 MB.

``SOAK_BLOCKS`` (default 50,000: ``make bench``) and ``SOAK_STRETCH`` (default a tenth of the blocks, at most
5,000) set the size. Measured here (2 cores shared with other jobs): a 600-block run used 40 CPU seconds for
making the chain and syncing it, about 30 blocks per CPU second each way, so the default run needs about an hour
of one core (longer in wall time on a loaded machine); ``SOAK_BLOCKS=5000`` about six minutes.

Not covered here: a light node following a source over the same span (it needs the source's RPC server and an
engine that EL-syncs from the source's engine, i.e. the devnet's processes; see ``bench.follow`` for its L1 calls).
"""

from __future__ import annotations

import os
import resource
import tempfile
import time

import trio

from bench.node import FORKS, MemoryL1Client, make_chain
from bench.timing import header
from derivation.pipeline import Pipeline
from engine.client import EngineClient
from engine.controller import EngineController
from engine.execution.service import EngineService
from opnode.node.runtime.driver import Driver
from opnode.node.runtime.l1_data import NodeL1Source
from opnode.node.runtime.l2_data import NodeL2Source
from opnode.testing.harness.world import L1_CHAIN
from opnode.testing.runtime import SECRET

BLOCKS = int(os.environ.get("SOAK_BLOCKS", 50_000))
STRETCH = int(os.environ.get("SOAK_STRETCH", 0)) or max(1, min(5_000, BLOCKS // 10))
TXS_PER_BLOCK, CHANNEL_L1_BLOCKS = 1, 2
RSS_LIMIT_MB, FLATNESS = 400, 0.8  # issue 18: RSS < 400 MB; the last stretch at >= 80% of the first's blocks/s
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """The process's resident set now (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 2**20


def peak_rss_mb() -> float:
    """The process's peak resident set so far (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _soak(blocks: int, stretch: int, datadir: str, report) -> dict:
    t = time.perf_counter()
    c = await make_chain(blocks, TXS_PER_BLOCK, CHANNEL_L1_BLOCKS, FORKS, keep_blocks=False)
    make_s = time.perf_counter() - t
    w = c.world
    target = c.envelopes[-1].block_hash
    async with trio.open_nursery() as nursery:
        ports = await nursery.start(EngineService(c.genesis, SECRET, datadir=datadir, http_port=0, auth_port=0).run)
        client = EngineClient(f"http://127.0.0.1:{ports.auth}", SECRET, w.cfg)
        ctrl = EngineController(w.cfg, client)
        l2 = NodeL2Source(w.cfg, client, controller=ctrl)
        l1 = NodeL1Source(MemoryL1Client(w.l1), confirmed_head=lambda: w.l1.head.number)
        stretches: list[dict] = []
        done = trio.Event()
        mark = {"t": 0.0, "cpu": 0.0, "n": 0}

        def on_attributes(_attrs, _outcome) -> None:
            n = ctrl.safe.number
            if n - mark["n"] >= stretch or ctrl.safe.hash == target:
                now, cpu = time.perf_counter(), time.process_time()
                stretches.append({"upto": n, "blocks_per_s": (n - mark["n"]) / (now - mark["t"]),
                                  "blocks_per_cpu_s": (n - mark["n"]) / (cpu - mark["cpu"]), "rss_mb": rss_mb()})
                mark.update(t=now, cpu=cpu, n=n)
                report(stretches[-1])
            if ctrl.safe.hash == target:
                done.set()

        driver = Driver(w.cfg, pipeline=Pipeline(w.cfg, L1_CHAIN, l1, l2), ctrl=ctrl, l1=l1, l2=l2,
                        l1_finalized=lambda: w.l1.canonical[len(w.l1.canonical) - 3].info.ref,
                        on_attributes=on_attributes)
        start_rss = rss_mb()
        mark["t"], mark["cpu"] = start, start_cpu = time.perf_counter(), time.process_time()
        async with trio.open_nursery() as inner:
            inner.start_soon(driver.run)
            with trio.fail_after(max(600.0, blocks)):  # a stalled sync fails the section instead of hanging it
                await done.wait()
            inner.cancel_scope.cancel()
        sync_s, sync_cpu_s = time.perf_counter() - start, time.process_time() - start_cpu
        await client.aclose()
        nursery.cancel_scope.cancel()
    return {"blocks": blocks, "make_s": make_s, "sync_s": sync_s, "sync_cpu_s": sync_cpu_s, "start_rss_mb": start_rss,
            "sync_peak_rss_mb": max(s["rss_mb"] for s in stretches),
            "peak_rss_mb": max([peak_rss_mb()] + [s["rss_mb"] for s in stretches]),  # statm and maxrss count apart
            "stretches": stretches,
            "l1_blocks": len(w.l1.canonical)}


def soak(blocks: int = BLOCKS, stretch: int = STRETCH, report=lambda stretch: None) -> dict:
    """Make the chain, sync it; ``report`` is called with each stretch's figures as soon as it is done."""
    with tempfile.TemporaryDirectory(prefix="opnode-soak-") as datadir:
        return trio.run(_soak, blocks, stretch, datadir, report)


def _print_stretch(s: dict) -> None:
    print(f"  up to block {s['upto']:6d}: {s['blocks_per_s']:6.1f} blocks/s, {s['blocks_per_cpu_s']:6.1f} per CPU s  "
          f"RSS {s['rss_mb']:6.1f} MB", flush=True)


def run() -> dict:
    header(f"soak: a source node syncs {BLOCKS} L2 blocks x {TXS_PER_BLOCK} transfer (span batches, brotli) into an "
           f"embedded engine with a datadir; blocks/s and RSS every {STRETCH} blocks")
    r = soak(report=_print_stretch)
    print(f"  (making the chain before the sync took {r['make_s']:.0f} s; {r['l1_blocks']} L1 blocks)")
    first, last = r["stretches"][0]["blocks_per_cpu_s"], r["stretches"][-1]["blocks_per_cpu_s"]
    growth = r["sync_peak_rss_mb"] - r["start_rss_mb"]
    print(f"  sync: {r['blocks']} blocks in {r['sync_s']:.0f} s = {r['blocks'] / r['sync_s']:.1f} blocks/s, "
          f"{r['blocks'] / r['sync_cpu_s']:.1f} per CPU s; last stretch / first per CPU s {last / first:.2f} "
          f"(target >= {FLATNESS})")
    print(f"  RSS: {r['start_rss_mb']:.0f} MB when the sync started, at most {r['sync_peak_rss_mb']:.0f} MB at the "
          f"stretch ends (growth {growth:.0f} MB); process peak {r['peak_rss_mb']:.0f} MB, chain making included "
          f"(target < {RSS_LIMIT_MB} MB)")
    print(f"  targets: throughput {'flat' if last >= FLATNESS * first else 'NOT flat'}, "
          f"RSS {'met' if r['peak_rss_mb'] < RSS_LIMIT_MB else 'NOT met'}")
    return r
