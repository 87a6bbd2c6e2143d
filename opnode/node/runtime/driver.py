"""The derivation driver: steps the sans-IO pipeline, fetches what it asks for, hands its attributes to the engine
controller, and keeps sync start, finality, the safe-head DB and unsafe payloads in step (op-node's driver and
sync deriver, as one trio task).

One loop, no locks: reset when asked, sync forkchoice, insert queued unsafe payloads, finalize, then derive. When
derivation waits for L1 (the next block is not on L1 yet) or has nothing to do, the loop sleeps until something
wakes it: a new L1 head, a finality change, an unsafe payload, an admin call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import trio

from derivation.pipeline import CriticalFailure, Needed, Pipeline, Progress, ResetRequired, TemporaryFailure
from derivation.protocol.attributes import AttributesWithParent
from derivation.protocol.errors import CriticalError, ResetError, TemporaryError
from derivation.protocol.payload import ExecutionPayloadEnvelope
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.types import L1BlockRef
from derivation.providers import DataKind, NeedData
from derivation.sync_start import find_l2_heads
from engine.controller import EngineController, Outcome
from engine.finality import FinalityTracker
from opnode.node.runtime.l1_data import NodeL1Source, NotYetOnL1
from opnode.node.runtime.l2_data import NodeL2Source

log = logging.getLogger("opnode.driver")

L2_KINDS = {DataKind.L2_BLOCK_BY_NUMBER, DataKind.L2_BLOCK_BY_HASH, DataKind.L2_SYSTEM_CONFIG,
            DataKind.L2_TRANSACTIONS}
MAX_QUEUED_UNSAFE = 512
UNSAFE_RETRY = 0.5  # seconds before offering the engine a payload it could not take yet


class Driver:
    def __init__(self, cfg: RollupConfig, *, pipeline: Pipeline, ctrl: EngineController, l1: NodeL1Source,
                 l2: NodeL2Source, l1_finalized: Callable[[], L1BlockRef | None], safedb=None, derive: bool = True,
                 metrics=None, el_sync: bool = False,
                 on_attributes: Callable[[AttributesWithParent, Outcome], None] | None = None):
        self.cfg = cfg
        self.pipeline = pipeline
        self.ctrl = ctrl
        self.l1 = l1
        self.l2 = l2
        self.l1_finalized = l1_finalized
        self.safedb = safedb
        self.derive = derive
        self.metrics = metrics
        self.el_sync = el_sync
        self.on_attributes = on_attributes or (lambda a, o: None)
        self.finality = FinalityTracker()
        self.unsafe_queue: dict[bytes, ExecutionPayloadEnvelope] = {}
        self._unsafe_retry_at = 0.0
        self.reset_reason: str | None = "start-up"
        self.idle = False
        self.iterations = 0  # loop iterations so far (tests wait on it)
        self.current_l1: L1BlockRef | None = None  # overridden by the follow source when deriving is off
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
        if len(self.unsafe_queue) >= MAX_QUEUED_UNSAFE:
            lowest = min(self.unsafe_queue.values(), key=lambda e: e.number)
            if env.number >= lowest.number:
                return
            del self.unsafe_queue[lowest.block_hash]
        self.unsafe_queue[env.block_hash] = env
        self.wake()

    # -------------------------------------------------------------------------------------------- loop

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
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
                await self._insert_unsafe()
                await self._finalize()
                for hook in self.hooks:
                    await hook()
                worked = await self._derive() if self.derive else False
                backoff = 0.25
                if not worked:
                    await self._sleep(min([1.0, *(max(0.0, d()) for d in self.deadlines)]))
            except ResetError as e:
                log.warning("reset needed: %s", e)
                self.reset_reason = str(e)
            except TemporaryError as e:
                log.warning("temporary error, retrying in %.1fs: %s", backoff, e)
                await trio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            except (CriticalError, NeedData) as e:
                log.critical("derivation halted: %s", e)
                raise

    async def _sleep(self, timeout: float) -> None:
        self.idle = True
        with trio.move_on_after(timeout):
            await self._wake.wait()
        self._wake = trio.Event()
        self.idle = False

    async def resolve(self, fn):
        """Run a pure lookup that may raise NeedData, fetching until it completes."""
        while True:
            try:
                return fn()
            except NeedData as need:
                await self._fetch(need.request)

    async def _fetch(self, req) -> None:
        try:
            if req.kind in L2_KINDS:
                await self.l2.fetch(req)
            else:
                await self.l1.fetch(req)
        except LookupError as e:
            raise TemporaryError(str(e)) from None

    # -------------------------------------------------------------------------------------------- reset

    async def _reset(self) -> None:
        reason, self.reset_reason = self.reset_reason, None
        current = await self.ctrl.engine_heads()
        head = self.l1.confirmed_head()
        self.l1.forget_numbers()
        self.l2.forget_numbers()
        heads = await self.resolve(lambda: find_l2_heads(self.cfg, self.l1, -1 if head is None else head, self.l2,
                                                         current))
        log.info("reset (%s): unsafe %d, safe %d, finalized %d", reason, heads.unsafe.number, heads.safe.number,
                 heads.finalized.number)
        self.ctrl.force_heads(heads)
        await self.ctrl.sync_forkchoice()
        self.pipeline.reset(heads.safe)
        self.finality.reset()
        if self.safedb is not None:
            self.safedb.truncate_after(heads.safe)
        if self.metrics is not None:
            self.metrics.record_pipeline_reset()

    # -------------------------------------------------------------------------------------------- derivation

    async def _derive(self) -> bool:
        r = self.pipeline.step(self.ctrl.pending_safe)
        if isinstance(r, AttributesWithParent):
            before = self.ctrl.safe
            outcome = await self.ctrl.process_attributes(r)
            if outcome is Outcome.DEPOSITS_ONLY:
                self.pipeline.flush_channel()
            if outcome is not Outcome.STALE:
                self.l2.forget_numbers(r.parent.number)
            if self.ctrl.derived is not None:
                self.l2.add_derived(self.ctrl.derived)
            safe = self.ctrl.safe
            if safe != before:
                self.finality.on_safe(safe, r.derived_from)
                if self.safedb is not None:
                    self.safedb.record(r.derived_from.id, safe.id)
            self.on_attributes(r, outcome)
            return True
        if isinstance(r, Needed):
            try:
                await self._fetch(r.request)
            except NotYetOnL1:
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

    # -------------------------------------------------------------------------------------------- unsafe

    async def _insert_unsafe(self) -> None:
        if trio.current_time() < self._unsafe_retry_at:
            return
        while True:
            safe, unsafe = self.ctrl.safe, self.ctrl.unsafe
            for h, env in list(self.unsafe_queue.items()):
                if env.number <= safe.number:
                    del self.unsafe_queue[h]
            nxt = [e for e in self.unsafe_queue.values() if e.parent_hash == unsafe.hash]
            if not nxt:
                await self._el_sync_over_gap(unsafe)
                break
            env = nxt[0]
            # A payload the engine cannot take yet (SYNCING while it catches up to the head a follow source set)
            # stays queued and is tried again on the next iteration, as op-node's CL sync keeps it; the rest of
            # the loop (the follow source's updates) goes on meanwhile.
            try:
                inserted = await self.ctrl.insert_unsafe(env)
            except TemporaryError as e:
                log.info("unsafe payload %d not inserted yet: %s", env.number, e)
                self._unsafe_retry_at = trio.current_time() + UNSAFE_RETRY
                return
            self.unsafe_queue.pop(env.block_hash, None)
            if inserted:
                self.l2.forget_numbers(env.number - 1)
                await self.ctrl.sync_forkchoice()

    async def _el_sync_over_gap(self, unsafe) -> None:
        """With EL sync, the lowest queued payload past the unsafe head is handed to the engine, which fills the
        gap from its peers; without it the gap waits for derivation (no req-resp sync here)."""
        ahead = [e for e in self.unsafe_queue.values() if e.number > unsafe.number + 1]
        if not self.el_sync or not ahead or self.ctrl.el_syncing:
            return
        env = min(ahead, key=lambda e: e.number)
        if await self.ctrl.el_sync_to(env):
            log.info("unsafe payload %d is past the unsafe head %d: the engine syncs the gap", env.number,
                     unsafe.number)
        self.unsafe_queue.pop(env.block_hash, None)
        await self.ctrl.sync_forkchoice()

    # -------------------------------------------------------------------------------------------- finality

    async def _finalize(self) -> None:
        fin = self.l1_finalized()
        if fin is None:
            return
        rec = self.finality.candidate(fin)
        if rec is None or rec.l2.number <= self.ctrl.finalized.number:
            return
        canonical = await self.resolve(lambda: self.l1.block_by_number(rec.derived_from.number))
        if canonical.hash != rec.derived_from.hash:
            raise ResetError(f"L1 block {rec.derived_from.number} that L2 block {rec.l2.number} was derived from "
                             "is no longer canonical")
        if self.ctrl.finalize(rec.l2):
            self.finality.prune(rec.l2)
