"""Long sync soak (issue 18): a source node derives a long generated L1 range into an embedded engine, reporting L2
blocks/s per stretch of blocks and the process's RSS, to show that throughput stays flat and memory bounded.

The chain is made first (a sequencer on its own engine, a batcher posting brotli span-batch channels to an in-memory
L1, as :mod:`bench.node` does), keeping only what the sync needs (the last block's hash, the L1 range). Then the
node under test — the real driver, engine controller, pipeline and L1/L2 providers — syncs the whole range into a
fresh engine with a datadir (sqlite, as a deployed engine keeps its chain on disk rather than in memory) over HTTP +
JWT, in this process. Each ``SOAK_STRETCH`` safe blocks the section prints the stretch's blocks/s and the RSS.
Blocks/s are given per wall second and per CPU second of this process (node and engine together): on a machine
shared with other jobs only the second is steady, so flatness is judged on it.

Then a light node follows the source over the same span (:func:`_light`): an empty engine of its own that EL-syncs
from the source's engine (``--sync.peers``: blocks by hash, executed and checked), and the node's own follow-source
code polling an ``optimism_syncStatus`` that answers the source's statuses as the source reported them during its
sync (one every ``SNAPSHOT_EVERY`` safe blocks), each once the light node's engine holds the previous one's
local-safe block: the light node follows as fast as it can, with its L1 checks on the same L1.

RSS is the whole process: both nodes and engines, and the generated L1 range and chain maker's leftovers, which are
in memory before the sync starts. The figures per node are the RSS when its sync starts, its peak during the sync,
and the growth between them (that node's and its engine's own memory, as both start empty). Targets: flat
throughput (the last stretch within 20% of the first's blocks/s per CPU second) for each node and a process peak RSS
under 400 MB.

``SOAK_BLOCKS`` (default 50,000: ``make bench``) and ``SOAK_STRETCH`` (default a tenth of the blocks, at most
5,000) set the size. Measured here: a 600-block run took 56 CPU seconds (making the chain 19, the source's sync
19, the light node's 21), about 30 blocks per CPU second each, so the default run needs about 80 minutes of one
core (longer in wall time on a loaded machine); ``SOAK_BLOCKS=5000`` about eight minutes.
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
from opnode.jsonrpc.http import bind, serve_socket
from opnode.jsonrpc.server import Dispatcher, JsonRpcApp, Method
from opnode.node.runtime.driver import Driver
from opnode.node.runtime.follow import FollowSource
from opnode.node.runtime.l1_data import NodeL1Source
from opnode.node.runtime.l2_data import NodeL2Source
from opnode.node.sync_status import SyncStatus, SyncStatusTracker
from opnode.testing.harness.world import L1_CHAIN
from opnode.testing.runtime import SECRET

BLOCKS = int(os.environ.get("SOAK_BLOCKS", 50_000))
STRETCH = int(os.environ.get("SOAK_STRETCH", 0)) or max(1, min(5_000, BLOCKS // 10))
TXS_PER_BLOCK, CHANNEL_L1_BLOCKS = 1, 2
SNAPSHOT_EVERY = 32  # the source's sync status kept every this many safe blocks, for the light node to follow
FOLLOW_POLL = 0.05  # s between the light node's polls of the source (the node's default: 2 x the block time)
RSS_LIMIT_MB, FLATNESS = 400, 0.8  # issue 18: RSS < 400 MB; the last stretch at >= 80% of the first's blocks/s
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """The process's resident set now (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 2**20


def peak_rss_mb() -> float:
    """The process's peak resident set so far (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Stretches:
    """Blocks/s (wall and CPU) and RSS per stretch of ``stretch`` blocks, from ``begin()`` on."""

    def __init__(self, stretch: int, report):
        self.stretch, self.report = stretch, report
        self.rows: list[dict] = []

    def begin(self, n: int) -> None:
        self.t, self.cpu, self.n, self.start_rss = time.perf_counter(), time.process_time(), n, rss_mb()
        self.t0, self.cpu0 = self.t, self.cpu

    def at(self, n: int, last: bool = False) -> None:
        if n - self.n < self.stretch and not (last and n > self.n):
            return
        now, cpu = time.perf_counter(), time.process_time()
        self.rows.append({"upto": n, "blocks_per_s": (n - self.n) / (now - self.t),
                          "blocks_per_cpu_s": (n - self.n) / (cpu - self.cpu), "rss_mb": rss_mb()})
        self.t, self.cpu, self.n = now, cpu, n
        self.report(self.rows[-1])

    def summary(self, blocks: int) -> dict:
        return {"blocks": blocks, "sync_s": self.t - self.t0, "sync_cpu_s": self.cpu - self.cpu0,
                "start_rss_mb": self.start_rss, "sync_peak_rss_mb": max(r["rss_mb"] for r in self.rows),
                "stretches": self.rows}


async def _source(c, blocks: int, engine_port: int, stretch: int, report, snapshot_every: int) -> tuple[dict, list[SyncStatus]]:
    """The source node syncs the chain; its sync status every ``snapshot_every`` safe blocks is kept for the light
    node (what its ``optimism_syncStatus`` answered along the way)."""
    w, target = c.world, c.envelopes[-1].block_hash
    client = EngineClient(f"http://127.0.0.1:{engine_port}", SECRET, w.cfg)
    ctrl = EngineController(w.cfg, client)
    status = SyncStatusTracker()
    ctrl.subscribe(status.on_l2)
    l2 = NodeL2Source(w.cfg, client, controller=ctrl)
    l1 = NodeL1Source(MemoryL1Client(w.l1), confirmed_head=lambda: w.l1.head.number)
    rows, done, snapshots = _Stretches(stretch, report), trio.Event(), []

    def on_attributes(_attrs, _outcome) -> None:
        n, last = ctrl.safe.number, ctrl.safe.hash == target
        rows.at(n, last)
        if last or not snapshots or n - snapshots[-1].safe_l2.number >= snapshot_every:
            snapshots.append(status.status())
        if last:
            done.set()

    pipeline = Pipeline(w.cfg, L1_CHAIN, l1, l2)
    driver = Driver(w.cfg, pipeline=pipeline, ctrl=ctrl, l1=l1, l2=l2, status=status,
                    l1_finalized=lambda: w.l1.canonical[len(w.l1.canonical) - 3].info.ref,
                    on_attributes=on_attributes)
    rows.begin(0)
    async with trio.open_nursery() as inner:
        inner.start_soon(driver.run)
        with trio.fail_after(max(600.0, blocks)):  # a stalled sync fails the section instead of hanging it
            await done.wait()
        inner.cancel_scope.cancel()
    await client.aclose()
    return rows.summary(blocks), snapshots


async def _light(c, blocks: int, source_engine_http: int, datadir: str, snapshots: list[SyncStatus], stretch: int,
                 report) -> dict:
    """A light node follows the source over the same span: its own engine (empty, EL-syncing from the source's
    engine by hash, as ``--sync.peers``), safe and finalized from the source's ``optimism_syncStatus`` over HTTP,
    checked against its own L1 (:class:`~opnode.node.runtime.follow.FollowSource`, the node's code). The source
    answers its statuses in the order it reported them, each once the light node's engine holds its local-safe
    block, so the light node follows as fast as it can sync."""
    w, target = c.world, c.envelopes[-1].block_hash
    l1_client = MemoryL1Client(w.l1)
    rows, done, at = _Stretches(stretch, report), trio.Event(), {"i": 0}
    async with trio.open_nursery() as nursery:
        ports = await nursery.start(EngineService(c.genesis, SECRET, datadir=datadir, http_port=0, auth_port=0,
                                                  sync_peers=[f"http://127.0.0.1:{source_engine_http}"]).run)
        client = EngineClient(f"http://127.0.0.1:{ports.auth}", SECRET, w.cfg)
        ctrl = EngineController(w.cfg, client)

        async def sync_status():
            i = at["i"]
            head = await ctrl.block_ref(snapshots[i].local_safe_l2.hash)
            if head is not None:
                rows.at(head.number, head.hash == target)
                if head.hash == target:
                    done.set()
                elif i + 1 < len(snapshots):
                    at["i"] = i = i + 1
            return snapshots[i].to_json()

        app = JsonRpcApp(Dispatcher({"optimism_syncStatus": Method(sync_status)}))
        source_port = await nursery.start(serve_socket, app, bind("127.0.0.1", 0))
        l2 = NodeL2Source(w.cfg, client, controller=ctrl)
        l1 = NodeL1Source(l1_client, confirmed_head=lambda: w.l1.head.number)
        driver = Driver(w.cfg, pipeline=Pipeline(w.cfg, L1_CHAIN, l1, l2), ctrl=ctrl, l1=l1, l2=l2, derive=False,
                        el_sync=True, l1_finalized=lambda: w.l1.canonical[len(w.l1.canonical) - 3].info.ref)

        async def l1_ref_by_number(n: int):
            return (await l1_client.block_info_by_number(n)).ref

        follow = FollowSource(f"http://127.0.0.1:{source_port}", timeout=10.0, interval=FOLLOW_POLL,
                              l1_ref_by_number=l1_ref_by_number, ctrl=ctrl, driver=driver)
        driver.hooks.append(follow.apply)
        rows.begin(0)
        async with trio.open_nursery() as inner:
            inner.start_soon(driver.run)
            inner.start_soon(follow.run)
            with trio.fail_after(max(600.0, blocks)):
                await done.wait()
            inner.cancel_scope.cancel()
        await client.aclose()
        nursery.cancel_scope.cancel()
    return rows.summary(blocks) | {"follow_results": dict(follow.results)}


async def _soak(blocks: int, stretch: int, datadir: str, report, light: bool) -> dict:
    t = time.perf_counter()
    c = await make_chain(blocks, TXS_PER_BLOCK, CHANNEL_L1_BLOCKS, FORKS, keep_blocks=False)
    make_s = time.perf_counter() - t
    async with trio.open_nursery() as nursery:
        ports = await nursery.start(EngineService(c.genesis, SECRET, datadir=f"{datadir}/source", http_port=0,
                                                  auth_port=0).run)
        source, snapshots = await _source(c, blocks, ports.auth, stretch, lambda r: report("source", r), SNAPSHOT_EVERY)
        out = {"make_s": make_s, "l1_blocks": len(c.world.l1.canonical), "source": source}
        if light:
            out["light"] = await _light(c, blocks, ports.http, f"{datadir}/light", snapshots, stretch,
                                        lambda r: report("light", r))
        nursery.cancel_scope.cancel()
    out["peak_rss_mb"] = max([peak_rss_mb()] + [r["rss_mb"] for k in ("source", "light") if k in out
                                                 for r in out[k]["stretches"]])  # statm and maxrss count apart
    return out


def soak(blocks: int = BLOCKS, stretch: int = STRETCH, report=lambda node, stretch: None, light: bool = True) -> dict:
    """Make the chain, sync it on a source node, then (``light``) follow it on a light node; ``report(node,
    stretch)`` is called with each stretch's figures as soon as it is done."""
    with tempfile.TemporaryDirectory(prefix="opnode-soak-") as datadir:
        return trio.run(_soak, blocks, stretch, datadir, report, light)


def _print_stretch(node: str, s: dict) -> None:
    print(f"  {node:6s} up to block {s['upto']:6d}: {s['blocks_per_s']:6.1f} blocks/s, "
          f"{s['blocks_per_cpu_s']:6.1f} per CPU s  RSS {s['rss_mb']:6.1f} MB", flush=True)


def _print_node(node: str, r: dict) -> bool:
    """The node's summary lines; whether its throughput stayed flat."""
    first, last = r["stretches"][0]["blocks_per_cpu_s"], r["stretches"][-1]["blocks_per_cpu_s"]
    growth = r["sync_peak_rss_mb"] - r["start_rss_mb"]
    print(f"  {node}: {r['blocks']} blocks in {r['sync_s']:.0f} s = {r['blocks'] / r['sync_s']:.1f} blocks/s, "
          f"{r['blocks'] / r['sync_cpu_s']:.1f} per CPU s; last stretch / first per CPU s {last / first:.2f} "
          f"(target >= {FLATNESS}); RSS {r['start_rss_mb']:.0f} MB at its start, at most "
          f"{r['sync_peak_rss_mb']:.0f} MB at the stretch ends (growth {growth:.0f} MB)")
    return last >= FLATNESS * first


def run() -> dict:
    header(f"soak: a source node syncs {BLOCKS} L2 blocks x {TXS_PER_BLOCK} transfer (span batches, brotli) into an "
           f"embedded engine with a datadir, then a light node follows it over the same span; blocks/s and RSS "
           f"every {STRETCH} blocks")
    r = soak(report=_print_stretch)
    print(f"  (making the chain before the sync took {r['make_s']:.0f} s; {r['l1_blocks']} L1 blocks)")
    flat = {node: _print_node(node, r[node]) for node in ("source", "light")}
    print(f"  light node's follow polls: {r['light']['follow_results']}")
    print(f"  process peak RSS {r['peak_rss_mb']:.0f} MB, chain making and both nodes included "
          f"(target < {RSS_LIMIT_MB} MB)")
    print("  targets: throughput " + ", ".join(f"{n} {'flat' if ok else 'NOT flat'}" for n, ok in flat.items())
          + f"; RSS {'met' if r['peak_rss_mb'] < RSS_LIMIT_MB else 'NOT met'}")
    return r
