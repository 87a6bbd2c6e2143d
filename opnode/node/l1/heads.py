"""The L1 head, safe and finalized blocks: :class:`L1Heads` holds them and is their only writer (every label read
of the L1 client reports into it); :class:`HeadTracker` polls the labels (op-node: ``--l1.http-poll-interval`` for
the head, ``--l1.epoch-poll-interval`` for safe and finalized; op-service/sources/eth_client.go and node/node.go
pollers). A failed poll is logged and tried again at the next tick: L1 refs only move when the RPC answers.

``--verifier.l1-confs`` is applied in one place, :attr:`HeadTracker.confirmed_head`, which derivation's L1 provider
reads (op-node applies ``confDepth`` to derivation's L1 fetcher only, op-node/rollup/confdepth @ optimism 021e9e05).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import trio

from derivation.protocol.errors import DerivationError
from derivation.protocol.types import L1BlockRef

if TYPE_CHECKING:
    from opnode.node.l1.client import L1Client

log = logging.getLogger("opnode.node.l1.heads")

NAMES = {"latest": "head", "safe": "safe", "finalized": "finalized"}

# name ("head", "safe", "finalized"), the new ref, the ref it replaces
HeadObserver = Callable[[str, L1BlockRef, "L1BlockRef | None"], None]


class L1Heads:
    """The L1 labels as last read. No per-chain state: several chains can share one (issue 16)."""

    def __init__(self) -> None:
        self.head: L1BlockRef | None = None
        self.safe: L1BlockRef | None = None
        self.finalized: L1BlockRef | None = None
        self._observers: list[HeadObserver] = []

    def subscribe(self, observer: HeadObserver) -> None:
        self._observers.append(observer)

    def observe(self, label: str, ref: L1BlockRef) -> None:
        """``label`` (``latest``, ``safe``, ``finalized``) read as ``ref``: the one place the labels change."""
        name = NAMES[label]
        old = getattr(self, name)
        if old == ref:
            return
        setattr(self, name, ref)
        for observer in self._observers:
            observer(name, ref, old)


def reorg_depth(old: L1BlockRef | None, new: L1BlockRef) -> int | None:
    """How far a new L1 head moved back (op-node ``StatusTracker.OnL1Unsafe``, ``RecordL1ReorgDepth``): None for
    the first head, the same head or a child of it, or a head further ahead (a long extension or a missed update)."""
    if old is None or old.hash == new.hash or old.hash == new.parent_hash or old.number < new.number:
        return None
    return old.number - new.number


def confirmed(head: L1BlockRef | None, confs: int) -> int | None:
    """The highest L1 block number ``confs`` blocks behind ``head`` (op-node ``confDepth``)."""
    return None if head is None else max(0, head.number - confs)


class HeadTracker:
    def __init__(self, client: L1Client, on_change: Callable[[str, L1BlockRef], None] | None = None,
                 on_reorg: Callable[[int], None] | None = None):
        self.client = client
        self.on_change = on_change
        self.on_reorg = on_reorg  # the depth of each L1 head reorg (metrics: l1_reorg_depth)
        client.heads.subscribe(self._changed)

    def _changed(self, name: str, ref: L1BlockRef, old: L1BlockRef | None) -> None:
        if name == "head" and self.on_reorg is not None:
            depth = reorg_depth(old, ref)
            if depth is not None:
                self.on_reorg(depth)
        if self.on_change is not None:
            self.on_change(name, ref)

    @property
    def head(self) -> L1BlockRef | None:
        return self.client.heads.head

    @property
    def safe(self) -> L1BlockRef | None:
        return self.client.heads.safe

    @property
    def finalized(self) -> L1BlockRef | None:
        return self.client.heads.finalized

    @property
    def confirmed_head(self) -> int | None:
        """The highest L1 block number derivation may read under ``--verifier.l1-confs``."""
        return confirmed(self.head, self.client.cfg.verifier_l1_confs)

    async def poll(self, label: str) -> L1BlockRef | None:
        try:
            return await self.client.block_ref_by_label(label)
        except (DerivationError, ValueError) as e:
            log.warning("polling L1 %s failed: %s", label, e)
            return None

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Poll until cancelled; ``nursery.start(tracker.run)`` returns after the first head poll.

        The head is read at least every ``--l1.http-poll-interval``, as op-node polls it; a read made meanwhile by
        someone else (a light node's canonical check of the block after its head reads ``latest``) counts, and the
        poll waits a period from it. Safe and finalized every ``--l1.epoch-poll-interval`` (0 or less: never, as
        op-node's flag says)."""
        await self.poll("latest")
        await self.poll("safe")
        await self.poll("finalized")
        task_status.started()
        cfg = self.client.cfg
        epoch = cfg.epoch_poll_interval if cfg.epoch_poll_interval > 0 else math.inf
        last = trio.current_time()  # the last poll attempt (a failed one too: no hot loop while L1 is down)
        next_epoch = last + epoch
        while True:
            due = max(last, self.client.head_read_at or last) + cfg.http_poll_interval
            await trio.sleep_until(min(due, next_epoch))
            now = trio.current_time()
            if now >= max(last, self.client.head_read_at or last) + cfg.http_poll_interval:
                last = now
                await self.poll("latest")
            if trio.current_time() >= next_epoch:
                await self.poll("safe")
                await self.poll("finalized")
                next_epoch = trio.current_time() + epoch
