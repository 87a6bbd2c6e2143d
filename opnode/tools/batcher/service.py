"""``opnode batcher``: posts the sequencer's unsafe blocks to L1 so that every node can derive them.

One loop (every ``poll_interval``, or when woken):

1. L1 head; on a new head, re-read batcher updates (:mod:`.l1_view`) and check that every posted transaction of the
   channels still kept is in a canonical block, was sent by the batcher of that block, and that each confirmed
   channel fits in the channel timeout (specs derivation.md §Channel Bank, "Timeouts"). A failure rewinds from that
   channel: it and every later one are posted again (Holocene drops batches that come out of order, so later channels must follow).
   Channels already done are checked too, for ``REORG_WINDOW`` L1 blocks: a reorg deeper than the confirmations
   that takes their data away posts their blocks again, from the first one lost, whatever the node's safe head
   says (a node keeps a safe head whose L1 origin stays canonical even when the data it came from is gone, as
   op-node's reset does, so another node deriving the new L1 chain would wait for that data for good).
2. ``optimism_syncStatus``: channels whose blocks are all safe, and whose transactions are ``num_confirmations``
   deep, are done. A safe head that falls behind blocks already done, once the node has read past where they were
   posted, means their data left L1 (a reorg deeper than the window above): everything after the safe head is
   loaded and posted again.
3. New unsafe blocks from the L2 execution client, from the last loaded (or the safe head). A block that does not
   build on the last loaded one is an L2 reorg: the batcher starts again from the safe head.
4. Receipts of transactions in flight; a transaction not mined within ``resubmit_after`` is resent with higher fees.
5. Channels that are due are built (with a fault when ``--faults`` says so), and their transactions sent in order,
   at most ``max_pending_tx`` in flight, from the key of the current batcher address (:mod:`.sending`).

DA: ``calldata``; ``blobs``; ``auto`` = blobs once Ecotone is active by the L1 head's time and the L1 takes blob
transactions. Compression and batch type follow the L1 head's time (brotli from Fjord, span batches from Delta).
"""

from __future__ import annotations

import logging

import trio

from derivation.protocol.errors import ParseError, TemporaryError
from derivation.protocol.hexutil import to_hex
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.types import BlockID
from opnode.jsonrpc.client import RpcClient
from opnode.jsonrpc.errors import RpcError
from opnode.tools.batcher.channels import BLOBS, CALLDATA, Channel, ChannelManager, L2Reorg, Submission
from opnode.tools.batcher.config import BatcherConfig
from opnode.tools.batcher.events import EventLog
from opnode.tools.batcher.faults import EXPECTED_DROPS, FaultKind
from opnode.tools.batcher.l1_view import BatcherAddresses, L1Head, canonical, l1_head
from opnode.tools.batcher.l2_blocks import L2BlockError, NodeStatus, fetch_block, rollup_config, sync_status
from opnode.tools.batcher.sending import Sending
from opnode.tools.batcher.txmgr import TxManager

log = logging.getLogger("opnode.tools.batcher")

MAX_BLOCKS_PER_STEP = 200
# How long (in L1 blocks) a done channel's inclusion is still checked: Ethereum finalizes a block after two epochs
# (64 slots); a reorg deeper than that is the node's safe-head check's to catch (step 2 above).
REORG_WINDOW = 64


class Batcher(Sending):
    def __init__(self, cfg: BatcherConfig, *, rollup: RollupConfig | None = None, events: EventLog | None = None):
        self.cfg = cfg
        self.rollup = rollup
        self.events = events or EventLog(cfg.events_path)
        self.active = True
        self.head: L1Head | None = None
        self.status_seen: NodeStatus | None = None
        self.cm: ChannelManager | None = None
        self.addresses: BatcherAddresses | None = None
        self.managers: dict[bytes, TxManager] = {}
        self.signer: bytes | None = None
        self._wake = trio.Event()
        self._flush = False
        self._pruned_inclusion = -1  # highest L1 block holding a channel already done
        self._done: list[Channel] = []  # channels done within the last REORG_WINDOW L1 blocks, in posting order
        self._floor: int | None = None  # posting again after an L1 reorg: blocks above this are not done
        self._l1: RpcClient | None = None
        self._l2: RpcClient | None = None
        self._node: RpcClient | None = None
        self.steps = 0

    # -------------------------------------------------------------------------------------------- control

    def wake(self) -> None:
        self._wake.set()

    def flush(self) -> None:
        """``admin_flushBatcher``: close the open channel now."""
        self._flush = True
        self.wake()

    async def stop(self, timeout: float = 60.0) -> None:
        """``admin_stopBatcher``: send nothing new; returns once every transaction in flight is mined."""
        if self.active:
            self.active = False
            self.events.emit("stopped")
        with trio.move_on_after(timeout):
            while self.in_flight():
                self.wake()
                await trio.sleep(self.cfg.poll_interval / 2)

    def start(self) -> None:
        """``admin_startBatcher``."""
        if not self.active:
            self.active = True
            self.events.emit("resumed")
            self.wake()

    async def pause(self) -> None:
        """The traffic generator's key-rotation handshake (same as :class:`~.admin.BatcherControl`)."""
        await self.stop()

    async def resume(self) -> None:
        self.start()

    def in_flight(self) -> list[Submission]:
        if self.cm is None:
            return []
        return [s for c in self.cm.channels for s in c.submissions if s.pending is not None and s.included is None]

    def status(self) -> dict:
        cm = self.cm
        return {"active": self.active, "signer": to_hex(self.signer) if self.signer else None,
                "keys": [to_hex(a) for a in self.managers],
                "l1_head": self.head.number if self.head else None,
                "safe_l2": self.status_seen.safe.number if self.status_seen else None,
                "unsafe_l2": self.status_seen.unsafe.number if self.status_seen else None,
                "loaded_l2": cm.last_block.number if cm and cm.last_block else None,
                "queued_blocks": len(cm.queue) if cm else 0, "channels": len(cm.channels) if cm else 0,
                "in_flight": len(self.in_flight()), **self.events.snapshot()}

    # -------------------------------------------------------------------------------------------- run

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        cfg = self.cfg
        async with RpcClient(cfg.l1_rpc) as l1, RpcClient(cfg.l2_rpc) as l2, RpcClient(cfg.rollup_rpc) as node:
            self._l1, self._l2, self._node = l1, l2, node
            try:
                if self.rollup is None:
                    self.rollup = await rollup_config(node)
                for key in cfg.keys:
                    m = TxManager(l1, key, l1_chain=cfg.l1_blob_schedule,
                                  resubmit_after=cfg.resubmit_after)
                    self.managers[m.address] = m
                self.cm = ChannelManager(self.rollup, max_channel_duration=cfg.max_channel_duration,
                                         max_channel_bytes=cfg.max_channel_bytes, max_frame_size=cfg.max_frame_size,
                                         blobs_per_tx=cfg.blobs_per_tx)
                self.addresses = BatcherAddresses(self.rollup)
                self.events.emit("started", keys=list(self.managers), da=cfg.da,
                                 faults=[k.value for k in cfg.faults.kinds] if cfg.faults else [])
                task_status.started(self)
                while True:
                    try:
                        await self.step()
                    except (TemporaryError, RpcError, ParseError) as e:
                        log.warning("batcher step failed, retrying: %s", e)
                    with trio.move_on_after(cfg.poll_interval):
                        await self._wake.wait()
                    self._wake = trio.Event()
            finally:
                self.events.emit("shutdown", **{k: v for k, v in self.status().items() if k in ("events", "faults")})
                self.events.close()

    async def step(self) -> None:
        self.steps += 1
        head = await l1_head(self._l1)
        if self.head is None or head.ref != self.head.ref:
            self.head = head
            for n, _, addr in await self.addresses.refresh(self._l1, head.number):
                self.events.emit("batcher_changed", l1_block=n, batcher=addr, ours=addr in self.managers)
            await self._check_posted()
        status = await sync_status(self._node)
        await self._follow_safe_head(status)
        self.status_seen = status
        await self._load_blocks(status)
        await self._poll_in_flight()
        self._build_channels()
        if self.active:
            await self._publish()

    # -------------------------------------------------------------------------------------------- L1 checks

    async def _check_posted(self) -> None:
        """Every kept channel's transactions still on canonical L1, sent by that block's batcher, in time; every
        done channel's still on canonical L1. Sacrificial (fault) channels are not checked: their blocks are posted
        again anyway."""
        self._done = [c for c in self._done if self.head.number - c.inclusion_range()[1] < REORG_WINDOW]
        subs = [s for c in self.cm.channels if not c.sacrificial for s in c.submissions
                if s.included is not None and not s.garbage]
        done = [s for c in self._done for s in c.submissions if s.included is not None and not s.garbage]
        if not subs and not done:
            return
        blocks = await canonical(self._l1, [s.included.number for s in subs + done])
        for s in done:
            if not await self._still_included(s, blocks):
                await self._repost_done(s.channel)
                return
        bad: tuple[Channel, str] | None = None
        for s in subs:
            if not await self._still_included(s, blocks):
                bad = bad or (s.channel, "l1_reorg")
            elif self.addresses.at(s.included.number) != s.sender:
                bad = bad or (s.channel, "not_batcher")
        for ch in self.cm.channels:
            if bad is not None:
                break
            span = ch.inclusion_range()
            if ch.confirmed and span is not None and not ch.sacrificial:
                opened = blocks.get(span[0])
                timeout = self.rollup.channel_timeout_at(opened.time if opened else self.head.time)
                if span[1] > span[0] + timeout:
                    bad = (ch, "channel_timed_out")
        if bad is not None:
            await self._rewind(*bad)

    async def _still_included(self, s: Submission, blocks: dict) -> bool:
        """Whether ``s`` is in a canonical block: where it was seen, or mined again in the new chain (then
        ``s.included`` moves there). A transaction gone from L1 is marked not included."""
        ref = blocks.get(s.included.number)
        if ref is not None and ref.hash == s.included.hash:
            return True
        r = await self._manager_of(s).receipt(s.pending)
        again = blocks.get(r.block_number) if r is not None else None
        if r is not None and again is not None and again.hash == r.block_hash:
            s.included = BlockID(r.block_hash, r.block_number)
            return True
        s.included = None
        return False

    async def _repost_done(self, ch: Channel) -> None:
        """An L1 reorg took away ``ch``, a channel already done: post its blocks and every later one again."""
        first = ch.first
        i = self._done.index(ch)
        lost, self._done = self._done[i:], self._done[:i]
        last = self.cm.last_block.number if self.cm.last_block else lost[-1].last
        self.events.emit("rewind", reason="l1_reorg", channel=ch.id, channels=len(lost) + len(self.cm.channels),
                         l2_blocks=[first, last])
        log.warning("posting L2 blocks %s again (%s)", [first, last], "l1_reorg of channels already done")
        self._floor = first - 1
        await self._restart_from(first - 1)
        for m in self.managers.values():
            await m.reset_nonce()

    async def _rewind(self, ch: Channel, reason: str) -> None:
        """Post ``ch`` and everything after it again; anything not yet mined goes with it."""
        cm = self.cm
        unmined = next((c for c in cm.channels if any(s.included is None for s in c.submissions)), None)
        if unmined is not None and cm.channels.index(unmined) < cm.channels.index(ch):
            ch = unmined
        dropped = cm.rewind(ch)
        blocks = sorted({b.number for c in dropped if not c.sacrificial for b in c.blocks})
        self.events.emit("rewind", reason=reason, channel=ch.id, channels=len(dropped),
                         l2_blocks=[blocks[0], blocks[-1]] if blocks else [])
        log.warning("posting L2 blocks %s again (%s)", blocks[:1] + blocks[-1:], reason)
        for m in self.managers.values():
            await m.reset_nonce()

    # -------------------------------------------------------------------------------------------- L2 side

    async def _node_on_canonical_l1(self, status: NodeStatus) -> bool:
        """Whether the node's derivation is on our L1 chain: after an L1 reorg, until it notices, its safe head
        may include blocks derived from data that is gone (they must not be dropped from the queue)."""
        if status.current_l1_hash is None or status.current_l1 == 0:
            return True
        ref = (await canonical(self._l1, [status.current_l1])).get(status.current_l1)
        return ref is not None and ref.hash == status.current_l1_hash

    def _safe_number(self, status: NodeStatus) -> int:
        """The node's safe head, or below it while blocks whose data an L1 reorg took away are posted again."""
        return status.safe.number if self._floor is None else min(status.safe.number, self._floor)

    async def _follow_safe_head(self, status: NodeStatus) -> None:
        cm = self.cm
        if cm.last_block is not None and not await self._node_on_canonical_l1(status):
            return
        depth = self.cfg.num_confirmations

        def keep(ch: Channel) -> bool:
            span = ch.inclusion_range()
            return not ch.confirmed or span is None or self.head.number - span[1] < depth

        if self._floor is not None and any(c.first <= self._floor + 1 <= c.last and not keep(c)
                                           for c in cm.channels if not c.sacrificial):
            self._floor = None  # the first block lost is on L1 again, deep enough
        safe = self._safe_number(status)
        for ch in cm.prune(safe, keep):
            span = ch.inclusion_range()
            if span is not None:
                self._pruned_inclusion = max(self._pruned_inclusion, span[1])
                if not ch.sacrificial:
                    self._done.append(ch)
        cm.drop_safe_blocks(safe)
        oldest = (cm.channels[0].first if cm.channels else cm.queue[0].number if cm.queue
                  else cm.last_block.number + 1 if cm.last_block else None)
        prev = self.status_seen
        if cm.last_block is None or cm.last_block.number < safe:
            if cm.last_block is not None:
                log.info("safe head %d is past the last loaded block %d: continuing from it", safe,
                         cm.last_block.number)
            await self._restart_from(safe)
        elif (oldest is not None and safe + 1 < oldest and status.current_l1 > self._pruned_inclusion + 2
              and (prev is None or status.current_l1 >= prev.current_l1)):
            self.events.emit("safe_reorg", safe_l2=safe, oldest_kept=oldest)
            log.warning("safe head %d fell behind blocks already posted (from %d): posting again", safe, oldest)
            self._done.clear()
            await self._restart_from(safe)

    async def _restart_from(self, number: int) -> None:
        block = await fetch_block(self._l2, self.rollup, number)
        if block is None:
            raise L2BlockError(f"the L2 execution client has no block {number}")
        abandoned = self.in_flight()
        self.cm.start_after(block)
        self._pruned_inclusion = -1
        if abandoned:
            for m in self.managers.values():
                await m.reset_nonce()

    async def _load_blocks(self, status: NodeStatus) -> None:
        cm = self.cm
        start = cm.last_block.number + 1
        end = min(status.unsafe.number, start + MAX_BLOCKS_PER_STEP - 1)
        for n in range(start, end + 1):
            block = await fetch_block(self._l2, self.rollup, n)
            if block is None:
                return
            try:
                cm.add_block(block, self.head.number)
            except L2Reorg as e:
                self.events.emit("l2_reorg", l2_block=n, detail=str(e))
                safe = self._safe_number(status)
                log.warning("L2 reorg: %s; starting again from the safe head %d", e, safe)
                self._done.clear()
                await self._restart_from(safe)
                return

    # -------------------------------------------------------------------------------------------- channels

    def _holding(self) -> Channel | None:
        """A channel_timeout fault channel that has not timed out on L1 yet: nothing after it is posted."""
        for ch in self.cm.channels:
            if ch.fault is FaultKind.TIMEOUT and (ch.hold_until_l1 is None or self.head.number < ch.hold_until_l1):
                return ch
        return None

    def _da(self) -> str:
        mode = self.cfg.da
        if mode == "auto":
            ok = self.head.blobs and self.rollup.is_active(Fork.ECOTONE, self.head.time)
            return BLOBS if ok else CALLDATA
        if mode == BLOBS and not self.head.blobs:
            log.warning("L1 does not take blob transactions: posting calldata")
            return CALLDATA
        return mode

    def _build_channels(self) -> None:
        cm = self.cm
        flush, self._flush = self._flush, False
        while self.active and self._holding() is None and (cm.due(self.head.number) or (flush and cm.queue)):
            faults = self.cfg.faults
            fault = faults.fault_for(cm.built) if faults else None
            if fault is not None and (self._last_was_sacrificial() or len(cm.queue) == 0):
                fault = None
            ch = cm.build(self.head.ref, self._da(), fault)
            if fault is FaultKind.GARBAGE:
                cm.add_garbage(ch, faults.garbage(ch.index))
            self.events.emit("channel", **ch.describe(), fault=fault.value if fault else None)
            if fault is not None:
                self.events.emit("fault", kind=fault.value, channel=ch.id, index=ch.index,
                                 l2_blocks=[ch.first, ch.last], expected_drops=EXPECTED_DROPS[fault])
                log.info("fault %s on channel %d (L2 blocks %d-%d)", fault.value, ch.index, ch.first, ch.last)
            flush = flush and ch.sacrificial

    def _last_was_sacrificial(self) -> bool:
        return bool(self.cm.channels) and self.cm.channels[-1].sacrificial
