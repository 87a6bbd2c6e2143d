"""Where to start after a restart or a reset (specs derivation.md §Resetting the Pipeline; op-node
``sync.FindL2Heads``).

Walking back from the engine's unsafe head: the new unsafe head is the first block whose L1 origin is plausible
(canonical, or ahead of what L1 shows yet); the new safe head is the parent of the first block at or below the old
safe head, with sequence number 0, whose L1 origin is a full sequencing window behind the highest canonical origin
seen; reaching the finalized head stops the walk. Inconsistent chains are errors, not resets.

The two recovery branches (an engine EL-synced without finality, an engine rewound under its forkchoice) start from
the engine's head with safe and finalized ``--syncmode.offset-el-safe`` behind it (op-node ``sync.FindL2Heads`` and
``L2HeadsForELSyncWithOffset``, op-node/rollup/sync/start.go, okx/optimism@7573e762, 2026-06-30, which carries
upstream #19972).
"""

from __future__ import annotations

from dataclasses import dataclass

from derivation.protocol.errors import CriticalError
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.types import L1BlockRef, L2BlockRef
from derivation.providers import L1Source, L2Source

MAX_REORG_SEQ_WINDOWS = 5
RECOVER_MIN_SEQ_WINDOWS = 14


def duration_to_blocks(offset: float, block_time: int) -> int:
    """op-node ``sync.DurationToBlocks``: ``ceil(offset / block_time)`` L2 blocks, over whole seconds of ``offset``
    (a sub-second rest is dropped before rounding up); 0 for a zero or negative offset or a zero block time."""
    if offset <= 0 or block_time <= 0:
        return 0
    return -(-int(offset) // block_time)


def offset_block_num(offset: float, block_time: int, head: int, genesis: int) -> int:
    """op-node ``sync.OffsetBlockNum``: the block ``offset`` behind ``head``, never below ``genesis``; ``head``
    itself for no offset or a head at (or below) genesis."""
    n = duration_to_blocks(offset, block_time)
    if n == 0 or head <= genesis:
        return head
    return head - min(n, head - genesis)


class SyncStartError(CriticalError):
    """The engine's chain cannot be reconciled with the rollup (wrong chain, finalized block reorged, too deep)."""


@dataclass(frozen=True, slots=True)
class L2Heads:
    unsafe: L2BlockRef
    safe: L2BlockRef
    finalized: L2BlockRef


def heads_for_el_sync(cfg: RollupConfig, l2: L2Source, tip: L2BlockRef, offset_el_safe: float = 0.0) -> L2Heads:
    """op-node ``L2HeadsForELSyncWithOffset``: unsafe at ``tip``, safe and finalized ``offset_el_safe`` seconds
    behind it (in whole L2 blocks, rounded up, never below genesis)."""
    target = offset_block_num(offset_el_safe, cfg.block_time, tip.number, cfg.genesis.l2.number)
    derived = tip if target >= tip.number else l2.block_ref_by_number(target)
    return L2Heads(tip, derived, derived)


def find_l2_heads(cfg: RollupConfig, l1: L1Source, l1_head_number: int, l2: L2Source, current: L2Heads,
                  offset_el_safe: float = 0.0) -> L2Heads:
    """``current`` are the engine's unsafe/safe/finalized heads (safe and finalized default to genesis);
    ``offset_el_safe``: ``--syncmode.offset-el-safe`` in seconds (0 unless EL sync).
    Lookups may raise NeedData; the walk is restartable from scratch. Kept as one walk, as op-node's
    ``sync.FindL2Heads`` is, so the two read side by side."""
    unsafe, safe, finalized = current.unsafe, current.safe, current.finalized
    g = cfg.genesis
    if (finalized.hash == g.l2.hash and safe.hash == g.l2.hash and unsafe.number > g.l2.number
            and unsafe.l1_origin.number > g.l1.number + RECOVER_MIN_SEQ_WINDOWS * cfg.seq_window_size):
        return heads_for_el_sync(cfg, l2, unsafe, offset_el_safe)  # EL synced without finality: trust its head
    if unsafe.number < finalized.number or unsafe.number < safe.number:
        # the engine was rewound under the forkchoice: start from its head
        return heads_for_el_sync(cfg, l2, unsafe, offset_el_safe)
    prev_unsafe = unsafe
    new_unsafe: L2BlockRef | None = None
    highest: L2BlockRef | None = None
    ready = False
    n = unsafe
    l1_block: L1BlockRef | None = None
    while True:
        ahead = n.l1_origin.number > l1_head_number
        origin: L1BlockRef | None = None  # n's L1 origin as L1 has it; None when it is beyond the L1 head
        if not ahead:
            if l1_block is None or l1_block.number != n.l1_origin.number:
                l1_block = l1.block_by_number(n.l1_origin.number).ref
            origin = l1_block
        if n.number == g.l2.number:
            if n.hash != g.l2.hash:
                raise SyncStartError(f"wrong L2 chain: genesis is {g.l2.hash.hex()[:16]}, engine has {n.hash.hex()[:16]}")
            if origin is not None and origin.hash != g.l1.hash:
                raise SyncStartError(f"wrong L1 chain: genesis is {g.l1.hash.hex()[:16]}, L1 has {origin.hash.hex()[:16]}")
        if n.number == finalized.number and n.hash != finalized.hash:
            raise SyncStartError(f"cannot reorg the finalized block {finalized.number}")
        if new_unsafe is None:
            new_unsafe = n
            if n.l1_origin.number + MAX_REORG_SEQ_WINDOWS * cfg.seq_window_size < prev_unsafe.l1_origin.number:
                raise SyncStartError(f"reorg too deep: walked back to L2 block {n.number} from {prev_unsafe.number}")
        if origin is None:
            highest = None
        elif origin.hash == n.l1_origin.hash:
            if highest is None:
                highest = n
        else:
            new_unsafe = None
            highest = None
        if (highest is not None and n.number <= safe.number and n.sequence_number == 0
                and n.l1_origin.number + cfg.seq_window_size < highest.l1_origin.number):
            ready = True
        if n.number == finalized.number:
            return L2Heads(new_unsafe or n, n, finalized)
        parent = l2.block_ref_by_hash(n.parent_hash)
        if parent.l1_origin != n.l1_origin:
            if parent.l1_origin.number + 1 != n.l1_origin.number:
                raise SyncStartError(f"L2 block {parent.number} has L1 origin {parent.l1_origin.number}, not just "
                                     f"before {n.number}'s {n.l1_origin.number}")
            if n.sequence_number != 0:
                raise SyncStartError(f"L2 block {n.number} starts an epoch with sequence number {n.sequence_number}")
            if origin is not None and origin.hash == n.l1_origin.hash and origin.parent_hash != parent.l1_origin.hash:
                raise SyncStartError(f"L2 block {parent.number}'s L1 origin is not the parent of {n.number}'s")
        elif parent.sequence_number + 1 != n.sequence_number:
            raise SyncStartError(f"sequence numbers of L2 blocks {parent.number} and {n.number} are not consecutive")
        n = parent
        if ready:
            if new_unsafe is None:  # ready needs a block whose origin matched since new_unsafe was last cleared
                raise SyncStartError("sync start found a safe head but lost the unsafe head (a bug)")
            return L2Heads(new_unsafe, n, finalized)
