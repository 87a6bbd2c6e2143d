"""What follows the safe head in the node: finality (an L2 block is final once the L1 block it was derived from
is final: :class:`engine.finality.FinalityTracker`, op-node ``finality.Finalizer``) and the safe-head DB
(``--safedb.path``, op-node ``safedb``), as one service the driver steps.

The safe DB row is written only once the engine holds the safe head: a forkchoice update it answered VALID (an
engine answering SYNCING has not taken the labels; the rows wait for the next VALID one). The rows are the
*local*-safe heads, what derivation produced from each L1 block: on a plain node local-safe is safe; on a
supernode's chain safe is the cross-safe head, which the verifier moves only after reading these rows (the L1
inclusion of each local-safe block), so waiting for safe there would wait forever. op-node writes its safe DB
on ``SafeDerivedEvent``, before the forkchoice update; we write after it, so that a node killed in between restarts
from an engine and a DB that agree (issue 18). On a reset the DB's last row, while its L1 and L2 blocks are still
canonical, stays the safe head the status tracker reports until derivation is back there: what the RPC reported
never goes backwards across a restart without an L1 reorg.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from derivation.protocol.errors import ResetError
from derivation.protocol.types import BlockID, L1BlockRef, L2BlockRef
from derivation.providers import L1Source, L2Source
from engine.controller import EngineController
from engine.finality import FinalityTracker
from opnode.node.safedb import SafeDB
from opnode.node.sync_status import SyncStatusTracker

T = TypeVar("T")


class Resolver(Protocol):
    """Runs a pure provider lookup that may raise NeedData, fetching until it completes (:meth:`Driver.resolve`)."""

    def __call__(self, fn: Callable[[], T]) -> Awaitable[T]: ...


class SafeHeads:
    def __init__(self, ctrl: EngineController, l1: L1Source, l2: L2Source, status: SyncStatusTracker, resolve: Resolver,
                 l1_finalized: Callable[[], L1BlockRef | None], safedb: SafeDB | None = None):
        self.ctrl = ctrl
        self.l1 = l1  # derivation's L1 provider (canonical checks by number)
        self.l2 = l2  # the pipeline's L2 view
        self.status = status
        self.resolve = resolve  # runs a provider lookup, fetching until it completes (Driver.resolve)
        self.l1_finalized = l1_finalized
        self.safedb = safedb
        self.finality = FinalityTracker()
        self._unrecorded: list[tuple[L1BlockRef, L2BlockRef]] = []  # safe heads the engine has not acknowledged
        self._kept = -1  # after a reset: the DB's rows up to this L2 number stand (derivation re-derives them)
        # A supernode's chain: its last verified (cross-safe) head in the interop store, which a reset must not
        # report below while it is still the engine's block (set by opnode.supernode.service.ChainContainer).
        self.verified_safe: Callable[[], BlockID | None] | None = None

    async def on_safe(self, safe: L2BlockRef, derived_from: L1BlockRef) -> None:
        """The safe head moved to ``safe`` while deriving from ``derived_from``."""
        self.finality.on_safe(safe, derived_from)
        if self.safedb is not None:
            self._unrecorded.append((derived_from, safe))
            await self.record()

    async def record(self) -> None:
        """Write the safe heads the engine now holds (forkchoice synced: VALID) to the safe DB, in order."""
        if self.safedb is None or not self._unrecorded or not await self.ctrl.sync_forkchoice():
            return
        held = self.ctrl.heads.local_safe.number
        while self._unrecorded and self._unrecorded[0][1].number <= held:
            l1, l2 = self._unrecorded.pop(0)
            if l2.number > self._kept:  # rewriting a kept row would drop the rows after it until derived again
                self.safedb.record(l1.id, l2.id)

    async def on_reset(self, safe: L2BlockRef, engine_safe: L2BlockRef | None = None) -> None:
        """A reset moved the safe head (back) to ``safe`` (op-node ``SafeHeadReset``). While the DB's last row is
        canonical (its L1 and L2 blocks), its rows stand: the status reports that row until derivation is back there
        and derivation does not write them again (the chaos suite's invariant: the DB loses no record without an L1
        reorg). Otherwise the rows above ``safe`` go, as op-node truncates them.

        Without a DB (a light node, a sequencer without ``--safedb.path``) the engine's safe label from before the
        reset, ``engine_safe``, is what this node last reported (the status tracker publishes only what a VALID
        forkchoice update took): while it and its L1 origin are canonical it is held the same way. A kill -9 and
        restart then answers no lower safe head than before (issue 18: a light node answered 232, then 223)."""
        self.finality.reset()
        self._unrecorded.clear()
        self._kept = -1
        self.status.hold(None)
        if self.ctrl.cross_safe_gate:
            await self._hold_verified(safe)
        if self.safedb is None:
            if engine_safe is not None and engine_safe.number > safe.number and not self.ctrl.cross_safe_gate:
                await self._hold_engine_safe(engine_safe)
            return
        row = self.safedb.latest()
        # A supernode's chain reports cross-safe as safe: what it derived before is local-safe only.
        if row is not None and row.safe_head.number > safe.number and not self.ctrl.cross_safe_gate:
            l1 = await self.resolve(lambda: self.l1.block_by_number(row.l1.number))
            l2 = await self.resolve(lambda: self.l2.block_ref_by_number(row.safe_head.number))
            if l1.hash == row.l1.hash and l2.hash == row.safe_head.hash:
                self.status.hold(l2)
                self._kept = l2.number
                return
        self.safedb.truncate_after(safe)

    async def _hold_engine_safe(self, held: L2BlockRef) -> None:
        l1 = await self.resolve(lambda: self.l1.block_by_number(held.l1_origin.number))
        l2 = await self.resolve(lambda: self.l2.block_ref_by_number(held.number))
        if l1.hash == held.l1_origin.hash and l2.hash == held.hash:
            self.status.hold(l2)

    async def _hold_verified(self, safe: L2BlockRef) -> None:
        """A supernode's chain restarts derivation below its last verified head (sync start walks back a sequencing
        window): that head stays the reported safe head while it is still the engine's block, until cross-safe is
        back there, so safe never goes down across a restart (proxyd bans a backend whose safe head decreases). An
        L1 reorg under it makes the verifier rewind: the chain's unsafe head goes below the head it dropped."""
        got = None if self.verified_safe is None else self.verified_safe()
        if got is None or got.number <= safe.number or got.number > self.ctrl.unsafe.number:
            return  # above the unsafe head: a rewind in progress, the store is about to drop it
        ours = await self.ctrl.block_ref(got.number)
        if ours is not None and ours.hash == got.hash:
            self.status.hold(ours)

    async def finalize(self) -> None:
        """Record what the engine holds; on a new L1 finality signal, try to finalize. A supernode's chain leaves
        finality to its verifier: a cross-safe block is final only when the L1 blocks of everything it depends on
        are (op-supernode: the verified head whose L1 inclusion is finalized)."""
        await self.record()
        if self.ctrl.cross_safe_gate:
            return
        fin = self.l1_finalized()
        if fin is not None and self.finality.on_l1_finalized(fin):
            await self._try_finalize()

    async def on_derivation_idle(self, origin: L1BlockRef | None) -> None:
        """Derivation is idle at the L1 head, at ``origin``: try to finalize unless it tried recently
        (``--finality.delay``, :class:`engine.finality.FinalityTracker`)."""
        if origin is not None and not self.ctrl.cross_safe_gate and self.finality.on_derivation_idle(origin):
            await self._try_finalize()

    async def _try_finalize(self) -> None:
        """Finalize the highest safe block derived from finalized L1 data, if its L1 block is still canonical
        (op-node ``tryFinalize``)."""
        fin = self.finality.finalized_l1
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
