"""Makes the recordings shipped in spec-vectors/replay/ from the in-memory harness (tests/harness).

    .venv/bin/python -m tests.replay.make_recordings [--commit HASH] [OUT_DIR]

Each scenario builds a small OP chain (sequencer and batcher, with faults where named), records an L1 range of it
with the real recorder (the harness's L1 and the sequencer's L2 chain as the source) and writes the file. The
harness is deterministic (fixed keys, channel ids and times), so the same code makes the same files.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trio

from derivation.protocol.compression import BROTLI, ZLIB
from derivation.protocol.config_update import UpdateType
from derivation.protocol.rollup_config import Fork
from derivation.protocol.transactions import Transaction
from opnode import __version__
from opnode.testing.harness.world import L1_CHAIN, World
from opnode.testing.txgen import KEYS, make_tx
from opnode.tools.batcher import fault_variants as faults
from opnode.tools.replay import format as fmt
from opnode.tools.replay.recorder import find_start, record
from opnode.tools.replay.session import Session
from tests.replay.chains import WorldSource, recordable_world

OUT = Path(__file__).resolve().parents[2] / "spec-vectors" / "replay"
REPO = "opnode (this repository)"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    proves: str
    build: Callable[[], tuple[World, int, int]]  # -> (world, from_l1, to_l1)
    lookback: int | None = None


class Chain:
    """A World with a user-transaction generator and a cursor over the blocks not yet posted."""

    def __init__(self, w: World):
        self.w = w
        self.nonce = {k: 0 for k in KEYS}
        self.posted = 0

    def sequence(self, n: int, with_txs: bool = True) -> list:
        out = []
        for _ in range(n):
            i = len(self.w.blocks)
            key = KEYS[i % len(KEYS)]
            ts = self.w.seq_l2.head.time + self.w.cfg.block_time
            txs = []
            if with_txs:
                kind = 2 if self.w.cfg.is_active(Fork.ECOTONE, ts) else 0
                txs = [make_tx(kind, self.w.cfg.l2_chain_id, key, self.nonce[key], data=bytes([i % 256]) * (i % 40))]
                self.nonce[key] += 1
            out += self.w.sequence(1, txs=txs)
        return out

    def unposted(self) -> list:
        new = self.w.blocks[self.posted:]
        self.posted = len(self.w.blocks)
        return new


def _deposit(n: int) -> Transaction:
    return Transaction(0x7E, source_hash=b"", from_=bytes([n + 1]) * 20, to=b"\x42" * 20, mint=10**17 * n, value=n,
                       gas=100_000, data=b"\x01\x02")


def calldata_pre_holocene() -> tuple[World, int, int]:
    """Granite: singular and span batches in calldata, a channel spread over two L1 blocks, batches posted out of
    order (buffered), a deposit and a gas-limit update from L1."""
    c = Chain(recordable_world({"granite": 0}))
    w = c.w
    for round_ in range(8):
        if round_ == 6:
            w.deposit(_deposit(round_))
        elif round_ == 4:
            w.config_update(UpdateType.GAS_LIMIT, (31_000_000).to_bytes(32, "big"))
        else:
            w.l1.mine()
        c.sequence(12)  # 24 s of L2 per round, about what L1 moves: origins keep up
        blocks = c.unposted()
        if round_ == 3:  # later half first: the batch queue buffers the future batches
            w.post(blocks[6:], span=False)
            w.post(blocks[:6], span=False)
        elif round_ == 5:  # one channel, frames in two L1 blocks
            frames = w.channel_frames(blocks, span=True, max_frame_size=300)
            w.post_frames(frames[:len(frames) // 2])
            w.post_frames(frames[len(frames) // 2:])
        else:
            w.post(blocks, span=round_ % 2 == 0)
    w.l1.mine()
    return w, 10, w.l1.head.number


def blobs_across_holocene() -> tuple[World, int, int]:
    """Blobs with zlib and brotli span batches, Holocene activating inside the range (the pipeline switches to
    the Holocene stages; the activation block's eip1559Params are zero, later ones come from the SystemConfig,
    which an L1 update changes)."""
    c = Chain(recordable_world({"granite": 0, "holocene": 120}))
    w = c.w
    for round_ in range(10):
        if round_ == 7:
            w.config_update(UpdateType.EIP_1559_PARAMS, (0).to_bytes(24, "big") + (100).to_bytes(4, "big")
                            + (4).to_bytes(4, "big"))
        else:
            w.l1.mine()
        c.sequence(12)  # 24 s of L2 for the two L1 blocks of each round: origins keep up with L1
        w.post(c.unposted(), span=True, compression=BROTLI if round_ % 2 else ZLIB, da="blobs")
    w.l1.mine()
    return w, 6, w.l1.head.number


def faults_holocene() -> tuple[World, int, int]:
    """Holocene with a misbehaving batcher: garbage data, frames out of order, an invalid batch that flushes its
    channel, a batch posted too early (dropped, not buffered) and posted again, and repeated (past) batches."""
    rng = random.Random(4)
    c = Chain(recordable_world({"holocene": 0}))
    w = c.w
    w.l1.mine()
    c.sequence(6)
    w.post(c.unposted(), span=False)
    w.l1.mine()
    # Garbage next to nothing valid.
    w.post_payloads([faults.garbage_payload(rng), faults.garbage_payload(rng, valid_version=False)])
    c.sequence(6)
    blocks = c.unposted()
    # Frames of a channel in the wrong order: the out-of-order frame is dropped, then the channel sent again.
    frames = w.channel_frames(blocks, span=True, max_frame_size=200)
    w.post_frames(faults.swap_frames(frames, 0, 1))
    w.post(blocks, span=True)
    # An invalid batch (wrong parent) first in its channel: dropped, and the channel flushed; then re-sent.
    w.l1.mine()
    c.sequence(6)
    blocks = c.unposted()
    batches = [b.batch for b in blocks]
    batches[0] = faults.wrong_parent(batches[0])
    w.post_frames(w.channel_frames(blocks, batches=batches, span=False))
    w.post(blocks, span=False)
    # Future batches (dropped under Holocene), then the whole run again: the first half is then past.
    w.l1.mine()
    c.sequence(6)
    blocks = c.unposted()
    w.post(blocks[3:], span=False)
    w.post(blocks[:3], span=False)
    w.post(blocks, span=False)
    w.l1.mine()
    return w, 2, w.l1.head.number


def across_karst(keep: bool) -> Callable[[], tuple[World, int, int]]:
    def build() -> tuple[World, int, int]:
        """Jovian chain, Karst activating at +84 s (L2 block 42) in the range: its activation block starts an
        epoch whose L1 origin carries a user deposit, then the 31 NUT deposits; span and singular batches around
        it; the gas limit at and after the activation block as ``keep_karst_upgrade_gas`` says."""
        c = Chain(recordable_world({"jovian": 0, "karst": 84}, keep_karst_upgrade_gas=keep))
        w = c.w
        w.l1.mine()
        for round_ in range(7):
            if round_ == 3:  # the L1 block at +84 s: the activation block's origin
                w.deposit(_deposit(round_))
            else:
                w.l1.mine()
            c.sequence(12)  # 24 s of L2 for the two L1 blocks of each round
            w.post(c.unposted(), span=round_ % 2 == 0)
        w.l1.mine()
        return w, 4, w.l1.head.number
    return build


SCENARIOS = [
    Scenario("calldata-pre-holocene", "Granite chain, calldata batches", "recording and replay of calldata "
             "singular and span batches, buffered future batches, a multi-block channel, a deposit and a "
             "SystemConfig update before Holocene; derivation starts mid-chain (reset walk-back)",
             calldata_pre_holocene, lookback=3),
    Scenario("blobs-across-holocene", "Blob batches across the Holocene activation", "recording and replay of "
             "blob batches (zlib and brotli span batches) across the Holocene activation, with an EIP-1559 "
             "parameter update", blobs_across_holocene),
    Scenario("faults-holocene", "Holocene chain with a misbehaving batcher", "replay explains dropped data, "
             "frames, channels and batches (with reasons) and still matches the real chain", faults_holocene),
    Scenario("across-karst-strip", "Karst activation, keep_karst_upgrade_gas false", "replay across the Karst "
             "activation block (L1-info, the origin's user deposit, the 31 NUTs; gas limit + 55,370,657) with the "
             "upgrade gas stripped again after it", across_karst(False)),
    Scenario("across-karst-keep", "Karst activation, keep_karst_upgrade_gas true (OP, Unichain)", "replay across "
             "the Karst activation block with the upgrade gas kept after it, as OP Mainnet and OP Sepolia run",
             across_karst(True)),
]


def file_name(s: Scenario) -> str:
    return f"{s.name}.jsonl.gz"


async def make(s: Scenario, commit: str = "") -> tuple[Session, World]:
    w, from_l1, to_l1 = s.build()
    source = WorldSource(w)
    start = await find_start(w.cfg, source, from_l1, s.lookback)
    provenance = ({"repo": REPO, "path": "tests/replay/make_recordings.py", "commit": commit,
                   "proves": s.proves},)
    session = await record(w.cfg, L1_CHAIN, source, from_l1=from_l1, to_l1=to_l1, start=start,
                           description=f"{s.description} (harness scenario {s.name})",
                           created_by=f"opnode {__version__} tests/replay/make_recordings.py",
                           sources={"l1": "tests/harness in-memory L1 with real headers",
                                    "l2": "tests/harness sequencer chain"},
                           provenance=provenance)
    return session, w


def main(argv: list[str]) -> None:
    """``--commit`` names the commit holding this generator, for the recordings' provenance."""
    commit = ""
    if argv[:1] == ["--commit"]:
        commit, argv = argv[1], argv[2:]
    out = Path(argv[0]) if argv else OUT
    out.mkdir(parents=True, exist_ok=True)
    for s in SCENARIOS:
        session, _ = trio.run(make, s, commit)
        size = fmt.write(out / file_name(s), session.store)
        print(f"{file_name(s)}: {size} bytes, {len(session.derived)} L2 blocks derived, "
              f"{len(session.store.l1_headers)} L1 headers, {sum(len(b) for b in session.store.blobs.values())} blobs")


if __name__ == "__main__":
    main(sys.argv[1:])
