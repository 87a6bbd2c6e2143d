"""Tracks the L1 head, safe and finalized blocks by polling (op-node: ``--l1.http-poll-interval`` for the head,
``--l1.epoch-poll-interval`` for safe and finalized; op-service/sources/eth_client.go and node/node.go pollers).

The tracker owns those three refs; the L1 client reads the head from it for ``--verifier.l1-confs`` and look-ahead.
A failed poll is logged and tried again at the next tick: L1 refs only move forward when the RPC answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import trio

from derivation.protocol.errors import DerivationError
from derivation.protocol.types import L1BlockRef
from opnode.node.l1.client import L1Client

log = logging.getLogger("opnode.node.l1.heads")


class HeadTracker:
    def __init__(self, client: L1Client, on_change: Callable[[str, L1BlockRef], None] | None = None):
        self.client = client
        self.on_change = on_change
        self.head: L1BlockRef | None = None
        self.safe: L1BlockRef | None = None
        self.finalized: L1BlockRef | None = None

    @property
    def confirmed_head(self) -> int | None:
        """The highest L1 block number derivation may read under ``--verifier.l1-confs``."""
        if self.head is None:
            return None
        return max(0, self.head.number - self.client.cfg.verifier_l1_confs)

    async def poll(self, label: str) -> L1BlockRef | None:
        try:
            ref = await self.client.block_ref_by_label(label)
        except (DerivationError, ValueError) as e:
            log.warning("polling L1 %s failed: %s", label, e)
            return None
        attr = {"latest": "head", "safe": "safe", "finalized": "finalized"}[label]
        if getattr(self, attr) != ref:
            setattr(self, attr, ref)
            if attr == "head":
                self.client.head = ref
            if self.on_change is not None:
                self.on_change(attr, ref)
        return ref

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Poll until cancelled; ``nursery.start(tracker.run)`` returns after the first head poll."""
        await self.poll("latest")
        await self.poll("safe")
        await self.poll("finalized")
        task_status.started()
        cfg = self.client.cfg
        next_epoch = trio.current_time() + cfg.epoch_poll_interval
        while True:
            await trio.sleep(cfg.http_poll_interval)
            await self.poll("latest")
            if trio.current_time() >= next_epoch:
                await self.poll("safe")
                await self.poll("finalized")
                next_epoch = trio.current_time() + cfg.epoch_poll_interval
