"""The batcher's channels: L2 blocks in, channels of frames out, and what happened to each frame on L1 (sans-IO).

Blocks wait in a queue until the open channel is due: ``max_channel_duration`` L1 blocks after its first block
arrived (0: at once), or ``max_channel_bytes`` of batch data. A channel is then built whole (span batches from
Delta, brotli from Fjord by the L1 head's time, else singular batches and zlib), cut into frames of at most the
frame size of its DA (blobs: 130,043 bytes, one blob per frame; calldata: ``max_frame_size``), and turned into
submissions: one batcher transaction each (calldata: one frame; blobs: up to ``blobs_per_tx`` frames).

A channel is *confirmed* once every submission is in an L1 block; it is done (pruned) once the rollup node's safe
head has passed its last block. :meth:`ChannelManager.rewind` puts a channel's blocks, and those of every later
channel, back into the queue: the channel's data is no longer on L1 (reorg), or came too late (timed out), or was
sent from a key that was not the batcher when it was included.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from derivation.protocol.blobs import encode_blob
from derivation.protocol.compression import BROTLI, ZLIB
from derivation.protocol.frames import FRAME_V0_OVERHEAD, Frame, encode_frames
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.types import BlockID, L1BlockRef
from opnode.tools.batcher.channel_out import MAX_BLOB_FRAME_SIZE, ChannelOut
from opnode.tools.batcher.fault_variants import wrong_parent
from opnode.tools.batcher.faults import NEEDS_TWO_FRAMES, SACRIFICIAL, FaultKind
from opnode.tools.batcher.l2_blocks import L2Block

CALLDATA, BLOBS = "calldata", "blobs"


class L2Reorg(Exception):
    """A new L2 block does not build on the last one the batcher loaded."""


@dataclass(slots=True, eq=False)
class Submission:
    """One batcher transaction's worth of data."""

    channel: Channel
    da: str
    payloads: tuple[bytes, ...]  # calldata: one data item; blobs: one data item per blob (not yet blob-encoded)
    frames: tuple[int, ...]  # frame numbers carried, in order (empty for garbage)
    garbage: bool = False
    pending: object | None = None  # the TxManager's PendingTx once sent
    sender: bytes | None = None
    included: BlockID | None = None

    def blobs(self) -> tuple[bytes, ...]:
        return tuple(encode_blob(p) for p in self.payloads) if self.da == BLOBS else ()

    def calldata(self) -> bytes:
        return self.payloads[0] if self.da == CALLDATA else b""


@dataclass(slots=True, eq=False)
class Channel:
    index: int  # 0-based count of channels built
    id: bytes
    blocks: tuple[L2Block, ...]
    opened_l1: int
    da: str
    compression: str
    span: bool
    frames: list[Frame]
    fault: FaultKind | None = None
    submissions: list[Submission] = field(default_factory=list)
    hold_until_l1: int | None = None  # channel_timeout fault: post nothing else until L1 reaches this block

    @property
    def sacrificial(self) -> bool:
        return self.fault in SACRIFICIAL

    @property
    def first(self) -> int:
        return self.blocks[0].number

    @property
    def last(self) -> int:
        return self.blocks[-1].number

    @property
    def sent(self) -> bool:
        return all(s.pending is not None for s in self.submissions)

    @property
    def confirmed(self) -> bool:
        return all(s.included is not None for s in self.submissions)

    def inclusion_range(self) -> tuple[int, int] | None:
        nums = [s.included.number for s in self.submissions if s.included is not None and not s.garbage]
        return (min(nums), max(nums)) if nums else None

    def describe(self) -> dict:
        return {"channel": self.id.hex(), "index": self.index, "l2_blocks": [self.first, self.last],
                "frames": len(self.frames), "da": self.da, "compression": self.compression,
                "batch": "span" if self.span else "singular", "txs": len(self.submissions)}


class ChannelManager:
    def __init__(self, cfg: RollupConfig, *, max_channel_duration: int = 2, max_channel_bytes: int = 500_000,
                 max_frame_size: int = 120_000 - 1, blobs_per_tx: int = 6, new_id: Callable[[], bytes] | None = None):
        if max_frame_size <= FRAME_V0_OVERHEAD:
            raise ValueError(f"max frame size must exceed the {FRAME_V0_OVERHEAD}-byte frame overhead")
        if not 1 <= blobs_per_tx <= 9:
            raise ValueError("blobs per transaction must be between 1 and 9")
        self.cfg = cfg
        self.max_channel_duration = max_channel_duration
        self.max_channel_bytes = max_channel_bytes
        self.max_frame_size = max_frame_size
        self.blobs_per_tx = blobs_per_tx
        self.new_id = new_id or (lambda: os.urandom(16))
        self.queue: deque[L2Block] = deque()
        self.opened_at: int | None = None  # L1 head number when the queue's first block arrived
        self.channels: list[Channel] = []  # built and not yet done, in posting order
        self.last_block: L2Block | None = None  # newest block loaded
        self.built = 0
        self._queued_bytes = 0

    # -------------------------------------------------------------------------------------------- blocks

    def add_block(self, block: L2Block, l1_head: int) -> None:
        if self.last_block is not None and block.ref.parent_hash != self.last_block.hash:
            raise L2Reorg(f"L2 block {block.number} does not build on block {self.last_block.number} "
                          f"0x{self.last_block.hash.hex()[:16]}")
        self.queue.append(block)
        self._queued_bytes += len(block.batch().encode())
        self.last_block = block
        if self.opened_at is None:
            self.opened_at = l1_head

    def start_after(self, block: L2Block | None) -> None:
        """Forget everything; the next block loaded must build on ``block`` (None: on anything)."""
        self.queue.clear()
        self.channels.clear()
        self.opened_at = None
        self._queued_bytes = 0
        self.last_block = block

    def due(self, l1_head: int) -> bool:
        if not self.queue:
            return False
        return (l1_head - self.opened_at >= self.max_channel_duration
                or self._queued_bytes >= self.max_channel_bytes)

    # -------------------------------------------------------------------------------------------- channels

    def build(self, l1_head: L1BlockRef, da: str, fault: FaultKind | None = None) -> Channel:
        """Close the open channel: every queued block goes into a new channel (a sacrificial one's blocks stay
        queued for the next)."""
        if not self.queue:
            raise ValueError("no blocks to put in a channel")
        cfg = self.cfg
        blocks = tuple(self.queue)
        span = cfg.is_active(Fork.DELTA, l1_head.time) and fault is not FaultKind.INVALID
        compression = BROTLI if cfg.is_active(Fork.FJORD, l1_head.time) else ZLIB
        out = ChannelOut(self.new_id(), span=span, compression=compression, chain_id=cfg.l2_chain_id,
                         genesis_time=cfg.genesis.l2_time)
        for i, b in enumerate(blocks):
            batch = b.batch()
            if fault is FaultKind.INVALID and i == 0:
                batch = wrong_parent(batch)
            out.add_block(batch, b.ref.sequence_number)
        size = min(self.max_frame_size, MAX_BLOB_FRAME_SIZE) if da == BLOBS else self.max_frame_size
        data_len = len(out.close())
        if fault is FaultKind.DUPLICATE:
            size //= 2  # the frame and its copy share one data item
        if fault in NEEDS_TWO_FRAMES and data_len + FRAME_V0_OVERHEAD <= size:
            size = FRAME_V0_OVERHEAD + max(1, (data_len + 1) // 2)
        frames = out.frames(size)
        ch = Channel(self.built, out.id, blocks, self.opened_at if self.opened_at is not None else l1_head.number,
                     da, compression, span, frames, fault)
        self.built += 1
        items = [[f] for f in frames]  # one frame per data item (calldata tx or blob)
        if fault is FaultKind.DUPLICATE:
            items[0] = [frames[0], frames[0]]
        elif fault is FaultKind.REORDER:
            items[0], items[1] = items[1], items[0]
        elif fault is FaultKind.TIMEOUT:
            items = items[:-1]
        ch.submissions = self._submissions(ch, items)
        self.channels.append(ch)
        if not ch.sacrificial:
            self.queue.clear()
            self._queued_bytes = 0
            self.opened_at = None
        return ch

    def _submissions(self, ch: Channel, items: list[list[Frame]]) -> list[Submission]:
        payloads = [encode_frames(item) for item in items]
        numbers = [tuple(f.number for f in item) for item in items]
        if ch.da == CALLDATA:
            return [Submission(ch, CALLDATA, (p,), n) for p, n in zip(payloads, numbers, strict=True)]
        step = self.blobs_per_tx
        return [Submission(ch, BLOBS, tuple(payloads[i:i + step]), sum(numbers[i:i + step], ()))
                for i in range(0, len(items), step)]

    def add_garbage(self, ch: Channel, payload: bytes) -> None:
        """A garbage batcher transaction in front of the channel's own."""
        ch.submissions.insert(0, Submission(ch, ch.da, (payload,), (), garbage=True))

    def rewind(self, ch: Channel) -> list[Channel]:
        """Drop ``ch`` and every later channel; their blocks go back to the queue. Returns the dropped channels."""
        i = self.channels.index(ch)
        dropped = self.channels[i:]
        del self.channels[i:]
        blocks: dict[int, L2Block] = {}
        for c in dropped:
            if not c.sacrificial:
                for b in c.blocks:
                    blocks[b.number] = b
        for b in self.queue:
            blocks[b.number] = b
        self.queue = deque(blocks[n] for n in sorted(blocks))
        self._queued_bytes = sum(len(b.batch().encode()) for b in self.queue)
        if self.queue:
            self.opened_at = min([c.opened_l1 for c in dropped] + ([self.opened_at] if self.opened_at is not None
                                                                   else []))
        return dropped

    def prune(self, safe_number: int, keep) -> list[Channel]:
        """Drop leading channels whose blocks are all safe and that ``keep(channel)`` does not hold on to;
        sacrificial channels go with the regular channel after them."""
        done = []
        while self.channels:
            ch = self.channels[0]
            if ch.sacrificial:
                nxt = next((c for c in self.channels if not c.sacrificial), None)
                if nxt is None or nxt.last > safe_number or keep(nxt):
                    break
            elif ch.last > safe_number or keep(ch):
                break
            done.append(self.channels.pop(0))
        return done

    def drop_safe_blocks(self, safe_number: int) -> None:
        """Queued blocks the node already has as safe (someone else posted them) need no channel."""
        while self.queue and self.queue[0].number <= safe_number:
            b = self.queue.popleft()
            self._queued_bytes -= len(b.batch().encode())
        if not self.queue:
            self.opened_at = None
