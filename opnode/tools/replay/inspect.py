"""What a replay read, organised by channel: channels ↔ the L1 blocks and transactions that carried their frames ↔
the L2 blocks derived from their batches, with sizes and compression ratios (op-node's batch_decoder gives the
channels and frames; the mapping to L2 blocks is what it lacks).

An L2 block is attributed to the channel of the first batch read that covers its timestamp and was not dropped
before the block was derived (a span batch covers ``block_count`` consecutive timestamps); a block made because
the sequencing window expired has no channel. The pipeline's events do not name the batch a block came from, so
this is reconstructed from their order, which is how op-node's batch queue picks batches too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derivation.events import BatchRead, ChannelReady, Dropped, EmptyBatchGenerated, FramesRead
from opnode.tools.replay.replayer import ReplayResult
from opnode.tools.replay.session import DerivedBlock


@dataclass(frozen=True, slots=True)
class FrameRef:
    l1_block: int
    data_index: int  # the data item's index in the block (calldata transaction or blob)
    number: int
    size: int
    is_last: bool


@dataclass(frozen=True, slots=True)
class BatchRef:
    l1_block: int
    batch_type: str
    timestamp: int
    blocks: int
    txs: int
    size: int  # RLP bytes after decompression


@dataclass
class ChannelInfo:
    id: bytes
    frames: list[FrameRef] = field(default_factory=list)
    ready_at: int | None = None  # L1 block in which the channel became ready
    compressed: int | None = None  # channel data bytes (as assembled)
    compression: str = ""
    batches: list[BatchRef] = field(default_factory=list)
    l2_blocks: list[int] = field(default_factory=list)
    drops: list[Dropped] = field(default_factory=list)

    @property
    def frame_bytes(self) -> int:
        return sum(f.size for f in self.frames)

    @property
    def decompressed(self) -> int:
        return sum(b.size for b in self.batches)

    @property
    def read_fully(self) -> bool:
        """Every batch of the channel was read (it became ready and was not dropped or flushed)."""
        return self.ready_at is not None and not any(d.what == "channel" for d in self.drops)

    @property
    def ratio(self) -> float | None:
        """Decompressed over compressed size, for channels read to their end."""
        size = self.compressed
        return self.decompressed / size if size and self.batches and self.read_fully else None

    @property
    def l1_blocks(self) -> list[int]:
        return sorted({f.l1_block for f in self.frames})


@dataclass(frozen=True, slots=True)
class L2Mapping:
    block: DerivedBlock
    channel_id: bytes | None  # None: no batch (empty block after the sequencing window expired)
    inclusion: tuple[int, ...]  # L1 blocks that carried the channel's frames


@dataclass
class Mapping:
    channels: list[ChannelInfo]
    l2_blocks: list[L2Mapping]
    data_drops: list[Dropped]  # batcher data that never became frames


@dataclass
class _Candidate:
    channel: bytes
    first: int
    last: int


def build(result: ReplayResult) -> Mapping:
    cfg = result.store.cfg
    channels: dict[bytes, ChannelInfo] = {}
    candidates: list[_Candidate] = []
    empty: set[int] = set()
    l2: list[tuple[DerivedBlock, bytes | None]] = []
    data_drops: list[Dropped] = []

    def channel(cid: bytes) -> ChannelInfo:
        if cid not in channels:
            channels[cid] = ChannelInfo(cid)
        return channels[cid]

    for ev in result.session.timeline:
        if isinstance(ev, FramesRead):
            for cid, number, size, last in ev.frames:
                channel(cid).frames.append(FrameRef(ev.l1.number, ev.tx_index, number, size, last))
        elif isinstance(ev, ChannelReady):
            ch = channel(ev.channel_id)
            ch.ready_at, ch.compressed = ev.l1.number, ev.size
        elif isinstance(ev, BatchRead):
            ch = channel(ev.channel_id)
            ch.compression = ev.compression or ch.compression
            ch.batches.append(BatchRef(ev.l1.number, ev.batch_type, ev.timestamp, ev.blocks, ev.txs, ev.size))
            candidates.append(_Candidate(ev.channel_id, ev.timestamp,
                                         ev.timestamp + (ev.blocks - 1) * cfg.block_time))
        elif isinstance(ev, Dropped):
            cid = ev.detail.get("channel_id")
            if cid is not None:
                channel(bytes.fromhex(cid)).drops.append(ev)
            elif ev.what == "data":
                data_drops.append(ev)
            ts = ev.detail.get("timestamp")
            if ev.what == "batch" and ts is not None:
                gone = next((c for c in candidates if c.first == ts), None)
                if gone is not None:
                    candidates.remove(gone)
        elif isinstance(ev, EmptyBatchGenerated):
            empty.add(ev.timestamp)
        elif isinstance(ev, DerivedBlock):
            t = ev.attributes.attributes.timestamp
            candidates = [c for c in candidates if c.last >= t]
            if t in empty:
                l2.append((ev, None))
                continue
            c = next((c for c in candidates if c.first <= t), None)
            if c is not None:
                channel(c.channel).l2_blocks.append(ev.number)
                if c.last == t:
                    candidates.remove(c)
            l2.append((ev, c.channel if c is not None else None))
    ordered = sorted(channels.values(), key=lambda c: (min((f.l1_block for f in c.frames), default=1 << 63),
                                                      min((f.data_index for f in c.frames), default=0)))
    mapping = [L2Mapping(d, cid, tuple(channels[cid].l1_blocks) if cid is not None else ()) for d, cid in l2]
    return Mapping(ordered, mapping, data_drops)
