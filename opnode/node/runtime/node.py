"""``opnode node``: the whole node in one trio nursery — L1 and beacon clients, L1 head tracking, the engine
client and controller, the derivation driver (or the follow source), the sequencer when enabled, the RPC and
metrics servers — with start-up checks and a clean shutdown on SIGINT/SIGTERM."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import trio

from derivation.events import BatchAccepted, Dropped, EmptyBatchGenerated, Event, PipelineReset
from derivation.protocol.errors import DerivationError
from derivation.protocol.payload import ExecutionPayloadEnvelope
from derivation.protocol.types import L1BlockRef
from derivation.stages.attributes_builder import AttributesBuilder
from engine.client import EngineClient
from engine.heads import HeadsChanged, HeadsEvent
from opnode import __version__
from opnode.extras import missing_extra
from opnode.jsonrpc.errors import RpcError
from opnode.jsonrpc.server import Method
from opnode.node.config import NodeConfig
from opnode.node.l1.beacon import BeaconClient
from opnode.node.l1.client import L1Client
from opnode.node.l1.heads import HeadTracker
from opnode.node.l2_reader import L2Reader
from opnode.node.logs import get_logger
from opnode.node.metrics import Metrics
from opnode.node.rpc.server import RPCServer
from opnode.node.runtime.api import RuntimeAPI
from opnode.node.runtime.chain import ChainServices, StartupError, check_chain, check_derivation_limit
from opnode.node.runtime.follow import FollowSource
from opnode.node.runtime.process import cancel_on_signal, run_until_signal
from opnode.node.runtime.runtime_config import unsafe_block_signer
from opnode.node.runtime.sequencer import Sequencer
from opnode.node.safedb import SafeDB
from opnode.node.sync_progress import SyncProgressLog

if TYPE_CHECKING:  # imported when P2P is enabled (libp2p is heavy)
    from p2p.service import GossipService

log = get_logger("opnode.node")


@dataclass
class Ports:
    rpc: int
    metrics: int | None


class OpNode:
    def __init__(self, config: NodeConfig, metrics: Metrics | None = None):
        self.config = config
        self.cfg = config.rollup
        self.metrics = metrics or Metrics()
        self.ports: Ports | None = None
        self.sequencer: Sequencer | None = None
        self.follow: FollowSource | None = None
        self.p2p: GossipService | None = None
        self.safedb: SafeDB | None = None
        self.sync_progress = SyncProgressLog(log)

    # -------------------------------------------------------------------------------------------- start-up

    async def _check_derivation_limit(self, l1: L1Client, engine: EngineClient) -> None:
        await check_derivation_limit(self.cfg, l1, engine)

    def _safety_levels(self) -> None:
        """op-node/node/node.go ``init`` (okx/optimism@7573e762, 2026-06-30): which safety levels the node serves and
        where safe comes from (the follow source's URL on a light node)."""
        fs = self.config.follow_source
        log.info("Safety levels", unsafe="enabled", safe=fs.url if fs is not None else "enabled")

    def _interop_notice(self) -> None:
        """op-supernode checks cross-chain messages; a plain deriving node does not (op-node's localSafeIsFullySafe
        without --l2.follow.source), so it can diverge from the chain once the set is active: say so once."""
        ds = self.cfg.dependency_set
        if ds is None or not ds.multi_chain or self.config.follow_source is not None:
            return
        log.warn("This chain is in a multi-chain interop dependency set: this source node derives it without "
                 "cross-chain message checks and can diverge from the chain from Lagoon on (a block with an invalid "
                 "executing message is replaced by the supernode); run `opnode supernode`, or follow one with "
                 "--l2.follow.source <supernode>/<chainID>", chains=",".join(map(str, ds.chain_ids)))

    # -------------------------------------------------------------------------------------------- observers

    def _on_event(self, ev: Event) -> None:
        self.metrics.record_derivation_event(ev)
        if isinstance(ev, Dropped):
            log.warn("Dropped " + ev.what, reason=ev.reason.value, detail=ev.message, l1=ev.l1.number)
        elif isinstance(ev, PipelineReset):
            log.info("Derivation pipeline reset", origin=ev.l1.number, why=ev.reason)
        elif isinstance(ev, EmptyBatchGenerated):
            log.info("Generated deposit-only batch (sequencing window expired)", timestamp=ev.timestamp,
                     epoch=ev.epoch_num)
        elif isinstance(ev, BatchAccepted):
            log.debug("Accepted batch", timestamp=ev.timestamp, epoch=ev.epoch_num, txs=ev.txs)

    def _on_heads(self, ev: HeadsEvent) -> None:
        if not isinstance(ev, HeadsChanged):
            return
        old, new = ev.old, ev.new
        for name in ("unsafe", "cross_unsafe", "pending_safe", "local_safe", "safe", "finalized"):
            ref = getattr(new, name)
            if ref != getattr(old, name):
                self.metrics.record_l2_ref(f"l2_{name}", ref)
        self.sync_progress.on_heads(old, new)

    def _on_l1(self, name: str, ref: L1BlockRef) -> None:
        self.metrics.record_l1_ref(f"l1_{name}", ref)
        self.chain.on_l1(name, ref)

    # -------------------------------------------------------------------------------------------- run

    # Any as in driver.py: the installed trio-typing stubs do not export trio.TaskStatus; it is started with Ports.
    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        c = self.config
        self._safety_levels()
        self._interop_notice()
        self.metrics.record_info(__version__)
        self.metrics.record_up()
        async with AsyncExitStack() as stack:
            # A light node reads L1 headers only (canonical checks, resets); a sequencer still needs receipts.
            headers_only = c.follow_source is not None and not c.sequencer.enabled
            l1 = await stack.enter_async_context(L1Client.open(c.l1, self.metrics, headers_only=headers_only))
            beacon = None
            if c.beacon.url:
                beacon = BeaconClient(c.beacon, metrics=self.metrics)
                stack.push_async_callback(beacon.aclose)
            engine = EngineClient(c.l2.url, c.l2.jwt_secret, self.cfg, timeout=c.l2.rpc_timeout,
                                  metrics=self.metrics.rpc_client("engine-api"))
            stack.push_async_callback(engine.aclose)
            self.l2_reader = L2Reader(c.l2.url, jwt_secret=c.l2.jwt_secret, timeout=c.l2.rpc_timeout,
                                      metrics=self.metrics)
            stack.push_async_callback(self.l2_reader.aclose)
            await check_chain(self.cfg, l1, engine)
            if beacon is not None and not c.beacon.ignore and not await beacon.check():
                raise StartupError(f"the beacon endpoint {c.beacon.url} does not answer (use --l1.beacon.ignore "
                                   "to start anyway)")
            await self._run(l1, beacon, engine, task_status)

    async def _run(self, l1: L1Client, beacon: BeaconClient | None, engine: EngineClient,
                   task_status: Any) -> None:
        c = self.config
        light = c.follow_source is not None
        self.heads = HeadTracker(l1, on_change=lambda name, ref: self._on_l1(name, ref),
                                 on_reorg=self.metrics.record_l1_reorg)
        chain = ChainServices(c, l1=l1, beacon=beacon, engine=engine, heads=self.heads, on_event=self._on_event,
                              metrics=self.metrics, derive=not light)
        self.chain = chain
        self.status, self.ctrl, self.l1data, self.l2data = chain.status, chain.ctrl, chain.l1data, chain.l2data
        self.pipeline, self.safedb, self.driver = chain.pipeline, chain.safedb, chain.driver
        self.ctrl.subscribe(self._on_heads)
        if c.sequencer.enabled:
            builder = AttributesBuilder(self.cfg, c.l1_chain_config, self.l1data, self.l2data)
            self.sequencer = Sequencer(self.cfg, self.ctrl, builder, self.driver, l1_confs=c.sequencer.l1_confs,
                                       max_safe_lag=c.sequencer.max_safe_lag, active=not c.sequencer.stopped,
                                       l1_head=lambda: None if self.heads.head is None else self.heads.head.number,
                                       on_sealed=self._publish, metrics=self.metrics,
                                       sealing_duration=c.sequencer.sealing_duration)
            if c.sequencer.recover:
                log.warn("sequencer is in recover mode")
                self.sequencer.recover = True
            if self.sequencer.active:
                self.sequencer.log_started()
            self.driver.hooks.append(self.sequencer.step)
            self.driver.deadlines.append(self.sequencer.seconds_until_next)
        if c.follow_source is not None:
            self.follow = FollowSource(c.follow_source.url, timeout=c.follow_source.rpc_timeout,
                                       interval=2 * self.cfg.block_time, l1_ref_by_number=l1.block_ref_by_number,
                                       ctrl=self.ctrl, driver=self.driver, status=self.status,
                                       sequencer=c.sequencer.enabled,
                                       count=self.metrics.record_follow_source,
                                       metrics=self.metrics.rpc_client("follow-source-api"))
            self.driver.hooks.append(self.follow.apply)
        if not c.p2p.disabled:
            self.p2p = await self._make_p2p(l1)
        rpc = RPCServer.for_node(c.rpc, RuntimeAPI(self), metrics=self.metrics, extra=self._p2p_methods())
        try:
            async with trio.open_nursery() as n:
                n.start_soon(cancel_on_signal, n.cancel_scope, log)
                await n.start(self.heads.run)
                if self.p2p is not None:
                    await n.start(self.p2p.run)
                    n.start_soon(self._reload_runtime_config, l1, self.p2p)
                # The driver's first reset reads the heads from the engine before the RPC serves them, so a light
                # node following this one never sees the zero heads of a node that has not looked yet.
                await n.start(self.driver.run)
                rpc_port = await n.start(rpc.run)
                metrics_port = None
                if c.metrics.enabled:
                    metrics_port = await n.start(self.metrics.serve, c.metrics.addr, c.metrics.port)
                if self.follow is not None:
                    n.start_soon(self.follow.run)
                n.start_soon(self._report_idle)
                self.ports = Ports(rpc_port, metrics_port)
                log.info("Rollup node started", rpc=f"http://{c.rpc.addr}:{rpc_port}", mode="light" if light else "source",
                         sequencer=bool(self.sequencer), unsafe=self.ctrl.unsafe.number, safe=self.ctrl.safe.number)
                task_status.started(self.ports)
        finally:
            chain.close()

    async def _make_p2p(self, l1: L1Client) -> GossipService | None:
        try:
            from p2p.service import GossipService
        except ModuleNotFoundError as e:
            if missing_extra(e) is None:
                raise
            # not unsafe to run without: unsafe blocks then come from derivation or the follow source only
            log.warn("Block gossip is off: it needs the opnode[p2p] extra (pip install 'opnode[p2p]'); "
                     "pass --p2p.disabled to silence this", missing=e.name)
            return None

        cfg = self.config.p2p
        try:
            signer = await unsafe_block_signer(l1.rpc.call, self.cfg.l1_system_config_address)
        except (RpcError, DerivationError, OSError) as e:
            log.warn("Cannot read the unsafe block signer from L1 yet", err=str(e))
            signer = None
        log.info("P2P", unsafe_block_signer="0x" + signer.hex() if signer else "unset (gossip ignored)")
        from p2p.errors import P2PError
        from p2p.keys import NodeKeyError

        try:
            return GossipService(self.cfg, cfg, unsafe_block_signer=signer, deliver=self.driver.submit_unsafe,
                                 metrics=self.metrics)
        except (P2PError, NodeKeyError) as e:  # the key file or the peerstore cannot be read or created
            raise StartupError(f"p2p: {e}") from None

    def _p2p_methods(self) -> dict[str, Method]:
        p2p = self.p2p
        if p2p is None:
            return {}
        from p2p import api

        def wrap(name: str) -> Method:
            async def handler(*params: Any) -> Any:
                try:
                    return await api.call(p2p, name, *params)
                except api.P2PApiError as e:
                    raise RpcError(e.code, str(e)) from None
            return Method(handler, 0, 2)

        return {name: wrap(name) for name in api.METHODS}

    async def _reload_runtime_config(self, l1: L1Client, p2p: GossipService) -> None:
        while True:
            await trio.sleep(self.config.runtime_config_reload_interval)
            try:
                signer = await unsafe_block_signer(l1.rpc.call, self.cfg.l1_system_config_address)
            except (RpcError, DerivationError, OSError) as e:
                log.warn("Failed to reload the runtime config", err=str(e))
                continue
            if signer != p2p.unsafe_block_signer:
                log.info("Unsafe block signer changed", signer="0x" + (signer or bytes(20)).hex())
                p2p.set_unsafe_block_signer(signer)

    def _publish(self, env: ExecutionPayloadEnvelope) -> None:
        if self.p2p is not None:
            self.p2p.submit(env)

    async def _report_idle(self) -> None:
        while True:
            self.metrics.set_derivation_idle(self.driver.idle)
            await trio.sleep(1)



def run_node(config: NodeConfig) -> int:
    """Run until a signal; the process exit code (0 clean, 1 on a start-up or critical error)."""
    return run_until_signal(OpNode(config).run, log)

