"""``opnode devnet``: a whole OP Stack chain on this machine, from one command.

:class:`Devnet` puts the parts together: the process :class:`~opnode.tools.devnet.stack.Stack` (anvil and its beacon shim,
engines, sequencer, sources, light nodes) with metrics on, the real ``opnode batcher`` process holding both batcher
keys (its admin RPC for the key-rotation handshake and its status), the traffic generator, a sampler of every
node's heads, the live table, and at the end the summary (:mod:`.summary`).

Processes are started from the main thread only, never from a trio worker thread: every child is killed by the
kernel when the *thread* that forked it exits (PR_SET_PDEATHSIG), and trio retires idle worker threads. So the
stack starts before ``trio.run`` and stops after it; tests that restart a node call ``stack.start_node`` from the
main thread too.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import trio

from derivation.protocol.crypto import address_from_private_key
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.rollup_config import Fork
from opnode.jsonrpc.client import NO_RETRY, RpcClient
from opnode.jsonrpc.errors import RpcError, TransportError
from opnode.tools.anvil import DEV_KEYS
from opnode.tools.batcher.admin import BatcherControl
from opnode.tools.devnet.procs import free_port
from opnode.tools.devnet.stack import DEFAULT_FORKS, NEXT_BATCHER_KEY, OWNER_KEY, Stack
from opnode.tools.devnet.summary import JsonRpc, NodeRef, parse_drops, summarize
from opnode.tools.devnet.traffic import Traffic, TrafficConfig

log = logging.getLogger("opnode.tools.devnet")

# anvil's dev account #4 (DEV_MNEMONIC), funded with anvil_setBalance (anvil funds only DEV_KEYS): deposits from
# L1. Not an L2 sender: a deposit bumps its sender's L2 nonce.
DEPOSITOR_KEY = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"
L2_KEYS = (DEV_KEYS[3],)  # funded on L2 and used by nobody else (0..2: owner, batcher, next batcher)
# Faults that leave the chain moving: channel_timeout holds every later batch back for Granite's 50 L1 blocks.
DEVNET_FAULTS = "garbage_frame,duplicate_frame,reordered_frames,invalid_batch"
SAMPLE_EVERY = 1.0
DROPS_EVERY = 5.0


@dataclass(frozen=True, slots=True)
class DevnetOptions:
    sources: int = 2
    light_nodes: int = 2
    da: str = "auto"
    faults: bool = False
    duration: float | None = None
    json_out: Path | None = None
    block_time: int = 2
    l1_block_time: int = 1
    workdir: Path | None = None
    forks: dict[Fork, int] = field(default_factory=lambda: dict(DEFAULT_FORKS))
    interactive: bool = False
    traffic: bool = True
    sequencer_l1_confs: int = 4
    batcher_poll: float = 0.3
    batcher_args: tuple[str, ...] = ()  # more ``opnode batcher`` flags (tests: confirmations, channel duration)
    ready_file: Path | None = None
    interop: bool = False  # two chains in one dependency set behind a supernode (interop_run.py)


class Devnet:
    def __init__(self, opts: DevnetOptions, workdir: Path):
        self.opts = opts
        self.dir = Path(workdir)
        self.batcher_port = free_port()
        self.batcher_url = f"http://127.0.0.1:{self.batcher_port}"
        self.events_path = self.dir / "logs" / "batcher-events.jsonl"
        batcher_args = ["--private-key", NEXT_BATCHER_KEY, "--da", opts.da, "--rpc.port", str(self.batcher_port),
                        "--log.events", str(self.events_path), "--poll-interval", str(opts.batcher_poll)]
        if opts.faults:
            batcher_args += ["--faults", "--faults.kinds", DEVNET_FAULTS]
        batcher_args += list(opts.batcher_args)
        self.stack = Stack(self.dir, sources=opts.sources, light_nodes=opts.light_nodes, forks=opts.forks,
                           block_time=opts.block_time, l1_block_time=opts.l1_block_time, batcher_args=batcher_args,
                           metrics=True, sequencer_l1_confs=opts.sequencer_l1_confs, spread_light_nodes=True)
        self.traffic: Traffic | None = None
        self.samples: list[dict] = []
        self._rpcs: dict[str, RpcClient] = {}  # the sampler's clients, one per endpoint
        self.errors: list[str] = []
        self.batcher_status: dict | None = None
        self.drops: dict[str, float] = {}
        self.started_at = 0.0

    # -------------------------------------------------------------------------------------------- lifecycle

    def start(self) -> dict:
        """Start every process (main thread; see the module docstring). Returns the READY information."""
        self.started_at = time.monotonic()
        try:
            self.stack.start()
            depositor = address_from_private_key(from_hex(DEPOSITOR_KEY, 32))
            self.stack.l1_rpc("anvil_setBalance", to_hex(depositor), hex(10**24))
            self.stack.batcher.wait_rpc(self.batcher_url, "batcher_status", timeout=60)
        except BaseException:
            self.stack.stop()
            raise
        log.info("devnet up in %.1f s: %s", time.monotonic() - self.started_at, self.dir)
        return self.stack.ready_info()

    def ready_line(self) -> str:
        return self.stack.dump_ready()

    def stop(self) -> None:
        self.stack.stop()

    def node_refs(self) -> list[NodeRef]:
        return [NodeRef(n.name, n.role, n.rpc, n.engine_rpc, n.metrics) for n in self.stack.nodes]

    # -------------------------------------------------------------------------------------------- live

    async def live(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Traffic, the sampler and (interactive) the table, until cancelled."""
        async with httpx.AsyncClient(timeout=5) as http, trio.open_nursery() as nursery:
            if self.opts.traffic:
                nursery.start_soon(self._traffic)
            nursery.start_soon(self._sampler, http)
            task_status.started()

    async def settle(self) -> None:
        """Once ``--duration`` is reached, before the summary: let work under way finish (bounded). The single-chain
        devnet has none; the interop devnet finishes its fault rounds."""

    async def _traffic(self) -> None:
        s = self.stack
        cfg = TrafficConfig(l1_rpc=s.anvil.url, l2_rpc=s.node("sequencer").engine_rpc, rollup=s.files.rollup_config,
                            owner_key=from_hex(OWNER_KEY, 32), depositor_key=from_hex(DEPOSITOR_KEY, 32),
                            l2_keys=tuple(from_hex(k, 32) for k in L2_KEYS),
                            next_batcher_key=from_hex(NEXT_BATCHER_KEY, 32), tx_interval=1.0,
                            deposit_interval=3.0, config_interval=4.0, rotation_after=10.0)
        self.traffic = Traffic(cfg, control=BatcherControl(self.batcher_url))
        try:
            await self.traffic.run()
        except Exception as e:  # the devnet goes on without traffic; the summary says why
            log.exception("traffic stopped")
            self.errors.append(f"traffic stopped: {type(e).__name__}: {e}")

    async def _rpc(self, url: str, method: str, *params):
        """A sample's read: the result, or None when the endpoint gives none (the table shows a gap)."""
        if url not in self._rpcs:
            self._rpcs[url] = RpcClient(url, timeout=5, retry=NO_RETRY)
        try:
            return await self._rpcs[url].call(method, *params)
        except (RpcError, TransportError):
            return None

    async def sample(self) -> dict:
        nodes: dict[str, dict | None] = {}
        l1_head = None
        for n in self.stack.nodes:
            st = await self._rpc(n.rpc, "optimism_syncStatus")
            if not isinstance(st, dict):
                nodes[n.name] = None
                continue
            nodes[n.name] = {"unsafe": st["unsafe_l2"]["number"], "safe": st["safe_l2"]["number"],
                             "finalized": st["finalized_l2"]["number"],
                             "safe_l1origin": st["safe_l2"]["l1origin"]["number"]}
            l1_head = max(l1_head or 0, st["head_l1"]["number"])
        row = {"t": round(time.monotonic() - self.started_at, 1), "l1_head": l1_head, "nodes": nodes}
        self.samples.append(row)
        return row

    async def _sampler(self, http: httpx.AsyncClient) -> None:
        from opnode.tools.devnet.table import render

        roles = {n.name: n.role for n in self.stack.nodes}
        follows = {n.name: n.follows for n in self.stack.nodes}
        live = None
        if self.opts.interactive:
            from rich.console import Console
            from rich.live import Live

            live = Live(console=Console(stderr=True), refresh_per_second=2, transient=False)
            live.start()
        last_drops = -math.inf
        try:
            while True:
                row = await self.sample()
                st = await self._rpc(self.batcher_url, "batcher_status")
                if isinstance(st, dict):
                    self.batcher_status = st
                if trio.current_time() - last_drops >= DROPS_EVERY:
                    last_drops = trio.current_time()
                    await self._read_drops(http)
                if live is not None:
                    live.update(render(row, roles, follows, self.traffic.snapshot() if self.traffic else None,
                                       self.batcher_status, self.drops))
                elif len(self.samples) % 10 == 1:
                    log.info("heads %s", json.dumps({k: v and [v["unsafe"], v["safe"], v["finalized"]]
                                                     for k, v in row["nodes"].items()}))
                await trio.sleep(SAMPLE_EVERY)
        finally:
            if live is not None:
                live.stop()
            with trio.CancelScope(shield=True):  # the sampler ends by cancellation
                for rpc in self._rpcs.values():
                    await rpc.aclose()

    async def _read_drops(self, http: httpx.AsyncClient) -> None:
        total: dict[str, float] = {}
        for n in self.stack.nodes:
            if n.role != "source" or not n.metrics:
                continue
            try:
                drops = parse_drops((await http.get(n.metrics + "/metrics")).text)
            except httpx.HTTPError:
                continue
            for k, v in drops.items():
                reason = k.split("/", 1)[1]
                total[reason] = total.get(reason, 0) + v
        self.drops = total

    # -------------------------------------------------------------------------------------------- summary

    def summary(self) -> dict:
        """The checks over the chain as it is now (call before :meth:`stop`)."""
        o = self.opts
        rpc = JsonRpc()
        errors = list(self.errors)
        try:
            try:
                self.batcher_status = rpc.call(self.batcher_url, "batcher_status")
            except (RpcError, TransportError, httpx.HTTPError, RuntimeError, ValueError) as e:
                errors.append(f"batcher status unreadable: {e}")
            for n in self.stack.nodes:
                if n.proc is None or not n.proc.alive():
                    errors.append(f"{n.name} is not running")
            if self.stack.batcher is None or not self.stack.batcher.alive():
                errors.append("the batcher is not running")
            result = summarize(rpc, cfg=self.stack.files.rollup_config, l1_url=self.stack.anvil.url,
                               nodes=self.node_refs(), da=self.opts.da, faults=self.opts.faults,
                               batcher_status=self.batcher_status, errors=errors, traffic=o.traffic)
        finally:
            rpc.close()
        result["options"] = {"sources": o.sources, "light_nodes": o.light_nodes, "da": o.da, "faults": o.faults,
                             "block_time": o.block_time, "l1_block_time": o.l1_block_time,
                             "forks": {Fork(f).name.lower(): v for f, v in o.forks.items()}}
        result["traffic"] = self.traffic.snapshot() if self.traffic else None
        result["batcher"] = self.batcher_status
        result["nodes"] = [n.to_json() for n in self.stack.nodes]
        result["samples"] = self.samples
        return result


# ------------------------------------------------------------------------------------------------ the command


def _interrupt(signum, frame):
    raise KeyboardInterrupt


async def _run_until_stopped(devnet: Devnet) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await nursery.start(devnet.live)

            async def stop_on_signal():
                async for signum in signals:
                    log.info("received %s: stopping", signal.Signals(signum).name)
                    nursery.cancel_scope.cancel()
                    return

            nursery.start_soon(stop_on_signal)
            if devnet.opts.duration is not None:
                await trio.sleep(devnet.opts.duration)
                await devnet.settle()
                log.info("--duration reached: stopping")
                nursery.cancel_scope.cancel()


def announce_ready(devnet: Devnet, opts: DevnetOptions, out) -> None:
    """The READY JSON is for scripts: it goes to ``<workdir>/ready.json`` (and ``--ready-file``) always, and to
    stdout as a ``READY {json}`` line when stdout is not a terminal. A person at a terminal gets one plain line
    naming the file, then the live table."""
    line = devnet.ready_line()
    body = line[len("READY "):] + "\n"
    (devnet.dir / "ready.json").write_text(body)
    if opts.ready_file is not None:
        Path(opts.ready_file).write_text(body)
    if out.isatty():
        roles = Counter(n.role for n in devnet.stack.nodes)
        print(f"opnode devnet: up — {roles['sequencer']} sequencer, {roles['source']} sources, {roles['light']} light "
              f"nodes; endpoints in {devnet.dir / 'ready.json'}", file=out, flush=True)
    else:
        print(line, file=out, flush=True)


def run_devnet(opts: DevnetOptions, out=sys.stdout) -> int:
    """The whole command: start, print READY, run until a signal or ``--duration``, summarize, stop. Returns the
    exit code: 0 when every check passed, 1 otherwise, 130 when interrupted before the devnet was up."""
    from opnode.node.logs import LogConfig, setup_logging

    workdir = opts.workdir or Path(tempfile.mkdtemp(prefix="opnode-devnet-"))
    if opts.interop:
        from opnode.tools.devnet.interop_run import InteropDevnet

        devnet: Devnet = InteropDevnet(opts, workdir)
    else:
        devnet = Devnet(opts, workdir)
    # The live table owns the terminal: the devnet's own log lines then go to a file next to the others.
    log_file = open(devnet.dir / "logs" / "devnet.log", "a", buffering=1) if opts.interactive else None  # noqa: SIM115
    setup_logging(LogConfig(level="info", format="terminal"), stream=log_file)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM while starting: stop what has started
    try:
        try:
            devnet.start()
        except KeyboardInterrupt:
            return 130
        announce_ready(devnet, opts, out)
        trio.run(_run_until_stopped, devnet)
        log.info("collecting the summary")
        result = devnet.summary()
        if opts.json_out is not None:
            Path(opts.json_out).write_text(json.dumps(result, indent=1, default=str))
        failed = [k for k, c in result["checks"].items() if not c["ok"]]
        verdict = "all passed" if result["ok"] else f"failed: {', '.join(failed)}; errors: {result['errors']}"
        log.info("checks: %s", verdict)
        if opts.interactive:  # the log went to a file: the verdict goes under the table
            print(f"opnode devnet: checks {verdict}", file=sys.stderr)
        return 0 if result["ok"] else 1
    finally:
        devnet.stop()
        signal.signal(signal.SIGTERM, previous)
        if log_file is not None:
            setup_logging(LogConfig(level="info", format="terminal"))
            log_file.close()
        if opts.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
