"""The L1 head, safe and finalized blocks: :class:`L1Heads` holds them and is their only writer (every label read
of the L1 client reports into it); :class:`HeadTracker` keeps them current, as op-node/node/node.go ``initL1`` does
(ethereum-optimism/optimism, 2026 file index):

- the head: with a websocket L1 (``--l1=ws://…``) from an ``eth_subscribe("newHeads")`` subscription
  (op-service/eth/heads.go ``WatchHeadChanges``), subscribed again after it ends, with a growing pause up to 10 s
  (``event.ResubscribeErr(10s, …)``); with an HTTP L1 polled every ``--l1.http-poll-interval``
  (op-service/client/polling.go ``PollingClient``, which op-service/client/rpc.go puts under an ``http(s)`` URL);
- safe and finalized polled every ``--l1.epoch-poll-interval`` either way (``eth.PollBlockChanges``).

Unlike op-node, no head is skipped: a head that is more than one block above the last one (a notification the
subscription missed, or the head read after subscribing again) comes with the blocks between, read by parent hash
and observed in order (at most ``MAX_BACKFILL``). A failed poll is logged and tried again at the next tick: L1 refs
only move when the RPC answers.

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
from derivation.protocol.types import L1BlockInfo, L1BlockRef
from opnode.jsonrpc.errors import RpcError

if TYPE_CHECKING:
    from opnode.node.l1.client import L1Client

log = logging.getLogger("opnode.node.l1.heads")

NAMES = {"latest": "head", "safe": "safe", "finalized": "finalized"}
MAX_BACKFILL = 64  # blocks read below a head that jumped, so that each one is observed
RESUBSCRIBE_MAX_DELAY = 10.0  # op-node: event.ResubscribeErr(time.Second*10, …)

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
        self.subscribed = False  # a newHeads subscription is live
        self.subscriptions = 0  # newHeads subscriptions made (the first, then one per reconnect)
        self.backfilled = 0  # blocks observed below a head that jumped
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
        """Follow L1 until cancelled; ``nursery.start(tracker.run)`` returns after the first reads of the labels.

        HTTP L1: the head is read at least every ``--l1.http-poll-interval``, as op-node polls it; a read made
        meanwhile by someone else (a light node's canonical check of the block after its head reads ``latest``)
        counts, and the poll waits a period from it. Websocket L1: the head comes from the ``newHeads``
        subscription (an endpoint that refuses ``eth_subscribe`` is polled instead). Safe and finalized every
        ``--l1.epoch-poll-interval`` (0 or less: never, as op-node's flag says)."""
        await self.poll("latest")
        await self.poll("safe")
        await self.poll("finalized")
        task_status.started()
        if not self.client.subscribes:
            await self._poll_loop(head=True)
            return
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._poll_loop, False)
            await self._follow_heads()
            nursery.cancel_scope.cancel()  # refused: the head is polled from here on
        await self._poll_loop(head=True)

    async def _poll_loop(self, head: bool) -> None:
        cfg = self.client.cfg
        epoch = cfg.epoch_poll_interval if cfg.epoch_poll_interval > 0 else math.inf
        period = cfg.http_poll_interval if head else math.inf
        last = trio.current_time()  # the last poll attempt (a failed one too: no hot loop while L1 is down)
        next_epoch = last + epoch
        while True:
            due = max(last, self.client.head_read_at or last) + period
            await trio.sleep_until(min(due, next_epoch))
            now = trio.current_time()
            if now >= max(last, self.client.head_read_at or last) + period:
                last = now
                await self.poll("latest")
            if trio.current_time() >= next_epoch:
                await self.poll("safe")
                await self.poll("finalized")
                next_epoch = trio.current_time() + epoch

    # ---------------------------------------------------------------------------------------- the subscription

    async def _follow_heads(self) -> None:
        """Subscribe to ``newHeads`` and observe each head, for ever; returns only when the endpoint refuses the
        subscription (RpcError: a provider without it), so that the caller polls instead."""
        delay = 0.0
        while True:
            try:
                sub = await self.client.subscribe_heads()
            except RpcError as e:
                log.warning("L1 endpoint refuses eth_subscribe newHeads (%s): polling the L1 head every %ss instead",
                            e, self.client.cfg.http_poll_interval)
                return
            except DerivationError as e:
                delay = min(RESUBSCRIBE_MAX_DELAY, max(0.5, 2 * delay))
                log.warning("subscribing to L1 heads failed, again in %.1fs: %s", delay, e)
                await trio.sleep(delay)
                continue
            self.subscribed = True
            first = self.subscriptions == 0
            self.subscriptions += 1
            try:
                if not first:
                    # heads announced while the subscription was down are not announced again: read the head
                    log.info("L1 head subscription restored (subscription %d)", self.subscriptions)
                    await self._advance(await self.client.latest_info())
                    delay = 0.0
                async for header in sub:
                    await self._advance(await self.client.head_info(header))
                    delay = 0.0
            except DerivationError as e:  # TransportError: the connection dropped (or a read failed)
                log.warning("L1 head subscription lost, subscribing again: %s", e)
            finally:
                self.subscribed = False
                await sub.aclose()
            if delay:
                await trio.sleep(delay)
            delay = min(RESUBSCRIBE_MAX_DELAY, max(0.5, 2 * delay))

    async def _advance(self, info: L1BlockInfo) -> None:
        """Observe ``info`` as the L1 head, after the blocks between the last head and it (no head is skipped)."""
        old = self.head
        chain = [info]
        try:
            while old is not None and chain[-1].number > old.number + 1 and len(chain) <= MAX_BACKFILL:
                chain.append(await self.client.block_info_by_hash(chain[-1].parent_hash))
        except DerivationError as e:
            log.warning("reading the L1 blocks below head %d failed, observing the head alone: %s", info.number, e)
            chain = [info]
        if len(chain) > 1:
            self.backfilled += len(chain) - 1
            log.info("L1 head moved %d blocks at once: observing each (%d to %d)", len(chain), chain[-1].number,
                     info.number)
        for block in reversed(chain):
            self.client.observe("latest", block)
