"""One chain's node services over an L1 view it may share: the status tracker, the engine controller (one owner of
the chain's L2 heads), derivation's L1 and L2 providers, the pipeline, the safe-head DB and the driver; and the
start-up checks of a chain's endpoints. ``opnode node`` builds one; ``opnode supernode`` one per chain of its set,
all over one :class:`~opnode.node.l1.client.L1Client` and one head poll (op-supernode ``ChainContainer`` around a
virtual op-node; issue 16)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from derivation.events import Event
from derivation.pipeline import Pipeline
from derivation.protocol.errors import DerivationError
from derivation.protocol.hexutil import parse_quantity
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.types import L1BlockRef
from engine.client import EngineClient
from engine.controller import EngineController
from engine.el_sync import ELSyncConfig
from engine.finality import FINALITY_LOOKBACK, FinalityTracker
from opnode.node.config import NodeConfig
from opnode.node.l1.beacon import BeaconClient
from opnode.node.l1.client import L1Client
from opnode.node.l1.heads import HeadTracker
from opnode.node.metrics import Metrics
from opnode.node.runtime.driver import Driver
from opnode.node.runtime.l1_data import NodeL1Source
from opnode.node.runtime.l2_data import NodeL2Source
from opnode.node.safedb import SafeDB
from opnode.node.sync_status import SyncStatusTracker

log = logging.getLogger("opnode.node")


class StartupError(Exception):
    """The node cannot start: a misconfiguration or an endpoint on the wrong chain (one line for the user)."""


async def check_endpoints(cfg: RollupConfig, l1: L1Client, engine: EngineClient) -> None:
    """The L1 and the engine are the rollup config's chains (op-node ``initL1``/``initL2`` checks)."""
    chain = await l1.chain_id()
    if chain != cfg.l1_chain_id:
        raise StartupError(f"incorrect L1 RPC chain id {chain}, expected {cfg.l1_chain_id}")
    if await l1.detect_anvil():
        log.info("L1 is anvil: blob transactions are checked against its network-form transactions root")
    genesis = await l1.block_ref_by_number(cfg.genesis.l1.number)
    if genesis.hash != cfg.genesis.l1.hash:
        raise StartupError(f"incorrect L1 genesis block hash 0x{genesis.hash.hex()}, expected "
                           f"0x{cfg.genesis.l1.hash.hex()}")
    l2_chain = parse_quantity(await engine.call("eth_chainId"))
    if l2_chain != cfg.l2_chain_id:
        raise StartupError(f"incorrect L2 RPC chain id {l2_chain}, expected {cfg.l2_chain_id}")
    l2_genesis = await engine.block(cfg.genesis.l2.number)
    if l2_genesis is None or l2_genesis["hash"] != "0x" + cfg.genesis.l2.hash.hex():
        got = None if l2_genesis is None else l2_genesis["hash"]
        raise StartupError(f"incorrect L2 genesis block hash {got}, expected 0x{cfg.genesis.l2.hash.hex()}")


async def check_derivation_limit(cfg: RollupConfig, l1: L1Client, engine: EngineClient) -> None:
    """A bundled config that stops describing its chain (Base after Azul) refuses to start once the L1 head or the
    engine's head is past that time: deriving on would silently follow the wrong rules."""
    limit = cfg.derivation_limit
    if limit is None:
        return
    l1_head = await l1.block_ref_by_label("latest")
    latest = await engine.block("latest")
    l2_time = 0 if latest is None else parse_quantity(latest["timestamp"])
    t = max(l1_head.time, l2_time)
    if t >= limit.time:
        raise StartupError(limit.message(t))


async def check_chain(cfg: RollupConfig, l1: L1Client, engine: EngineClient) -> None:
    try:
        await check_endpoints(cfg, l1, engine)
        await check_derivation_limit(cfg, l1, engine)
    except (DerivationError, OSError) as e:
        raise StartupError(f"cannot check the L1/L2 endpoints: {e}") from None


def el_sync_config(config: NodeConfig, derive: bool) -> ELSyncConfig:
    """The initial EL sync of ``--syncmode execution-layer`` (:mod:`engine.el_sync`) runs on a verifier that
    derives. A light node takes its safe and finalized heads from its source, and a sequencer inserts its own blocks
    (never a payload that would end the initial EL sync): both only have their engine fill gaps by EL sync
    (:mod:`opnode.node.runtime.unsafe`)."""
    enabled = config.sync.el_sync and derive and config.follow_source is None and not config.sequencer.enabled
    return ELSyncConfig(enabled=enabled, engine_kind=config.l2.kind, offset_el_safe=config.sync.offset_el_safe)


class ChainServices:
    """A chain's services, wired: the controller tells the status tracker and the pipeline's L2 view what it did;
    :meth:`on_l1` is the chain's share of the (possibly shared) L1 head poll."""

    def __init__(self, config: NodeConfig, *, l1: L1Client, beacon: BeaconClient | None, engine: EngineClient,
                 heads: HeadTracker, on_event: Callable[[Event], None], metrics: Metrics | None = None,
                 derive: bool = True, ctrl: EngineController | None = None):
        cfg = config.rollup
        self.status = SyncStatusTracker()
        self.ctrl = ctrl or EngineController(cfg, engine, el_sync=el_sync_config(config, derive))
        self.ctrl.subscribe(self.status.on_l2)
        self.l1data = NodeL1Source(l1, beacon, confirmed_head=lambda: heads.confirmed_head)
        self.l2data = NodeL2Source(cfg, engine, controller=self.ctrl)
        self.pipeline = Pipeline(cfg, config.l1_chain_config, self.l1data, self.l2data, on_event)
        self.safedb = SafeDB(config.safedb_path) if config.safedb_path and derive else None
        self.driver = Driver(cfg, pipeline=self.pipeline, ctrl=self.ctrl, l1=self.l1data, l2=self.l2data,
                             l1_finalized=lambda: heads.finalized, safedb=self.safedb, derive=derive,
                             metrics=metrics, el_sync=config.sync.el_sync, status=self.status)
        # --finality.lookback, --finality.delay (op-node finality.Config)
        self.driver.safe_heads.finality = FinalityTracker(config.finality_lookback or FINALITY_LOOKBACK,
                                                          config.finality_delay)

    def on_l1(self, name: str, ref: L1BlockRef) -> None:
        self.status.on_l1(name, ref)
        self.driver.wake()

    def close(self) -> None:
        if self.safedb is not None:
            self.safedb.close()
