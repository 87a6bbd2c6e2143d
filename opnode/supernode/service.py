"""The supernode process (op-supernode ``supernode.New``: one shared L1 client and beacon client, one container per
chain, activities, one HTTP server; karlfloersch/optimism @f0b2b80e ``op-supernode/supernode/``).

- **One L1 view**: one :class:`~opnode.node.l1.client.L1Client` (blocks, transactions and receipts cached by hash,
  sized by ``--vn.all.l1.cache-size``, one number index), one beacon client and one
  :class:`~opnode.node.l1.heads.HeadTracker` whose single head/safe/finalized poll is fanned out to every chain
  (op-supernode polls once per virtual node: its #20074 measured 1.9–2.6x the L1 requests of separate op-nodes).
- **A container per chain** (:class:`ChainContainer`): the node's own :class:`~opnode.node.runtime.chain.ChainServices`
  over the shared L1 view and the chain's engine over the Engine API, its safe-head DB forced on under
  ``<data-dir>/<chainID>/``, its controller in cross-safe mode (safe = verified) with the shared denylist.
- **The verifier** (:mod:`opnode.supernode.verifier`) and its store ``<data-dir>/interop.sqlite``.
- **RPC on one port** (:mod:`opnode.supernode.router`): ``/<chainID>`` the chain's op-node API, ``/`` the
  supernode's own methods.

A failing chain stops the process (a crash of a chain's driver propagates out of the nursery), as lokahi does; the
restart resumes from the engines and the interop store. op-supernode restarts only that chain's virtual node.
"""

from __future__ import annotations

import signal
from contextlib import AsyncExitStack

import trio

from derivation.events import Dropped, Event, PipelineReset
from derivation.protocol.errors import CriticalError, DerivationError
from derivation.protocol.rollup_config import Fork
from derivation.protocol.types import BlockID, L1BlockRef, L2BlockRef
from engine.client import EngineClient
from engine.controller import EngineController
from opnode.node.config import NodeConfig
from opnode.node.l1.beacon import BeaconClient
from opnode.node.l1.client import L1Client
from opnode.node.l1.heads import HeadTracker
from opnode.node.l2_reader import L2Reader
from opnode.node.logs import get_logger
from opnode.node.metrics import Metrics
from opnode.node.runtime.chain import ChainServices, StartupError, check_chain
from opnode.node.safedb import SafeHeadNotFound
from opnode.supernode.config import SupernodeConfig
from opnode.supernode.decisions import FrontierBlock
from opnode.supernode.store import InteropStore, StoreError
from opnode.supernode.verifier import Verifier

log = get_logger("opnode.supernode")


class ChainContainer:
    """One chain of the set: its services over the shared L1 view, its engine, and the verifier's hooks into it.
    Changes the verifier makes to the chain's heads (rewinds) run inside the chain's driver loop, between its
    steps, so nothing moves the heads under a derivation step (op-supernode pauses the virtual node instead)."""

    def __init__(self, chain_id: int, config: NodeConfig, store: InteropStore):
        self.chain_id = chain_id
        self.config = config
        self.cfg = config.rollup
        self.store = store
        self.p2p = None
        self.sequencer = None
        self._actions: list[tuple[object, trio.Event]] = []

    async def open(self, stack: AsyncExitStack, l1: L1Client, beacon, heads: HeadTracker) -> None:
        c = self.config
        self.engine = EngineClient(c.l2.url, c.l2.jwt_secret, self.cfg, timeout=c.l2.rpc_timeout)
        stack.push_async_callback(self.engine.aclose)
        self.l2_reader = L2Reader(c.l2.url, jwt_secret=c.l2.jwt_secret, timeout=c.l2.rpc_timeout)
        stack.push_async_callback(self.l2_reader.aclose)
        try:
            await check_chain(self.cfg, l1, self.engine)
        except StartupError as e:
            raise StartupError(f"chain {self.chain_id}: {e}") from None
        ctrl = EngineController(self.cfg, self.engine, cross_safe_gate=True,
                                denied=lambda n, h: self.store.denied(self.chain_id, n, h))
        self.services = ChainServices(c, l1=l1, beacon=beacon, engine=self.engine, heads=heads,
                                      on_event=self._on_event, ctrl=ctrl)
        stack.callback(self.services.close)
        s = self.services
        self.status, self.ctrl, self.driver, self.safedb = s.status, s.ctrl, s.driver, s.safedb
        self.driver.hooks.append(self._run_actions)
        self.driver.safe_heads.verified_safe = self._verified_head

    def _verified_head(self) -> BlockID | None:
        last = self.store.last_verified()
        return None if last is None else last.heads.get(self.chain_id)

    def _on_event(self, ev: Event) -> None:
        if isinstance(ev, Dropped):
            log.warn("Dropped " + ev.what, chain=self.chain_id, reason=ev.reason.value, detail=ev.message)
        elif isinstance(ev, PipelineReset):
            log.info("Derivation pipeline reset", chain=self.chain_id, origin=ev.l1.number, why=ev.reason)

    # -------------------------------------------------------------------------------------------- verifier hooks

    def local_safe(self) -> L2BlockRef:
        return self.ctrl.heads.local_safe

    async def block(self, number: int) -> dict | None:
        return await self.l2_reader.call("eth_getBlockByNumber", hex(number), False)

    async def receipts(self, block_hash: bytes) -> list[dict]:
        # by EIP-1898 object: geth also takes a bare hash here, the embedded engine only the object
        return await self.l2_reader.call("eth_getBlockReceipts", {"blockHash": "0x" + block_hash.hex()}) or []

    def l1_inclusion(self, number: int) -> BlockID | None:
        row = self.safedb.l1_at_safe_head(number)
        return None if row is None else row.l1

    async def set_cross_safe(self, head: BlockID) -> None:
        if head.number <= self.ctrl.safe.number:
            return  # every round asks again: no engine call for what is already cross-safe
        ref = await self.ctrl.block_ref(head.hash)
        if ref is not None and self.ctrl.set_cross_safe(ref):
            self.driver.wake()  # the driver's loop sends the forkchoice update

    def safe_head_at_l1(self, l1_number: int) -> BlockID | None:
        try:
            return self.safedb.safe_head_at(l1_number).safe_head
        except SafeHeadNotFound:
            return None

    async def finalize(self, head: BlockID) -> None:
        if head.number <= self.ctrl.finalized.number:
            return
        ref = await self.ctrl.block_ref(head.hash)
        if ref is not None and self.ctrl.finalize(ref):
            self.driver.wake()

    async def invalidate(self, block: FrontierBlock) -> None:
        async def act():
            ours = await self.ctrl.block_ref(block.number)
            if ours is None or ours.hash != block.hash:
                return  # already replaced (a resumed decision)
            parent = await self.ctrl.block_ref(block.parent_hash)
            if parent is None:
                raise CriticalError(f"chain {self.chain_id}: the engine lost block {block.number - 1}")
            log.warn("Invalid block: re-deriving it as deposits only", chain=self.chain_id, number=block.number,
                     hash="0x" + block.hash.hex())
            self.ctrl.rewind_to(parent, self.ctrl.safe)
            await self.ctrl.sync_forkchoice()
            self.driver.request_reset(f"block {block.number} invalidated by interop verification")
        await self._in_driver(act)

    async def rewind(self, head: BlockID | None) -> None:
        async def act():
            target = None if head is None else await self.ctrl.block_ref(head.hash)
            if target is None:
                target = await self.ctrl.block_ref(self.cfg.genesis.l2.hash)
            self.ctrl.rewind_to(self.ctrl.unsafe, target)
            await self.ctrl.sync_forkchoice()
            self.driver.request_reset("interop verification rewound (L1 reorg)")
        await self._in_driver(act)

    async def _in_driver(self, fn) -> None:
        done = trio.Event()
        self._actions.append((fn, done))
        self.driver.wake()
        await done.wait()

    async def _run_actions(self) -> None:
        while self._actions:
            fn, done = self._actions.pop(0)
            try:
                await fn()
            finally:
                done.set()


class Supernode:
    def __init__(self, config: SupernodeConfig, metrics: Metrics | None = None):
        self.config = config
        self.metrics = metrics or Metrics()
        self.chains: dict[int, ChainContainer] = {}
        self.port: int | None = None
        self.metrics_port: int | None = None
        self.l1: L1Client | None = None
        self.verifier: Verifier | None = None

    def _on_l1(self, name: str, ref: L1BlockRef) -> None:
        for chain in self.chains.values():
            chain.services.on_l1(name, ref)
        if self.verifier is not None:
            self.verifier.wake()

    async def _l1_canonical(self, block: BlockID) -> bool:
        ref = await self.l1.block_ref_by_number(block.number)
        return ref.hash == block.hash

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        c = self.config
        c.data_dir.mkdir(parents=True, exist_ok=True)
        for cid in c.chain_ids:
            c.chain_dir(cid).mkdir(parents=True, exist_ok=True)
        try:
            store = InteropStore(c.interop_db)
        except StoreError as e:
            raise StartupError(str(e)) from None
        async with AsyncExitStack() as stack:
            stack.callback(store.close)
            self.store = store
            l1 = self.l1 = await stack.enter_async_context(L1Client.open(c.l1, self.metrics))
            beacon = None
            if c.beacon.url:
                beacon = BeaconClient(c.beacon, metrics=self.metrics)
                stack.push_async_callback(beacon.aclose)
                if not c.beacon.ignore and not await beacon.check():
                    raise StartupError(f"the beacon endpoint {c.beacon.url} does not answer")
            heads = HeadTracker(l1, on_change=self._on_l1)
            for cid in c.chain_ids:
                chain = ChainContainer(cid, c.chains[cid], store)
                try:
                    await chain.open(stack, l1, beacon, heads)
                except (DerivationError, OSError) as e:
                    raise StartupError(f"chain {cid}: {e}") from None
                self.chains[cid] = chain
            configs = {cid: _with_activation(ch.cfg, c.activation_time) for cid, ch in self.chains.items()}
            self.verifier = Verifier(self.chains, store, c.dependency_set, configs, c.activation_time,
                                     self._l1_canonical,
                                     lambda: None if heads.finalized is None else heads.finalized.id)
            from opnode.supernode.router import supernode_server

            server = supernode_server(self)
            async with trio.open_nursery() as n:
                n.start_soon(_watch_signals, n.cancel_scope)
                await n.start(heads.run)
                for chain in self.chains.values():
                    await n.start(chain.driver.run)
                await n.start(self.verifier.run)
                self.port = await n.start(server.run)
                if c.metrics.enabled:
                    self.metrics_port = await n.start(self.metrics.serve, c.metrics.addr, c.metrics.port)
                    log.info("Metrics server started", addr=f"http://{c.metrics.addr}:{self.metrics_port}")
                log.info("Supernode started", rpc=f"http://{c.rpc.addr}:{self.port}",
                         chains=",".join(map(str, c.chain_ids)),
                         activation="none" if c.activation_time is None else c.activation_time)
                task_status.started(self.port)


def _with_activation(cfg, activation: int | None):
    """The rollup config the verifier checks messages against: interop active from the supernode's activation
    time (``--interop.activation-timestamp`` may set it for chains whose config does not schedule Lagoon)."""
    if activation is None or cfg.fork_time(Fork.LAGOON) == activation:
        return cfg
    return cfg.with_fork_times({Fork.LAGOON: activation})


async def _watch_signals(scope: trio.CancelScope) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for sig in signals:
            log.info("Shutting down", signal=signal.Signals(sig).name)
            scope.cancel()
            return


def run_supernode(config: SupernodeConfig) -> int:
    """Run until a signal; the exit code (0 clean, 1 on a start-up or critical error)."""
    code = 0
    try:
        trio.run(Supernode(config).run)
    except* StartupError as group:
        log.crit(f"Cannot start: {group.exceptions[0]}")
        code = 1
    except* CriticalError as group:
        log.crit(f"Derivation halted: {group.exceptions[0]}")
        code = 1
    return code

