"""L1 traversal (specs: derivation.md "L1 Traversal"): walks L1 one block at a time.

Moving to block n+1 checks its parent hash (a mismatch is an L1 reorg: reset) and applies the block's
``ConfigUpdate`` receipts to the traversal's SystemConfig copy *before* retrieval reads the block, so a batcher
rotation authenticates batcher txs of the same block (derivation.md §L1 Traversal). A malformed update is skipped and
reported as a drop; the block's other updates still apply (:mod:`derivation.protocol.config_update`).
"""

from __future__ import annotations

from derivation.events import Dropped, DropReason, OriginAdvanced, SystemConfigChanged
from derivation.protocol.config_update import apply_receipts_reporting
from derivation.protocol.errors import ResetError
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.types import L1BlockRef
from derivation.providers import L1Source
from derivation.stages.flow import EOF, Emit


class L1Traversal:
    def __init__(self, cfg: RollupConfig, l1: L1Source, emit: Emit):
        self.cfg = cfg
        self.l1 = l1
        self.emit = emit
        self.block: L1BlockRef | None = None  # None until the pipeline is reset onto a safe head
        self.done = False
        self._system_config: SystemConfig | None = None

    @property
    def origin(self) -> L1BlockRef:
        if self.block is None:
            raise ResetError("L1 traversal has no L1 block: the pipeline has not been reset yet")
        return self.block

    @property
    def system_config(self) -> SystemConfig:
        """The SystemConfig as of the current L1 block (its ConfigUpdate logs applied)."""
        if self._system_config is None:
            raise ResetError("L1 traversal has no SystemConfig: the pipeline has not been reset yet")
        return self._system_config

    def next_l1_block(self) -> L1BlockRef:
        """The current block, once; then EOF until the pipeline advances."""
        if self.done:
            raise EOF
        block = self.origin
        self.done = True
        return block

    def advance(self) -> L1BlockRef:
        """Move to the next L1 block. May raise NeedData (nothing changed) or ResetError."""
        cur = self.origin
        nxt = self.l1.block_by_number(cur.number + 1)
        if nxt.parent_hash != cur.hash:
            raise ResetError(f"L1 reorg detected: block {nxt.number} ({nxt.hash.hex()[:12]}) has parent "
                             f"{nxt.parent_hash.hex()[:12]}, expected {cur.hash.hex()[:12]}")
        receipts = self.l1.receipts(nxt.ref)
        new_cfg, skipped = apply_receipts_reporting(self.system_config, receipts, self.cfg.l1_system_config_address,
                                                    self.cfg, nxt.time)
        for why in skipped:
            self.emit(Dropped(nxt.ref, "config_update", DropReason.MALFORMED_CONFIG_UPDATE, why))
        if new_cfg != self.system_config:
            changed = tuple(f for f in new_cfg.__slots__ if getattr(new_cfg, f) != getattr(self.system_config, f))
            self.emit(SystemConfigChanged(nxt.ref, changed))
        self._system_config = new_cfg
        self.block = nxt.ref
        self.done = False
        self.emit(OriginAdvanced(nxt.ref))
        return nxt.ref

    def reset(self, base: L1BlockRef, system_config: SystemConfig) -> None:
        self.block = base
        self.done = False
        self._system_config = system_config
