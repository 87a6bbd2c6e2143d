"""The engine controller: the only owner of the L2 heads (specs: derivation.md "Engine Queue", holocene/
derivation.md "Engine Queue"; op-node ``engine.EngineController`` and the attributes handler).

Derivation, the sequencer, gossip and the follow source propose; this object decides and calls the engine:
- derived attributes on the pending safe head either match the existing unsafe block (consolidation: promoted
  without execution) or are built and inserted, replacing the unsafe chain above (the old head is kept as a backup);
- the safe head moves only when a block concludes its batch (the last block of a span batch);
- an invalid derived payload: before Holocene the attributes are dropped, the pending safe head goes back to the
  safe head (a span batch is atomic) and the backup unsafe head is restored; from Holocene the block is built again
  with the deposits only and the caller flushes the pipeline's channel; a deposit-only payload that is invalid is
  a critical error either way;
- unsafe payloads extend the unsafe chain when they build on its head;
- forkchoice is synchronised after every change; an INVALID forkchoice state asks for a reset.

Observers (op-node ``engine.EngineController`` emits events for the same moments, op-node/rollup/engine,
optimism@021e9e05): :meth:`EngineController.subscribe` registers a callable that receives :class:`HeadsChanged`
after every change of the heads (with the block derived attributes became, and whether it was a reset) and
:class:`ForkchoiceSynced` after the engine took a forkchoice update (op-node ``ForkchoiceUpdateEvent``). The
pipeline's L2 view, the status tracker and the metrics learn the heads this way; nobody else writes them. The heads,
these events and the outcomes the controller returns are values of :mod:`engine.heads`.

EL sync (``--syncmode execution-layer``, ``--l2.enginekind``, ``--syncmode.offset-el-safe``): the controller owns
the EL-sync status too and steps it as op-node's controller does (:mod:`engine.el_sync`): whether the first payload
starts EL sync or skips it, and the heads when it ends.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from derivation.protocol.attributes import AttributesWithParent, PayloadAttributes
from derivation.protocol.errors import CriticalError, ResetError, TemporaryError
from derivation.protocol.hexutil import from_hex
from derivation.protocol.payload import ExecutionPayloadEnvelope
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.types import L2BlockRef
from derivation.sync_start import L2Heads
from engine.client import (
    EngineClient,
    EngineRPCError,
    ForkchoiceState,
    InvalidForkchoiceState,
    InvalidPayloadAttributes,
)
from engine.consolidation import mismatch
from engine.el_sync import ELSyncConfig, ELSyncStatus, ELSyncSteps
from engine.heads import (
    DerivedBlock,
    FollowOutcome,
    ForkchoiceSynced,
    Heads,
    HeadsChanged,
    HeadsEvent,
    InvalidPayload,
    ref_from_block,
    ref_from_payload,
)
from engine.heads import Outcome as Outcome  # re-exported: opnode/node/runtime/driver.py imports it from here


class EngineController(ELSyncSteps):
    def __init__(self, cfg: RollupConfig, client: EngineClient, *, cross_safe_gate: bool = False,
                 denied: Callable[[int, bytes], bool] | None = None, el_sync: ELSyncConfig | None = None):
        """``cross_safe_gate`` (a supernode's chain): derivation moves local-safe only and safe (the cross-safe head,
        the engine's ``safe`` label) moves by :meth:`set_cross_safe`; ``denied(number, hash)``: blocks the supernode
        found invalid, never inserted as derived or gossiped again (op-node ``SuperAuthority.IsDenied``,
        ``rollup/engine/payload_process.go``, karlfloersch/optimism @f0b2b80e); ``el_sync``: the initial EL sync
        of a deriving node with ``--syncmode execution-layer`` (off by default)."""
        self.cfg = cfg
        self.client = client
        self.cross_safe_gate = cross_safe_gate
        self.denied = denied or (lambda number, block_hash: False)
        self.heads = Heads()
        self._need_fcu = False
        self._observers: list[Callable[[HeadsEvent], None]] = []
        self.el_syncing = False  # the engine answered SYNCING/ACCEPTED to the last forkchoice update
        self._init_el_sync(el_sync or ELSyncConfig())

    # -------------------------------------------------------------------------------------------- state

    def subscribe(self, observer: Callable[[HeadsEvent], None]) -> None:
        """``observer`` receives every :class:`HeadsChanged` and :class:`ForkchoiceSynced` from now on."""
        self._observers.append(observer)

    def _emit(self, event: HeadsEvent) -> None:
        for observer in self._observers:
            observer(event)

    def _set(self, block: DerivedBlock | None = None, reset: bool = False, **changes) -> None:
        old = self.heads
        self.heads = dataclasses.replace(old, **changes)
        if any(k != "backup_unsafe" for k in changes):
            self._need_fcu = True
        self._emit(HeadsChanged(old, self.heads, block, reset))

    @property
    def unsafe(self) -> L2BlockRef:
        return self.heads.unsafe

    @property
    def pending_safe(self) -> L2BlockRef:
        return self.heads.pending_safe

    @property
    def safe(self) -> L2BlockRef:
        return self.heads.safe

    @property
    def finalized(self) -> L2BlockRef:
        return self.heads.finalized

    async def block_ref(self, tag_or_hash) -> L2BlockRef | None:
        b = await self.client.block(tag_or_hash, full=True)
        return None if b is None else ref_from_block(self.cfg, b)

    async def engine_heads(self) -> L2Heads:
        """The engine's own forkchoice labels (finalized/safe default to genesis, as op-node). Reading them starts a
        reset: observers are told (``HeadsChanged(reset=True)``, heads unchanged) that what they know of the canonical
        chain may be stale before sync start walks it."""
        self._emit(HeadsChanged(self.heads, self.heads, reset=True))
        genesis = await self.block_ref(self.cfg.genesis.l2.hash)
        if genesis is None:
            raise CriticalError("the execution engine does not have the rollup's L2 genesis block "
                                f"{self.cfg.genesis.l2.hash.hex()}: wrong chain or wrong genesis")
        unsafe = await self.block_ref("latest")
        finalized = await self.block_ref("finalized") or genesis
        safe = await self.block_ref("safe") or finalized
        return L2Heads(unsafe, safe, finalized)

    def force_heads(self, h: L2Heads) -> None:
        """After a reset: every head as found by sync start; forkchoice is synced next."""
        self._set(reset=True, unsafe=h.unsafe, cross_unsafe=h.unsafe, pending_safe=h.safe, local_safe=h.safe,
                  safe=h.safe, finalized=h.finalized, backup_unsafe=None)

    # -------------------------------------------------------------------------------------------- forkchoice

    async def sync_forkchoice(self) -> bool:
        """Send the forkchoice if it changed. False while the engine is syncing towards the head."""
        if not self._need_fcu:
            return not self.el_syncing
        h = self.heads
        try:
            res = await self.client.forkchoice_updated(ForkchoiceState(h.unsafe.hash, h.safe.hash, h.finalized.hash))
        except InvalidForkchoiceState as e:
            raise ResetError(f"engine rejected the forkchoice state: {e.message}") from None
        except EngineRPCError as e:  # op-node tryUpdateEngineInternal: any other error code is temporary
            raise TemporaryError(f"forkchoice update failed: {e}") from None
        st = res.payload_status.status
        if st == "VALID":
            self.el_syncing = False
            if self.el_status is ELSyncStatus.STARTED:  # op-node checkForkchoiceUpdatedStatus: EL sync is done
                await self._finish_el_sync(h.unsafe)  # (a temporary error leaves the update to be sent again)
                return await self.sync_forkchoice()
            self._need_fcu = False
            self._emit(ForkchoiceSynced(h))
            return True
        if st in ("SYNCING", "ACCEPTED"):  # not taken: no ForkchoiceSynced (op-node emits it on VALID only)
            self.el_syncing = True
            return False
        raise ResetError(f"engine answered {st} to forkchoice head {h.unsafe.number}: "
                         f"{res.payload_status.validation_error}")

    # -------------------------------------------------------------------------------------------- derived blocks

    async def process_attributes(self, a: AttributesWithParent) -> Outcome:
        """Derived attributes on the pending safe head; observers get the resulting block with the heads."""
        h = self.heads
        if a.parent.hash != h.pending_safe.hash:
            return Outcome.STALE
        if h.unsafe.number > h.pending_safe.number:
            block = await self.client.block(h.pending_safe.number + 1, full=True)
            if block is None and not self.el_syncing:
                # op-node consolidateNextSafeAttributes: "engine may have restarted, or inconsistent safe head"
                raise ResetError(f"the engine lacks unsafe block {h.pending_safe.number + 1} to consolidate with")
            if (block is not None and mismatch(self.cfg, a.attributes, h.pending_safe.hash, block) is None
                    and not self.denied(h.pending_safe.number + 1, from_hex(block["hash"], 32))):
                self._promote(DerivedBlock.from_block(self.cfg, block), a.is_last_in_span)
                return Outcome.CONSOLIDATED
            if h.backup_unsafe is None:
                self._set(backup_unsafe=h.unsafe)
        try:
            derived = await self._build_and_insert(h.pending_safe, a.attributes)
        except InvalidPayload as e:
            return await self._invalid(a, str(e))
        if self.denied(derived.ref.number, derived.ref.hash):
            return await self._replace_denied(a)
        self._promote(derived, a.is_last_in_span, replaces_unsafe=True)
        return Outcome.BUILT

    async def _replace_denied(self, a: AttributesWithParent) -> Outcome:
        """The derived block is one the supernode invalidated: it is replaced by its deposits-only version on the
        same parent (specs interop/derivation.md §Replacing Invalid Blocks; op-node payload_process.go
        ``DepositsOnlyPayloadAttributesRequestEvent``)."""
        deposits = a.attributes.deposits_only()
        try:
            derived = await self._build_and_insert(a.parent, deposits)
        except InvalidPayload as e:
            raise CriticalError(f"deposit-only replacement of a denied block is invalid: {e}") from None
        self._promote(derived, True, replaces_unsafe=True)
        return Outcome.DEPOSITS_ONLY

    def _promote(self, derived: DerivedBlock, concluding: bool, replaces_unsafe: bool = False) -> None:
        ref = derived.ref
        changes: dict = {"pending_safe": ref}
        if concluding:
            changes["local_safe"] = ref
            if not self.cross_safe_gate:
                changes["safe"] = ref
        if replaces_unsafe:
            changes.update(unsafe=ref, cross_unsafe=ref, backup_unsafe=None)
        elif ref.number > self.heads.unsafe.number:
            changes.update(unsafe=ref, cross_unsafe=ref)
        self._set(block=derived, **changes)

    async def _invalid(self, a: AttributesWithParent, why: str) -> Outcome:
        attrs = a.attributes
        if attrs.is_deposits_only:
            raise CriticalError(f"deposit-only payload at {attrs.timestamp} is invalid: {why}")
        if self.cfg.is_active(Fork.HOLOCENE, attrs.timestamp):
            deposits = dataclasses.replace(a, attributes=attrs.deposits_only())
            try:
                derived = await self._build_and_insert(a.parent, deposits.attributes)
            except InvalidPayload as e:
                raise CriticalError(f"deposit-only replacement payload is invalid: {e}") from None
            self._promote(derived, True, replaces_unsafe=True)
            return Outcome.DEPOSITS_ONLY
        h = self.heads
        changes = {"pending_safe": h.safe}
        if h.backup_unsafe is not None:
            changes.update(unsafe=h.backup_unsafe, cross_unsafe=h.backup_unsafe, backup_unsafe=None)
        self._set(**changes)
        return Outcome.DROPPED

    async def _build_and_insert(self, parent: L2BlockRef, attrs: PayloadAttributes) -> DerivedBlock:
        env = await self.build(parent, attrs)
        await self.insert(env)
        return DerivedBlock.from_payload(self.cfg, env)

    async def build(self, parent: L2BlockRef, attrs: PayloadAttributes) -> ExecutionPayloadEnvelope:
        """Have the engine build a payload for ``attrs`` on ``parent`` (also the sequencer's path)."""
        h = self.heads
        try:
            res = await self.client.forkchoice_updated(ForkchoiceState(parent.hash, h.safe.hash, h.finalized.hash),
                                                       attrs)
        except InvalidPayloadAttributes as e:
            raise InvalidPayload(f"payload attributes rejected: {e.message}") from None
        except InvalidForkchoiceState as e:
            raise ResetError(f"engine rejected the forkchoice state for building: {e.message}") from None
        except EngineRPCError as e:
            if _is_engine_error(e.code):
                raise ResetError(f"engine error starting a build on {parent.number}: {e}") from None
            raise TemporaryError(f"engine could not start a build on {parent.number}: {e}") from None
        st = res.payload_status
        if st.status == "INVALID":
            raise InvalidPayload(f"parent {parent.number} is invalid: {st.validation_error}")
        if res.payload_id is None:
            raise TemporaryError(f"engine did not start building on {parent.number} ({st.status})")
        self._need_fcu = True  # the engine's head moved to ``parent``
        try:
            return await self.client.get_payload(res.payload_id, attrs.timestamp)
        except EngineRPCError as e:  # an unknown payload id too: the engine restarted; the build is started again
            raise TemporaryError(f"engine could not seal the block on {parent.number}: {e}") from None

    async def insert(self, env: ExecutionPayloadEnvelope) -> L2BlockRef:
        """newPayload; the caller moves the heads and forkchoice follows."""
        try:
            st = await self.client.new_payload(env)
        except EngineRPCError as e:  # op-node onPayloadProcess: any error of newPayload is temporary
            raise TemporaryError(f"engine could not insert payload {env.number}: {e}") from None
        if st.status in ("INVALID", "INVALID_BLOCK_HASH"):
            raise InvalidPayload(f"payload {env.number} is {st.status}: {st.validation_error}")
        if st.status != "VALID":
            raise TemporaryError(f"engine answered {st.status} to payload {env.number}")
        return ref_from_payload(self.cfg, env)

    # -------------------------------------------------------------------------------------------- unsafe blocks

    async def insert_unsafe(self, env: ExecutionPayloadEnvelope) -> bool:
        """A payload from gossip or the sequencer: extends the unsafe chain if it builds on its head (a denied
        block is dropped)."""
        h = self.heads
        if env.number <= h.safe.number or env.parent_hash != h.unsafe.hash or self.denied(env.number, env.block_hash):
            return False
        if self.el_status is ELSyncStatus.WILL_START and not await self._el_sync_starts():
            return False
        try:
            ref = await self.insert(env)
        except InvalidPayload:
            return False
        if self.el_status is ELSyncStatus.STARTED:
            await self._finish_el_sync(ref)
        else:
            self._set(unsafe=ref, cross_unsafe=ref)
        return True

    async def el_sync_to(self, env: ExecutionPayloadEnvelope) -> bool:
        """``--syncmode execution-layer``: a payload beyond a gap in the unsafe chain is handed to the engine and
        becomes the unsafe head; the forkchoice update that follows makes the engine fetch the missing ancestors
        from its peers (SYNCING until it has them), as op-node does in EL sync instead of waiting for derivation."""
        if env.number <= self.heads.unsafe.number:
            return False
        if self.el_status is ELSyncStatus.WILL_START and not await self._el_sync_starts():
            return False
        st = await self.client.new_payload(env)
        if st.status in ("INVALID", "INVALID_BLOCK_HASH"):
            return False
        ref = ref_from_payload(self.cfg, env)
        if st.status == "VALID" and self.el_status is ELSyncStatus.STARTED:  # op-node checkNewPayloadStatus
            await self._finish_el_sync(ref)
        else:
            self._set(unsafe=ref, cross_unsafe=ref)
        return True

    async def sequence(self, attrs: PayloadAttributes) -> tuple[ExecutionPayloadEnvelope, L2BlockRef]:
        """The sequencer's block on the unsafe head (raises InvalidPayload if the engine refuses it)."""
        env = await self.build(self.heads.unsafe, attrs)
        ref = await self.insert(env)
        self._set(unsafe=ref, cross_unsafe=ref)
        return env, ref

    # -------------------------------------------------------------------------------------------- follow source

    async def follow_source(self, ext_safe: L2BlockRef, ext_local_safe: L2BlockRef, ext_finalized: L2BlockRef,
                            sequencer: bool = False) -> FollowOutcome:
        """Take safe/finalized from an upstream node (op-node ``EngineController.FollowSource``; follow-and-rpc.md
        §1.7): the unsafe head moves only when the source is ahead or the chains diverged; local-safe and safe
        only move forward; finalized only forward and never past safe. A sequencer that diverged is reset hard
        onto the source's heads."""
        if self.heads.unsafe.number < ext_local_safe.number:
            self._follow_refs(ext_safe, ext_local_safe, ext_finalized, update_unsafe=True)
            return FollowOutcome.AHEAD
        ours = await self.block_ref(ext_local_safe.number)
        if ours is None:
            self._follow_refs(ext_safe, ext_local_safe, ext_finalized, update_unsafe=False)
            return FollowOutcome.EL_SYNCING
        if ours == ext_local_safe:
            self._follow_refs(ext_safe, ext_local_safe, ext_finalized, update_unsafe=False)
            return FollowOutcome.CONSOLIDATED
        if sequencer:
            self._set(unsafe=ext_local_safe, cross_unsafe=ext_local_safe, pending_safe=ext_local_safe,
                      local_safe=ext_local_safe, safe=ext_safe, finalized=ext_finalized, backup_unsafe=None)
        else:
            self._follow_refs(ext_safe, ext_local_safe, ext_finalized, update_unsafe=True)
        return FollowOutcome.REORG

    def _follow_refs(self, ext_safe: L2BlockRef, ext_local_safe: L2BlockRef, ext_finalized: L2BlockRef,
                     update_unsafe: bool) -> None:
        h = self.heads
        changes: dict = {}
        if update_unsafe:
            changes.update(unsafe=ext_local_safe, cross_unsafe=ext_local_safe)
            if h.unsafe.number >= ext_local_safe.number:
                changes["backup_unsafe"] = h.unsafe
        local = h.local_safe
        if _advances(h.local_safe, ext_local_safe):
            local = ext_local_safe
            changes.update(local_safe=local, pending_safe=local)
        safe = h.safe
        if _advances(h.safe, ext_safe):
            safe = ext_safe
            changes["safe"] = safe
            if h.cross_unsafe.number < safe.number:
                changes["cross_unsafe"] = safe
        if h.finalized.number <= ext_finalized.number <= safe.number:
            changes["finalized"] = ext_finalized
        if changes:
            self._set(**changes)

    # -------------------------------------------------------------------------------------------- supernode

    def set_cross_safe(self, ref: L2BlockRef) -> bool:
        """A supernode verified ``ref`` (a local-safe block): it becomes the safe head; forkchoice follows. Only
        forward and never past local-safe (a rewind goes through :meth:`rewind_to`)."""
        h = self.heads
        if ref.number <= h.safe.number or ref.number > h.local_safe.number:
            return False
        self._set(safe=ref)
        return True

    def rewind_to(self, ref: L2BlockRef, cross_safe: L2BlockRef) -> None:
        """Roll every head back to ``ref`` at most and the safe head to ``cross_safe`` (an invalidated block's
        parent, or the last verified heads after an L1 reorg); the caller syncs forkchoice and resets derivation,
        which re-derives from the safe head (op-supernode ``RewindEngine``: the embedded engine takes a forkchoice
        update to an ancestor, so no synthetic sibling block is needed)."""
        h = self.heads

        def low(cur: L2BlockRef, cap: L2BlockRef) -> L2BlockRef:
            return cap if cur.number > cap.number else cur

        safe = low(low(h.safe, cross_safe), ref)
        self._set(unsafe=ref, cross_unsafe=ref, pending_safe=low(h.pending_safe, ref),
                  local_safe=low(h.local_safe, ref), safe=safe, finalized=low(h.finalized, safe), backup_unsafe=None)

    def finalize(self, ref: L2BlockRef) -> bool:
        """Move the finalized head forward to ``ref`` (never backwards, never past safe)."""
        h = self.heads
        if ref.number <= h.finalized.number or ref.number > h.safe.number:
            return False
        self._set(finalized=ref)
        return True


def _is_engine_error(code: int) -> bool:
    """op-service ``eth.ErrorCode.IsEngineError``: the Engine API's own codes, -38000 down to -38099."""
    return -38100 < code <= -38000


def _advances(cur: L2BlockRef, cand: L2BlockRef) -> bool:
    """op-node ``L2BlockRefAdvances``: a non-zero candidate ahead of the current ref (or the current is unset)."""
    return not cand.is_zero() and (cur.is_zero() or cand.number > cur.number)
