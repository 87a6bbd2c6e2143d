"""Source-node sync throughput: L2 blocks/s of the real driver + engine controller + pipeline deriving a range of
batches into an embedded engine over HTTP + JWT, and where the wall time goes (derivation, waiting for the engine,
waiting for L1, the rest), next to baselines measured in the same run on the same blocks:

- the pipeline alone deriving the range (in-memory L1 and L2, no engine);
- the engine alone building the same blocks from the same attributes on a fresh engine (the controller's
  FCU+attributes → getPayload → newPayload → FCU: the verifier's engine work without derivation);
- the engine alone importing them (newPayload → FCU on a fresh engine).

The chain is made by a sequencer on its own embedded engine (so the hashes are real), with user transfers in every
block, posted by a batcher as span-batch channels to an in-memory L1. The syncing node reads L1 through the node's
own L1 provider (``NodeL1Source``) over an in-memory client with an optional per-request latency, so "waiting for L1"
is the node's L1 path with the RPC round trip taken out (or simulated).

Time split: wrappers around ``Pipeline.step`` (derivation), ``EngineClient.call`` (every Engine API and eth_ call,
the engine's execution included since it answers in this process) and the L1 provider's ``fetch``; "other" is the
driver loop, the controller's bookkeeping and the trio scheduler.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from collections import defaultdict

import trio

from bench.timing import header
from derivation.pipeline import Pipeline, Progress
from derivation.protocol.attributes import AttributesWithParent
from derivation.protocol.batches import SingularBatch
from derivation.protocol.compression import BROTLI
from derivation.protocol.rollup_config import Fork
from derivation.protocol.types import BlockID
from derivation.stages.attributes_builder import AttributesBuilder
from engine.client import EngineClient, ForkchoiceState
from engine.controller import EngineController
from engine.execution.service import EngineService
from opnode.node.runtime.driver import Driver
from opnode.node.runtime.l1_data import NodeL1Source
from opnode.node.runtime.l2_data import NodeL2Source
from opnode.testing.engine import key, transfer
from opnode.testing.harness.world import L1_CHAIN
from opnode.testing.runtime import SECRET, MemoryL1Source, make_world
from opnode.tools.batcher.channel_out import ChannelOut

BLOCKS, TXS_PER_BLOCK, CHANNEL_L1_BLOCKS = 360, 4, 2
L1_LATENCIES = (0.0, 0.002)  # in-memory L1, and a 2 ms round trip per L1 request (a nearby L1 node)
ROUNDS = 3  # engine-alone builds and syncs at the first latency, alternating
FORKS = {Fork.HOLOCENE: 0, Fork.ISTHMUS: 0, Fork.JOVIAN: 0}


class MemoryL1Client:
    """The calls ``NodeL1Source`` makes on ``opnode.node.l1.client.L1Client``, answered from the harness L1 after an
    optional simulated round trip."""

    def __init__(self, l1, latency: float = 0.0):
        self.l1 = l1
        self.latency = latency
        self.requests = 0

    async def _rtt(self) -> None:
        self.requests += 1
        if self.latency:
            await trio.sleep(self.latency)
        else:
            await trio.lowlevel.checkpoint()

    async def block_info_by_number(self, number: int):
        await self._rtt()
        return self.l1.block_by_number(number)

    async def block_info_by_hash(self, block_hash: bytes):
        await self._rtt()
        return self.l1.block_by_hash(block_hash)

    async def info_and_txs_by_hash(self, block_hash: bytes):
        await self._rtt()
        b = self.l1.by_hash[block_hash]
        return b.info, tuple(b.txs)

    async def receipts_by_hash(self, block_hash: bytes):
        await self._rtt()
        b = self.l1.by_hash[block_hash]
        return b.info, tuple(b.receipts)


class Timers:
    """Wall time per bucket, and per Engine API method."""

    def __init__(self):
        self.s: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap_sync(self, bucket: str, fn):
        def timed(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.s[bucket] += time.perf_counter() - t
                self.calls[bucket] += 1
        return timed

    def wrap_async(self, bucket: str, fn, by_first_arg: bool = False):
        async def timed(*a, **kw):
            t = time.perf_counter()
            try:
                return await fn(*a, **kw)
            finally:
                dt = time.perf_counter() - t
                self.s[bucket] += dt
                self.calls[bucket] += 1
                if by_first_arg:
                    self.s[f"{bucket}:{a[0]}"] += dt
                    self.calls[f"{bucket}:{a[0]}"] += 1
        return timed


@dataclasses.dataclass
class SequencedRange:
    world: object
    genesis: object
    envelopes: list  # the sequencer's blocks, in order
    attributes: list  # the payload attributes they were built from
    user_txs: int


async def make_chain(blocks: int, txs_per_block: int, channel_l1_blocks: int, forks=FORKS,
                     keep_blocks: bool = True) -> SequencedRange:
    """A sequencer on its own engine builds ``blocks`` L2 blocks; a batcher posts them in brotli span-batch
    channels, one every ``channel_l1_blocks`` L1 blocks (L1 and L2 time advance together). Without
    ``keep_blocks`` only the last envelope is kept and no attributes, and the sequencer's engine keeps its chain
    in a temporary datadir: a long range then costs the bench process little memory."""
    w, genesis = make_world(forks)
    with tempfile.TemporaryDirectory(prefix="opnode-bench-seq-") as datadir:
        async with trio.open_nursery() as nursery:  # the sequencer's engine and driver, stopped once the chain is made
            c = await _sequence(nursery, w, genesis, blocks, txs_per_block, channel_l1_blocks, keep_blocks,
                                None if keep_blocks else datadir)
            nursery.cancel_scope.cancel()
    return c


async def _sequence(nursery, w, genesis, blocks: int, txs_per_block: int, channel_l1_blocks: int,
                    keep_blocks: bool = True, datadir: str | None = None) -> SequencedRange:
    ports = await nursery.start(EngineService(genesis, SECRET, datadir=datadir, http_port=0, auth_port=0).run)
    client = EngineClient(f"http://127.0.0.1:{ports.auth}", SECRET, w.cfg)
    ctrl = EngineController(w.cfg, client)
    l2 = NodeL2Source(w.cfg, client, controller=ctrl)
    seq = Driver(w.cfg, pipeline=Pipeline(w.cfg, L1_CHAIN, w.l1, l2), ctrl=ctrl, l1=MemoryL1Source(w.l1), l2=l2,
                 l1_finalized=lambda: None, derive=False)
    await nursery.start(seq.run)
    builder = AttributesBuilder(w.cfg, L1_CHAIN, w.l1, l2)
    per_l1 = w.l1.block_time // w.cfg.block_time
    nonce, envs, attributes, pending, made = 0, [], [], [], 0
    w.l1.mine()  # L2 genesis time: origins start here (span batches need a Delta-active L1 origin)
    while made < blocks:
        if channel_l1_blocks > 1:
            w.l1.mine(n=channel_l1_blocks - 1)
        for _ in range(per_l1 * channel_l1_blocks):
            if made == blocks:
                break
            parent = ctrl.unsafe
            ts = parent.time + w.cfg.block_time
            cur = w.l1.block_by_hash(parent.l1_origin.hash)
            nxt = w.l1.canonical[cur.number + 1].info if cur.number + 1 < len(w.l1.canonical) else None
            epoch = nxt if nxt is not None and nxt.time <= ts else cur
            attrs = await seq.resolve(lambda p=parent, e=BlockID(epoch.hash, epoch.number): builder.prepare(p, e))
            user = [transfer(key(0), nonce + i, b"\x55" * 20, 1).raw for i in range(txs_per_block)]
            nonce += txs_per_block
            attrs = dataclasses.replace(attrs, transactions=attrs.transactions + tuple(user))
            env, ref = await ctrl.sequence(attrs)
            await ctrl.sync_forkchoice()
            made += 1
            if keep_blocks:
                envs.append(env)
                attributes.append(attrs)
            else:
                envs[:] = [env]
            pending.append((SingularBatch(parent.hash, epoch.number, epoch.hash, ts, tuple(user)),
                            ref.sequence_number))
        ch = ChannelOut(len(w.l1.canonical).to_bytes(16, "big"), span=True, compression=BROTLI,
                        chain_id=w.cfg.l2_chain_id, genesis_time=w.cfg.genesis.l2_time)
        for b, sn in pending:
            ch.add_block(b, sn)
        pending = []
        w.post_frames(ch.frames(120_000))
    w.l1.mine(n=4)
    await client.aclose()
    return SequencedRange(w, genesis, envs, attributes, nonce)


async def _sync(nursery, c: SequencedRange, l1_latency: float) -> dict:
    """The measured run: a fresh engine, a real driver deriving everything on L1 until the last block is safe."""
    w = c.world
    ports = await nursery.start(EngineService(c.genesis, SECRET, http_port=0, auth_port=0).run)
    timers = Timers()
    client = EngineClient(f"http://127.0.0.1:{ports.auth}", SECRET, w.cfg)
    untimed = client.call
    client.call = timers.wrap_async("engine", client.call, by_first_arg=True)
    ctrl = EngineController(w.cfg, client)
    l2 = NodeL2Source(w.cfg, client, controller=ctrl)
    l1_client = MemoryL1Client(w.l1, l1_latency)
    l1 = NodeL1Source(l1_client, confirmed_head=lambda: w.l1.head.number)
    l1.fetch = timers.wrap_async("l1", l1.fetch)
    pipeline = Pipeline(w.cfg, L1_CHAIN, l1, l2)
    pipeline.step = timers.wrap_sync("derivation", pipeline.step)
    target = c.envelopes[-1].block_hash
    done = trio.Event()
    driver = Driver(w.cfg, pipeline=pipeline, ctrl=ctrl, l1=l1, l2=l2,
                    l1_finalized=lambda: w.l1.canonical[len(w.l1.canonical) - 3].info.ref,
                    on_attributes=lambda a, o: done.set() if ctrl.safe.hash == target else None)
    t = time.perf_counter()
    async with trio.open_nursery() as inner:
        inner.start_soon(driver.run)
        with trio.fail_after(600):
            await done.wait()
        inner.cancel_scope.cancel()
    await ctrl.sync_forkchoice()  # the driver's next iteration would: the last block becomes canonical
    wall = time.perf_counter() - t
    client.call = untimed
    l2_blocks = [await client.block(n, full=True) for n in range(c.envelopes[-1].number + 1)]
    await client.aclose()
    if [b["hash"] for b in l2_blocks[1:]] != ["0x" + e.block_hash.hex() for e in c.envelopes]:
        raise AssertionError("the derived chain differs from the sequencer's")
    return {"l1_latency": l1_latency, "l2_blocks": l2_blocks, "wall_s": wall, "timers": timers,
            "l1_requests": l1_client.requests, "finalized": ctrl.finalized.number}


def _pipeline_alone(c: SequencedRange, l2_blocks: list[dict]) -> float:
    """Derivation only: the harness L1 and an L2 provider pre-filled with the engine's blocks."""
    w = c.world
    l2 = NodeL2Source(w.cfg, None)
    for b in l2_blocks:
        l2.add_block(b, canonical=True)
    pipe = Pipeline(w.cfg, L1_CHAIN, w.l1, l2)
    safe = l2.block_ref_by_number(0)
    pipe.reset(safe)
    last = c.envelopes[-1].number
    t = time.perf_counter()
    while safe.number < last:
        r = pipe.step(safe)
        if isinstance(r, AttributesWithParent):
            safe = l2.block_ref_by_number(safe.number + 1)
        elif not isinstance(r, Progress):
            raise AssertionError(f"pipeline alone stopped: {r}")
    return time.perf_counter() - t


async def _build_alone(nursery, c: SequencedRange) -> float:
    """Engine only, the verifier's engine work without derivation: the same attributes built and inserted on a
    fresh engine by the controller (FCU+attributes → getPayload → newPayload → FCU), giving the same hashes."""
    ports = await nursery.start(EngineService(c.genesis, SECRET, http_port=0, auth_port=0).run)
    client = EngineClient(f"http://127.0.0.1:{ports.auth}", SECRET, c.world.cfg)
    ctrl = EngineController(c.world.cfg, client)
    ctrl.force_heads(await ctrl.engine_heads())
    t = time.perf_counter()
    for attrs, want in zip(c.attributes, c.envelopes, strict=True):
        env, _ = await ctrl.sequence(attrs)
        await ctrl.sync_forkchoice()
        assert env.block_hash == want.block_hash
    dt = time.perf_counter() - t
    await client.aclose()
    return dt


async def _import_alone(nursery, c: SequencedRange) -> float:
    """Engine only: newPayload + forkchoiceUpdated for each block on a fresh engine (op-node's unsafe-insert path)."""
    ports = await nursery.start(EngineService(c.genesis, SECRET, http_port=0, auth_port=0).run)
    client = EngineClient(f"http://127.0.0.1:{ports.auth}", SECRET, c.world.cfg)
    t = time.perf_counter()
    for env in c.envelopes:
        st = await client.new_payload(env)
        assert st.status == "VALID", st
        await client.forkchoice_updated(ForkchoiceState(env.block_hash, env.block_hash, bytes(32)))
    dt = time.perf_counter() - t
    await client.aclose()
    return dt


async def _all(blocks: int, txs_per_block: int, channel_l1_blocks: int, l1_latencies, rounds: int) -> dict:
    """Engine-alone builds and syncs with the first L1 latency alternate for ``rounds`` rounds (the machine is
    shared: a slow spell hits neighbours alike), then one sync per other latency."""
    async with trio.open_nursery() as nursery:
        t = time.perf_counter()
        c = await make_chain(blocks, txs_per_block, channel_l1_blocks)
        make_s = time.perf_counter() - t
        builds, first = [], []
        for _ in range(rounds):
            builds.append(await _build_alone(nursery, c))
            first.append(await _sync(nursery, c, l1_latencies[0]))
        builds.append(await _build_alone(nursery, c))
        syncs = [min(first, key=lambda s: s["wall_s"])]
        syncs += [await _sync(nursery, c, lat) for lat in l1_latencies[1:]]
        import_s = await _import_alone(nursery, c)
        nursery.cancel_scope.cancel()
    # each sync next to the builds just before and after it
    paired = [min(builds[i], builds[i + 1]) / s["wall_s"] for i, s in enumerate(first)]
    return {"chain": c, "make_s": make_s, "syncs": syncs, "build_s": min(builds), "builds_s": builds,
            "first_syncs_s": [s["wall_s"] for s in first], "paired": paired, "import_s": import_s}


def _figures(c: SequencedRange, sync: dict, pipe_s: float, build_s: float, import_s: float) -> dict:
    n = len(c.envelopes)
    tm, wall = sync["timers"], sync["wall_s"]
    split = {k: tm.s[k] / wall for k in ("derivation", "engine", "l1")}
    split["other"] = max(0.0, 1.0 - sum(split.values()))
    return {"l1_latency_s": sync["l1_latency"], "sync_s": wall, "sync_blocks_per_s": n / wall, "split": split,
            "engine_methods": {k.split(":", 1)[1]: (tm.calls[k], tm.s[k] / wall) for k in tm.s
                               if k.startswith("engine:")},
            "l1_requests": sync["l1_requests"], "finalized": sync["finalized"],
            "sync_vs_pipeline": pipe_s / wall, "sync_vs_build": build_s / wall, "sync_vs_import": import_s / wall,
            "sync_vs_serial_floor": (pipe_s + build_s) / wall}


def sync_throughput(blocks: int = BLOCKS, txs_per_block: int = TXS_PER_BLOCK,
                    channel_l1_blocks: int = CHANNEL_L1_BLOCKS, l1_latencies=L1_LATENCIES, rounds: int = ROUNDS) -> dict:
    """One chain; a sync run per simulated L1 round trip (seconds; the first one the fastest of ``rounds``) with its
    blocks/s, time split and ratios to the baselines measured on the same blocks."""
    res = trio.run(_all, blocks, txs_per_block, channel_l1_blocks, tuple(l1_latencies), rounds)
    c = res["chain"]
    n = len(c.envelopes)
    pipe_s = _pipeline_alone(c, res["syncs"][0]["l2_blocks"])
    return {"blocks": n, "user_txs": c.user_txs, "l1_blocks": len(c.world.l1.canonical), "make_s": res["make_s"],
            "pipeline_s": pipe_s, "pipeline_blocks_per_s": n / pipe_s,
            "build_s": res["build_s"], "build_blocks_per_s": n / res["build_s"],
            "build_runs_blocks_per_s": [n / b for b in res["builds_s"]],
            "first_sync_runs_blocks_per_s": [n / x for x in res["first_syncs_s"]],
            "paired_sync_vs_build": res["paired"],
            "import_s": res["import_s"], "import_blocks_per_s": n / res["import_s"],
            "syncs": [_figures(c, s, pipe_s, res["build_s"], res["import_s"]) for s in res["syncs"]]}


def run() -> None:
    header(f"node: source-node sync of {BLOCKS} L2 blocks x {TXS_PER_BLOCK} transfers (span batches, brotli) "
           "into an embedded engine over HTTP+JWT")
    r = sync_throughput()
    print(f"  (building the chain with a sequencer engine took {r['make_s']:.1f} s; {r['l1_blocks']} L1 blocks)")
    print(f"  baselines (same blocks, same run): pipeline alone {r['pipeline_blocks_per_s']:7.0f} blocks/s | "
          f"engine alone building {r['build_blocks_per_s']:5.1f} blocks/s (best of "
          + ", ".join(f"{x:.1f}" for x in r["build_runs_blocks_per_s"])
          + f") | engine alone importing {r['import_blocks_per_s']:5.1f} blocks/s")
    print("  sync with a 0 ms L1 round trip, alternating with the builds: "
          + ", ".join(f"{x:.1f}" for x in r["first_sync_runs_blocks_per_s"]) + " blocks/s; sync / engine build "
          "next to each: " + ", ".join(f"{x:.2f}x" for x in r["paired_sync_vs_build"])
          + f" (median {statistics.median(r['paired_sync_vs_build']):.2f}x)")
    for i, f in enumerate(r["syncs"]):
        s = f["split"]
        best = f" (fastest of {len(r['first_sync_runs_blocks_per_s'])})" if i == 0 else ""
        print(f"  sync, L1 round trip {f['l1_latency_s'] * 1000:.0f} ms{best}: {r['blocks']} blocks in {f['sync_s']:.2f} s "
              f"= {f['sync_blocks_per_s']:6.1f} blocks/s {r['user_txs'] / f['sync_s']:6.0f} user txs/s "
              f"(finalized {f['finalized']})")
        print(f"    time: derivation {s['derivation']:5.1%} | engine {s['engine']:5.1%} | L1 {s['l1']:5.1%} "
              f"({f['l1_requests']} requests) | other {s['other']:5.1%}")
        print("    engine by method: " + ", ".join(
            f"{m} {n}x {share:.1%}" for m, (n, share) in sorted(f["engine_methods"].items(), key=lambda kv: -kv[1][1])))
        print(f"    ratios: sync / pipeline {f['sync_vs_pipeline']:.4f}x, sync / engine build {f['sync_vs_build']:.2f}x, "
              f"sync / engine import {f['sync_vs_import']:.2f}x, "
              f"sync / (pipeline + engine build in series) {f['sync_vs_serial_floor']:.2f}x")
