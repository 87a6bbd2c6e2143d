"""The derivation driver: the loop that steps the node's services (op-node's driver and sync deriver, as one trio
task). It steps the sans-IO pipeline, fetches what it asks for and hands its attributes to the engine controller,
which owns the L2 heads and tells its subscribers (the pipeline's L2 view, the status tracker) what it did; it runs
sync start on a reset, finality, the safe-head DB and the queued unsafe payloads (:mod:`.unsafe`).

One loop, no locks: reset when asked, sync forkchoice, insert queued unsafe payloads, finalize, then derive. When
derivation waits for L1 (the next block is not on L1 yet) or has nothing to do, the loop sleeps until something
wakes it: a new L1 head, a finality change, an unsafe payload, an admin call.

With ``--syncmode execution-layer`` derivation waits while the engine controller is in its initial EL sync and
restarts from the safe head the controller set when EL sync ended (op-node ``SyncDeriver.SyncStep``: "the pipeline
cannot move forwards if doing initial EL sync", op-node/rollup/driver/sync_deriver.go, okx/optimism@7573e762).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import trio

from derivation.pipeline import CriticalFailure, Needed, Pipeline, Progress, ResetRequired, StepResult, TemporaryFailure
from derivation.protocol.attributes import AttributesWithParent
from derivation.protocol.errors import CriticalError, ParseError, ResetError, TemporaryError
from derivation.protocol.payload import ExecutionPayloadEnvelope
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.types import L1BlockRef
from derivation.providers import DataKind, DataRequest, NeedData
from derivation.sync_start import find_l2_heads
from engine.controller import EngineController, Outcome
from opnode.node.logs import get_logger
from opnode.node.metrics import Metrics
from opnode.node.runtime.l1_data import NodeL1Source, NotYetOnL1
from opnode.node.runtime.l2_data import NodeL2Source
from opnode.node.runtime.safe_heads import SafeHeads
from opnode.node.runtime.unsafe import UnsafePayloads
from opnode.node.safedb import SafeDB
from opnode.node.sync_status import SyncStatusTracker

log = get_logger("opnode.driver")
T = TypeVar("T")

L2_KINDS = {DataKind.L2_BLOCK_BY_NUMBER, DataKind.L2_BLOCK_BY_HASH, DataKind.L2_SYSTEM_CONFIG,
            DataKind.L2_TRANSACTIONS}


class Driver:
    def __init__(self, cfg: RollupConfig, *, pipeline: Pipeline, ctrl: EngineController, l1: NodeL1Source,
                 l2: NodeL2Source, l1_finalized: Callable[[], L1BlockRef | None], safedb: SafeDB | None = None,
                 derive: bool = True, metrics: Metrics | None = None, el_sync: bool = False,
                 status: SyncStatusTracker | None = None,
                 on_attributes: Callable[[AttributesWithParent, Outcome], None] | None = None):
        self.cfg = cfg
        self.pipeline = pipeline
        self.ctrl = ctrl
        self.l1 = l1
        self.l2 = l2
        self.derive = derive
        self.metrics = metrics
        self.on_attributes = on_attributes or (lambda a, o: None)
        self.unsafe = UnsafePayloads(ctrl, el_sync=el_sync)
        self.reset_reason: str | None = "start-up"
        self.idle = False
        self.iterations = 0  # loop iterations so far (tests wait on it)
        self.status = status or SyncStatusTracker()  # told where derivation is on L1
        self.safe_heads = SafeHeads(ctrl, l1, l2, self.status, self.resolve, l1_finalized, safedb)
        self.attributes: AttributesWithParent | None = None  # derived, not yet taken by the engine
        self._wake = trio.Event()
        self.hooks: list[Callable[[], Awaitable[None]]] = []  # extra per-iteration work (sequencer, follow source)
        self.deadlines: list[Callable[[], float]] = []  # seconds until a hook wants to run again

    # -------------------------------------------------------------------------------------------- inputs

    def wake(self) -> None:
        self._wake.set()

    def request_reset(self, reason: str) -> None:
        self.reset_reason = reason
        self.wake()

    def submit_unsafe(self, env: ExecutionPayloadEnvelope) -> None:
        """A payload from gossip or ``admin_postUnsafePayload``; inserted when it builds on the unsafe head."""
        if self.unsafe.submit(env):
            self.wake()

    # -------------------------------------------------------------------------------------------- loop

    # Any as in opnode/jsonrpc/http.py: the installed trio-typing stubs (via pytest-trio) shadow trio's own types
    # and do not export trio.TaskStatus.
    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        started = False
        backoff = 0.25
        while True:
            self.iterations += 1
            try:
                if self.reset_reason is not None:
                    await self._reset()
                    if not started:
                        task_status.started()
                        started = True
                await self.ctrl.sync_forkchoice()
                await self.unsafe.insert()
                await self.safe_heads.finalize()
                for hook in self.hooks:
                    await hook()
                if self.ctrl.take_el_sync_finished():  # (any forkchoice update above may have ended it)
                    await self._restart_derivation()
                worked = await self._derive() if self.derive and not self.ctrl.initial_el_syncing else False
                backoff = 0.25
                if not worked:
                    await self._sleep(min([1.0, *(max(0.0, d()) for d in self.deadlines)]))
            except ResetError as e:
                log.warn("Derivation pipeline reset needed", err=str(e))
                self.reset_reason = str(e)
            except TemporaryError as e:
                log.warn("Derivation process temporary error", err=str(e), retry_in=backoff)
                await trio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            except (CriticalError, NeedData) as e:
                log.crit("Derivation process critical error", err=str(e))
                raise

    async def _sleep(self, timeout: float) -> None:
        self.idle = True
        with trio.move_on_after(timeout):
            await self._wake.wait()
        self._wake = trio.Event()
        self.idle = False

    async def resolve(self, fn: Callable[[], T]) -> T:
        """Run a pure lookup that may raise NeedData, fetching until it completes."""
        while True:
            try:
                return fn()
            except NeedData as need:
                await self._fetch(need.request)

    async def _fetch(self, req: DataRequest) -> None:
        try:
            if req.kind in L2_KINDS:
                await self.l2.fetch(req)
            else:
                await self.l1.fetch(req)
        except LookupError as e:
            raise TemporaryError(str(e)) from None
        except ParseError as e:  # a provider's answer of the wrong shape: ask again later, never halt on it
            raise TemporaryError(f"malformed answer to {req.kind.name}: {e}") from None

    # -------------------------------------------------------------------------------------------- reset

    async def _reset(self) -> None:
        reason, self.reset_reason = self.reset_reason, None
        self.attributes = None
        current = await self.ctrl.engine_heads()
        head = self.l1.confirmed_head()
        self.l1.forget_numbers()
        offset = self.ctrl.el_sync.offset_el_safe
        heads = await self.resolve(lambda: find_l2_heads(self.cfg, self.l1, -1 if head is None else head, self.l2,
                                                         current, offset))
        # op-node engine_controller.go: "Reset of Engine is completed" (okx/optimism@7573e762)
        log.info("Reset of Engine is completed", reason=reason, local_unsafe=heads.unsafe, local_safe=heads.safe,
                 cross_safe=heads.safe, finalized=heads.finalized)
        self.ctrl.force_heads(heads)
        await self.ctrl.sync_forkchoice()
        self.pipeline.reset(heads.safe)
        self.status.on_current_l1(self.pipeline.origin)
        await self.safe_heads.on_reset(heads.safe, current.safe)
        if self.metrics is not None:
            self.metrics.record_pipeline_reset()
        await self.ctrl.maybe_skip_el_sync()

    async def _restart_derivation(self) -> None:
        """EL sync ended: the controller moved every head to the synced chain; derivation goes on from its safe head
        (the pipeline resets onto it, as op-node's does once its engine holds the new heads)."""
        self.attributes = None
        self.l2.forget_numbers()
        self.pipeline.reset(self.ctrl.safe)
        await self.safe_heads.on_reset(self.ctrl.safe)
        if self.metrics is not None:
            self.metrics.record_pipeline_reset()

    # -------------------------------------------------------------------------------------------- derivation

    async def _derive(self) -> bool:
        if self.attributes is None:
            r = self.pipeline.step(self.ctrl.pending_safe)
            self.status.on_current_l1(self.pipeline.origin)
            if not isinstance(r, AttributesWithParent):
                return await self._on_step(r)
            self.attributes = r
        await self._process(self.attributes)
        return True

    async def _process(self, a: AttributesWithParent) -> None:
        """Hand derived attributes to the engine. They are kept until the engine took them: a temporary engine
        error (an engine restarting) leaves them for the next try, as the pipeline has moved past their batch and
        will not produce them again; a reset drops them (op-node ``AttributesHandler``, optimism
        op-node/rollup/attributes/attributes.go, 2026: ``EngineTemporaryErrorEvent`` only clears ``sentAttributes``,
        ``ResetEvent`` clears ``attributes``)."""
        # local-safe: the safe head of a plain node, what a supernode's chain derived (its safe is cross-safe)
        before = self.ctrl.heads.local_safe
        outcome = await self.ctrl.process_attributes(a)
        self.attributes = None
        if outcome is Outcome.DEPOSITS_ONLY:
            self.pipeline.flush_channel()
        safe = self.ctrl.heads.local_safe
        if safe != before:
            await self.safe_heads.on_safe(safe, a.derived_from)
        self.on_attributes(a, outcome)

    async def _on_step(self, r: StepResult) -> bool:
        if isinstance(r, Needed):
            try:
                await self._fetch(r.request)
            except NotYetOnL1:  # op-node's io.EOF: derivation is idle at the L1 head
                await self.safe_heads.on_derivation_idle(self.pipeline.origin)
                return False
            return True
        if isinstance(r, Progress):
            await trio.sleep(0)
            return True
        if isinstance(r, ResetRequired):
            raise ResetError(r.reason)
        if isinstance(r, TemporaryFailure):
            raise TemporaryError(r.reason)
        if isinstance(r, CriticalFailure):
            raise CriticalError(r.reason)
        raise CriticalError(f"unexpected pipeline result {r!r}")
