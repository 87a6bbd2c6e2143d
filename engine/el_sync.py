"""Execution-layer sync (``--syncmode execution-layer``): what the engine controller needs to follow op-node's
initial EL sync: the engine kinds of ``--l2.enginekind``, the ``--syncmode.offset-el-safe`` offset, and the sync
status the controller (:mod:`engine.controller`, the owner of the heads) steps through.

Followed: op-node/rollup/engine/engine_kind.go (``Kind``, ``SupportsPostFinalizationELSync``) and
op-node/rollup/sync/config.go, okx/optimism@7573e762 (2026-06-30, upstream v1.17.0); the default kind ``reth``
of upstream op-node/flags/flags.go of July 2026; the EL-sync steps of op-node/rollup/engine/engine_controller.go,
ethereum-optimism/optimism@013ff0cf (2026: ``insertUnsafePayload``, ``checkNewPayloadStatus``,
``checkForkchoiceUpdatedStatus``) and its start-up guard ``MaybeSkipELSyncIfEngineAlreadySynced``
(engine_el_sync_startup_test.go, 2026):

- the status starts at WILL_START; the first payload handed to the engine checks the engine's finalized block:
  none, the rollup genesis, or an engine kind that supports post-finalization EL sync (reth, erigon) starts EL sync;
  otherwise (geth with a finalized block past genesis) EL sync is skipped and the node goes on as in CL sync. The
  same check runs at start-up, so a synced geth engine does not wait for a payload first;
- while WILL_START/STARTED derivation waits (op-node: "the pipeline cannot move forwards if doing initial EL sync");
- the first VALID answer (newPayload or forkchoice) while STARTED ends EL sync: unsafe is the synced tip; safe and
  finalized move to the tip minus ``offset_el_safe`` (whole L2 blocks, rounded up, never below genesis), never
  behind where they were; derivation then restarts from the new safe head.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from derivation.protocol.errors import TemporaryError
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.types import L2BlockRef
from derivation.sync_start import offset_block_num
from engine.heads import Heads

log = logging.getLogger("opnode.engine")

ENGINE_KINDS = ("geth", "reth", "erigon")  # op-node engine.Kinds
DEFAULT_ENGINE_KIND = "reth"
_POST_FINALIZATION = frozenset({"reth", "erigon"})  # op-node Kind.SupportsPostFinalizationELSync


def supports_post_finalization_el_sync(kind: str) -> bool:
    """op-node ``Kind.SupportsPostFinalizationELSync``: the engine can EL-sync past a block it already finalized."""
    return kind in _POST_FINALIZATION


class ELSyncStatus(Enum):
    """op-node ``syncStatusEnum``, in the order it is stepped through."""

    CL = "consensus-layer"  # not EL syncing (CL sync, or a node that takes its heads from a follow source)
    WILL_START = "will-start"  # told to EL sync; the first payload decides whether it starts
    STARTED = "started"  # the engine syncs towards the payloads it is given
    FINISHED = "finished"  # done (or skipped): payloads are inserted and derivation runs as in CL sync


@dataclass(frozen=True, slots=True)
class ELSyncConfig:
    enabled: bool = False  # --syncmode execution-layer on a deriving node
    engine_kind: str = DEFAULT_ENGINE_KIND  # --l2.enginekind
    offset_el_safe: float = 0.0  # --syncmode.offset-el-safe, seconds

    @property
    def post_finalization(self) -> bool:
        return supports_post_finalization_el_sync(self.engine_kind)

    def starts(self, finalized: L2BlockRef | None, genesis_hash: bytes) -> bool:
        """op-node ``insertUnsafePayload`` in WILL_START: EL sync starts when the engine has no finalized block, only
        the rollup genesis finalized, or when its kind syncs past a finalized block anyway."""
        return finalized is None or finalized.hash == genesis_hash or self.post_finalization


def not_behind(target: L2BlockRef, current: L2BlockRef) -> L2BlockRef:
    """op-node engine_controller.go: "Never retract finalized or safe behind their prior values"."""
    return current if target.number < current.number else target


class ELSyncSteps:
    """The EL-sync steps of :class:`engine.controller.EngineController` (mixed into it: the status is the
    controller's, next to the heads it moves; kept here so the controller stays about the heads)."""

    cfg: RollupConfig
    heads: Heads

    async def block_ref(self, tag_or_hash: Any) -> L2BlockRef | None:
        raise NotImplementedError

    def _set(self, block: Any = None, reset: bool = False, **changes: Any) -> None:
        raise NotImplementedError

    def _init_el_sync(self, cfg: ELSyncConfig) -> None:
        self.el_sync = cfg
        self.el_status = ELSyncStatus.WILL_START if cfg.enabled else ELSyncStatus.CL
        self.el_sync_finished = False  # set when EL sync ends; the driver restarts derivation and clears it
        self._el_started = 0.0

    def take_el_sync_finished(self) -> bool:
        """True once after EL sync ended (the driver then restarts derivation from the new safe head)."""
        done, self.el_sync_finished = self.el_sync_finished, False
        return done

    @property
    def initial_el_syncing(self) -> bool:
        """op-node ``IsEngineInitialELSyncing``: derivation waits while this holds."""
        return self.el_status in (ELSyncStatus.WILL_START, ELSyncStatus.STARTED)

    async def maybe_skip_el_sync(self) -> None:
        """op-node ``MaybeSkipELSyncIfEngineAlreadySynced`` (at start-up): an engine whose kind cannot EL-sync past
        a finalized block (geth) and that has one past genesis skips EL sync now instead of at the first payload."""
        if self.el_status is not ELSyncStatus.WILL_START or self.el_sync.post_finalization:
            return
        finalized = await self.block_ref("finalized")
        if finalized is not None and finalized.hash != self.cfg.genesis.l2.hash:
            self.el_status = ELSyncStatus.FINISHED
            log.info("Skipping EL sync and going straight to CL sync because there is a finalized block "
                     "(id=%s:%d)", finalized.hash.hex(), finalized.number)

    async def _el_sync_starts(self) -> bool:
        """WILL_START, a payload to hand the engine: start EL sync, or skip it (the payload is then dropped, as op-node
        drops it)."""
        finalized = await self.block_ref("finalized")
        if self.el_sync.starts(finalized, self.cfg.genesis.l2.hash):
            self.el_status = ELSyncStatus.STARTED
            self._el_started = time.monotonic()
            log.info("Starting EL sync")
            return True
        assert finalized is not None
        self.el_status = ELSyncStatus.FINISHED
        log.info("Skipping EL sync and going straight to CL sync because there is a finalized block (id=%s:%d)",
                 finalized.hash.hex(), finalized.number)
        return False

    async def _finish_el_sync(self, tip: L2BlockRef) -> None:
        """The engine holds ``tip`` (VALID while STARTED): unsafe is the tip; safe and finalized the tip minus
        ``--syncmode.offset-el-safe``, never behind where they were (op-node ``insertUnsafePayload``,
        syncStatusFinishedELButNotFinalized)."""
        target = offset_block_num(self.el_sync.offset_el_safe, self.cfg.block_time, tip.number,
                                  self.cfg.genesis.l2.number)
        derived = tip
        if target < tip.number:
            got = await self.block_ref(target)
            if got is None:
                raise TemporaryError(f"EL sync offset-derived head at block {target} is not in the engine")
            derived = got
        h = self.heads
        safe, finalized = not_behind(derived, h.safe), not_behind(derived, h.finalized)
        self.el_status = ELSyncStatus.FINISHED
        self.el_sync_finished = True
        self._set(unsafe=tip, cross_unsafe=tip, pending_safe=safe, local_safe=safe, safe=safe, finalized=finalized,
                  backup_unsafe=None)
        log.info("Finished EL sync (sync_duration=%.3fs, unsafe_block=%d, safe_finalized_block=%d)",
                 time.monotonic() - self._el_started, tip.number, safe.number)
