"""A whole small OP chain in memory: L1, a sequencer, a batcher (with faults on request) and a verifier that
derives the L2 chain from L1 with the real pipeline."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from derivation.events import Dropped, Event
from derivation.pipeline import CriticalFailure, Needed, Pipeline, Progress, ResetRequired, TemporaryFailure
from derivation.protocol.attributes import AttributesWithParent, PayloadAttributes
from derivation.protocol.batches import SingularBatch
from derivation.protocol.blobs import encode_blob
from derivation.protocol.compression import ZLIB
from derivation.protocol.config_update import UpdateType, config_update_log
from derivation.protocol.crypto import address_from_private_key, keccak256
from derivation.protocol.deposits import deposit_log
from derivation.protocol.frames import Frame
from derivation.protocol.kzg import blob_versioned_hash
from derivation.protocol.l1_chain_config import BlobFork, L1ChainConfig
from derivation.protocol.rollup_config import Fork, Genesis, RollupConfig
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.transactions import BLOB, DYNAMIC_FEE, Transaction
from derivation.protocol.types import BlockID, L2BlockRef
from derivation.providers import DataKind
from derivation.stages.attributes_builder import AttributesBuilder
from opnode.testing.harness.l1 import MemoryL1
from opnode.testing.harness.l2 import MemoryL2
from opnode.tools.batcher.channel_out import ChannelOut, blob_payloads, calldata_payloads

L1_CHAIN_ID, L2_CHAIN_ID = 900, 901
BATCHER_KEY = keccak256(b"batcher")
OTHER_KEY = keccak256(b"someone else")
INBOX = bytes.fromhex("ff00000000000000000000000000000000000901")
DEPOSIT_CONTRACT = bytes.fromhex("00000000000000000000000000000000de90517e")
SYSTEM_CONFIG = bytes.fromhex("00000000000000000000000000000000c0ff1999")
GENESIS_TIME = 1_700_000_000
L1_CHAIN = L1ChainConfig(L1_CHAIN_ID, (BlobFork("cancun", 0, 3_338_477),))
ECOTONE_SCALAR = bytes.fromhex("01" + "00" * 23 + "000f79c5" + "00000558")


def test_config(forks: dict[str, int] | None = None, **overrides) -> RollupConfig:
    """A rollup config for tests. ``forks`` maps fork names to activation offsets after L2 genesis (0 = at
    genesis); by default every fork through Granite is active at genesis."""
    forks = {"granite": 0} if forks is None else forks
    times = {Fork.parse(k): GENESIS_TIME + v for k, v in forks.items()}
    fields = dict(
        genesis=None, block_time=2, max_sequencer_drift=600, seq_window_size=20, channel_timeout=30,
        l1_chain_id=L1_CHAIN_ID, l2_chain_id=L2_CHAIN_ID, batch_inbox_address=INBOX,
        deposit_contract_address=DEPOSIT_CONTRACT, l1_system_config_address=SYSTEM_CONFIG, fork_times=times)
    fields.update(overrides)
    return RollupConfig(**fields)


@dataclass
class Sequenced:
    ref: L2BlockRef
    attributes: PayloadAttributes
    batch: SingularBatch
    seq_number: int


@dataclass
class Derivation:
    derived: list[AttributesWithParent] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    resets: list[str] = field(default_factory=list)
    failure: object | None = None

    def drops(self, what: str | None = None) -> list[Dropped]:
        return [e for e in self.events if isinstance(e, Dropped) and (what is None or e.what == what)]

    def drop_reasons(self, what: str | None = None) -> list[str]:
        return [e.reason.value for e in self.drops(what)]


class World:
    def __init__(self, forks: dict[str, int] | None = None, *, make_cfg=None, **overrides):
        """``make_cfg(l1_genesis, batcher_address)`` builds the rollup config instead (e.g. to match a real
        engine's genesis)."""
        self.l1 = MemoryL1(GENESIS_TIME - 12)
        g1 = self.l1.head
        if make_cfg is not None:
            self.cfg = make_cfg(g1.id, address_from_private_key(BATCHER_KEY))
        else:
            cfg = test_config(forks, **overrides)
            scalar = ECOTONE_SCALAR if cfg.is_active(Fork.ECOTONE, GENESIS_TIME) else (684_000).to_bytes(32, "big")
            sys_cfg = SystemConfig(address_from_private_key(BATCHER_KEY), (188).to_bytes(32, "big"), scalar,
                                   30_000_000)
            self.cfg = dataclasses.replace(cfg, genesis=Genesis(g1.id, BlockID(keccak256(b"L2 genesis"), 0),
                                                                GENESIS_TIME, sys_cfg))
        self.seq_l2 = MemoryL2(self.cfg)
        self.builder = AttributesBuilder(self.cfg, L1_CHAIN, self.l1, self.seq_l2)
        self.blocks: list[Sequenced] = []
        self.batcher_key = BATCHER_KEY
        self._nonces: dict[bytes, int] = {}
        self._channel_n = 0
        self.verifier = Verifier(self)

    # -------------------------------------------------------------------------------------------- sequencer

    def sequence(self, n: int = 1, txs=(), origin: int | None = None) -> list[Sequenced]:
        """Build ``n`` L2 blocks. The L1 origin advances when the next L1 block is old enough (or to ``origin``);
        ``txs`` go into the first block (dropped where the sequencer may not include any)."""
        out = []
        for i in range(n):
            parent = self.seq_l2.head
            ts = parent.time + self.cfg.block_time
            cur = self.l1.block_by_hash(parent.l1_origin.hash)
            if origin is not None:
                epoch = self.l1.block_by_number(origin)
            else:
                nxt = self.l1.canonical[cur.number + 1].info if cur.number + 1 < len(self.l1.canonical) else None
                epoch = nxt if nxt is not None and nxt.time <= ts else cur
            attrs = self.builder.prepare(parent, BlockID(epoch.hash, epoch.number))
            user = list(txs) if i == 0 else []
            if ts > epoch.time + self.cfg.max_sequencer_drift_at(epoch.time) or self.cfg.is_empty_activation_block(ts):
                user = []
            attrs = dataclasses.replace(attrs, transactions=attrs.transactions + tuple(user))
            ref = self.seq_l2.execute(parent, attrs)
            batch = SingularBatch(parent.hash, epoch.number, epoch.hash, ts, tuple(user))
            out.append(Sequenced(ref, attrs, batch, ref.sequence_number))
        self.blocks.extend(out)
        return out

    # -------------------------------------------------------------------------------------------- L1 side

    def _l1_tx(self, key: bytes, to: bytes, data: bytes = b"", blob_hashes=()) -> Transaction:
        sender = address_from_private_key(key)
        nonce = self._nonces.get(sender, 0)
        self._nonces[sender] = nonce + 1
        tx = Transaction(BLOB if blob_hashes else DYNAMIC_FEE, chain_id=L1_CHAIN_ID, nonce=nonce, gas=1_000_000,
                         to=to, data=data, max_priority_fee_per_gas=1, max_fee_per_gas=100 * 10**9)
        if blob_hashes:
            tx.max_fee_per_blob_gas = 10**9
            tx.blob_versioned_hashes = list(blob_hashes)
        return tx.sign(key)

    def channel_frames(self, blocks: list[Sequenced], *, span: bool = True, compression: str = ZLIB,
                       max_frame_size: int = 120_000, channel_id: bytes | None = None,
                       batches: list[SingularBatch] | None = None) -> list[Frame]:
        self._channel_n += 1
        ch = ChannelOut(channel_id or keccak256(self._channel_n.to_bytes(8, "big"))[:16], span=span,
                        compression=compression, chain_id=self.cfg.l2_chain_id, genesis_time=self.cfg.genesis.l2_time)
        for b, batch in zip(blocks, batches or [b.batch for b in blocks], strict=True):
            ch.add_block(batch, b.seq_number)
        return ch.frames(max_frame_size)

    def batcher_txs(self, frames: list[Frame], *, da: str = "calldata", frames_per_tx: int = 1,
                    key: bytes | None = None, to: bytes | None = None) -> tuple[list[Transaction], dict]:
        key, to = key or self.batcher_key, to or self.cfg.batch_inbox_address
        if da == "calldata":
            return [self._l1_tx(key, to, p) for p in calldata_payloads(frames, frames_per_tx)], {}
        blobs = {}
        txs = []
        payloads = blob_payloads(frames)
        for i in range(0, len(payloads), 6):
            hashes = []
            for p in payloads[i:i + 6]:
                blob = encode_blob(p)
                vh = blob_versioned_hash(blob)
                blobs[vh] = blob
                hashes.append(vh)
            txs.append(self._l1_tx(key, to, b"", hashes))
        return txs, blobs

    def post(self, blocks: list[Sequenced] | None = None, *, da: str = "calldata", mine: bool = True,
             l1_time: int | None = None, **kw):
        """Post a channel with ``blocks`` (default: all sequenced blocks) in the next L1 block."""
        blocks = self.blocks if blocks is None else blocks
        frames = self.channel_frames(blocks, **kw)
        txs, blobs = self.batcher_txs(frames, da=da)
        if mine:
            self.l1.mine(txs, blobs=blobs, time=l1_time)
        return txs, blobs

    def post_frames(self, frames: list[Frame], *, da: str = "calldata", frames_per_tx: int = 1,
                    key: bytes | None = None, to: bytes | None = None, l1_time: int | None = None) -> None:
        """One L1 block with batcher transactions carrying ``frames`` (in this order)."""
        txs, blobs = self.batcher_txs(frames, da=da, frames_per_tx=frames_per_tx, key=key, to=to)
        self.l1.mine(txs, blobs=blobs, time=l1_time)

    def post_payloads(self, payloads: list[bytes], key: bytes | None = None, to: bytes | None = None) -> None:
        """One L1 block with raw calldata batcher payloads (garbage, hand-made frames)."""
        self.l1.mine([self._l1_tx(key or self.batcher_key, to or self.cfg.batch_inbox_address, p) for p in payloads])

    def reorg_l1(self, depth: int) -> None:
        """An L1 reorg of ``depth`` blocks; the sequencer drops L2 blocks whose L1 origin is gone."""
        self.l1.reorg(depth)
        canonical = {b.info.hash for b in self.l1.canonical}
        keep = [b for b in self.blocks if b.batch.epoch_hash in canonical]
        keep = self.blocks[:len(keep)] if keep == self.blocks[:len(keep)] else keep
        self.blocks = keep
        self.seq_l2.rewind(keep[-1].ref if keep else self.seq_l2.canonical[0].ref)

    def deposit(self, tx: Transaction) -> None:
        """An L1 block whose portal event deposits ``tx``."""
        self.l1.mine(logs=[deposit_log(tx, DEPOSIT_CONTRACT)])

    def config_update(self, kind: UpdateType, payload: bytes, mine: bool = True):
        log = config_update_log(kind, payload, SYSTEM_CONFIG)
        if mine:
            self.l1.mine(logs=[log])
        return log

    # -------------------------------------------------------------------------------------------- checks

    def derive(self) -> Derivation:
        return self.verifier.run()

    def assert_safe_chain_matches(self, upto: int | None = None) -> None:
        seq = [b.ref for b in self.blocks]
        got = [b.ref for b in self.verifier.l2.canonical[1:]]
        n = len(seq) if upto is None else upto
        assert got[:n] == seq[:n], _first_diff(self.blocks, self.verifier.l2.canonical[1:])


def _first_diff(seq: list[Sequenced], got) -> str:
    for a, b in zip(seq, got, strict=False):
        if a.ref != b.ref:
            sa, sb = a.attributes, b.attributes
            diff = [f for f in ("timestamp", "prev_randao", "gas_limit", "eip1559_params", "min_base_fee",
                                "parent_beacon_block_root") if getattr(sa, f) != getattr(sb, f)]
            return (f"block {a.ref.number} differs: fields {diff}; sequencer {len(sa.transactions)} txs, verifier "
                    f"{len(sb.transactions)} txs; same txs prefix: "
                    f"{sum(1 for x, y in zip(sa.transactions, sb.transactions, strict=False) if x == y)}")
    return f"lengths differ: sequencer {len(seq)}, verifier {len(got)}"


class Verifier:
    """A node that derives from L1 only, with its own L2 chain; persistent across ``run`` calls."""

    def __init__(self, world: World):
        self.world = world
        self.l2 = MemoryL2(world.cfg)
        self.result = Derivation()
        self.pipeline = Pipeline(world.cfg, L1_CHAIN, world.l1, self.l2, self.result.events.append)
        self.safe = self.l2.head
        self.pipeline.reset(self.safe)

    def run(self, max_steps: int = 100_000) -> Derivation:
        for _ in range(max_steps):
            r = self.pipeline.step(self.safe)
            if isinstance(r, AttributesWithParent):
                self.safe = self.l2.execute(r.parent, r.attributes)
                self.result.derived.append(r)
            elif isinstance(r, Progress):
                continue
            elif isinstance(r, Needed):
                req = r.request
                if req.kind is DataKind.L1_BLOCK_BY_NUMBER and req.key >= len(self.world.l1.canonical):
                    return self.result  # caught up with L1
                raise AssertionError(f"in-memory chains lack {req}")
            elif isinstance(r, ResetRequired):
                self.result.resets.append(r.reason)
                self._reset()
            elif isinstance(r, (TemporaryFailure, CriticalFailure)):
                self.result.failure = r
                return self.result
        raise AssertionError("derivation did not settle")

    def _reset(self) -> None:
        """A minimal sync start: back off until the safe head's L1 origin is canonical."""
        l1 = self.world.l1
        safe = self.safe
        while safe.number > 0 and (safe.l1_origin.number >= len(l1.canonical)
                                   or l1.canonical[safe.l1_origin.number].info.hash != safe.l1_origin.hash):
            safe = self.l2.block_ref_by_hash(safe.parent_hash)
        self.l2.rewind(safe)
        self.safe = safe
        self.pipeline.reset(safe)
