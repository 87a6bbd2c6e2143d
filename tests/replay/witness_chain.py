"""A small real OP chain in one process, for making witnesses: an L1 whose headers are real (their hashes commit to
their transactions and receipts), the embedded engine building every L2 block from the attributes the real
AttributesBuilder prepares (L1-info deposits, a user deposit from an L1 log, upgrade transactions at fork
activations, user transfers), and a batcher posting the blocks to L1 as span batches in blobs or calldata.

:func:`recording` turns it into a replay recording (what ``opnode replay record`` writes), the input of the export
path together with the engine's data directory."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from derivation.protocol.attributes import PayloadAttributes
from derivation.protocol.batches import SingularBatch
from derivation.protocol.blobs import encode_blob
from derivation.protocol.compression import BROTLI
from derivation.protocol.crypto import address_from_private_key, keccak256
from derivation.protocol.deposits import deposit_log
from derivation.protocol.kzg import blob_versioned_hash
from derivation.protocol.l1_chain_config import BlobFork, L1ChainConfig
from derivation.protocol.l1_info import system_config_from_l2_block
from derivation.protocol.l2_refs import block_ref
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.transactions import BLOB, DYNAMIC_FEE, Transaction, deposit
from derivation.protocol.transactions import decode as decode_tx
from derivation.protocol.trie import EMPTY_TRIE_ROOT, ordered_trie_root
from derivation.protocol.types import BlockID, L1BlockInfo, L1BlockRef, L2BlockRef, Log, Receipt
from derivation.stages.attributes_builder import AttributesBuilder
from engine.execution.chain import Chain
from engine.execution.evm.block import BlockAttributes
from engine.execution.evm.header import EMPTY_REQUESTS_HASH, Header
from engine.execution.evm.receipts import LogEntry, bloom_bytes, logs_bloom
from engine.execution.op_genesis import build_op_genesis, rollup_config_for
from engine.execution.store import Store as EngineStore
from opnode.tools.batcher.channel_out import ChannelOut, blob_payloads, calldata_payloads
from opnode.tools.replay.store import L2Block, Meta, decode_l1_header, encode_receipt
from opnode.tools.replay.store import Store as Recording

L1_CHAIN_ID, L2_CHAIN_ID = 900, 901
L1_CHAIN = L1ChainConfig(L1_CHAIN_ID, (BlobFork("cancun", 0, 3_338_477), BlobFork("prague", 0, 5_007_716)))
BATCHER_KEY = keccak256(b"witness batcher")
USER_KEY = keccak256(b"witness user")
USER = address_from_private_key(USER_KEY)
DEPOSIT_CONTRACT = bytes.fromhex("00000000000000000000000000000000de90517e")
SYSTEM_CONFIG = bytes.fromhex("00000000000000000000000000000000c0ff1999")
GENESIS_TIME = 1_700_000_000


@dataclass
class L1Block:
    header: Header
    txs: list[Transaction]
    receipts: list[Receipt]
    blobs: list[tuple[bytes, bytes]] = field(default_factory=list)  # (versioned hash, blob) in block order

    @property
    def info(self) -> L1BlockInfo:
        return decode_l1_header(self.header.encode()).info


class RealL1:
    """L1 blocks with consensus headers; the L1Source the sequencer's AttributesBuilder reads."""

    def __init__(self, genesis_time: int):
        self.blocks: list[L1Block] = []
        self.nonces: dict[bytes, int] = {}
        self.mine([], time=genesis_time)

    def mine(self, txs: list[tuple[Transaction, tuple[Log, ...]]], blobs=(), time: int | None = None) -> L1Block:
        parent = self.blocks[-1].header if self.blocks else None
        number = parent.number + 1 if parent else 0
        time = time if time is not None else parent.timestamp + 12
        receipts, cumulative = [], 0
        for i, (tx, logs) in enumerate(txs):
            cumulative += 21_000 + 1000 * i
            logs = tuple(dataclasses.replace(lg, log_index=j) for j, lg in enumerate(logs))
            bloom = bloom_bytes(logs_bloom([LogEntry(lg.address, lg.topics, lg.data) for lg in logs]))
            receipts.append(Receipt(tx.type, 1, cumulative, logs, bloom))
        h = Header(parent_hash=parent.hash if parent else bytes(32), coinbase=bytes(20),
                   state_root=keccak256(b"l1 state %d" % number),
                   transactions_root=ordered_trie_root([t.raw for t, _ in txs]) if txs else EMPTY_TRIE_ROOT,
                   receipts_root=ordered_trie_root([encode_receipt(r) for r in receipts]) if txs else EMPTY_TRIE_ROOT,
                   logs_bloom=bytes(256), number=number, gas_limit=30_000_000, gas_used=cumulative, timestamp=time,
                   extra_data=b"", mix_hash=keccak256(b"randao %d" % number), base_fee=7 * 10**9,
                   withdrawals_root=EMPTY_TRIE_ROOT, blob_gas_used=131072 * len(blobs), excess_blob_gas=0,
                   parent_beacon_root=keccak256(b"beacon %d" % number), requests_hash=EMPTY_REQUESTS_HASH)
        b = L1Block(h, [t for t, _ in txs], receipts, list(blobs))
        self.blocks.append(b)
        return b

    def tx(self, key: bytes, to: bytes, data: bytes = b"", blob_hashes=()) -> Transaction:
        sender = address_from_private_key(key)
        nonce = self.nonces.get(sender, 0)
        self.nonces[sender] = nonce + 1
        tx = Transaction(BLOB if blob_hashes else DYNAMIC_FEE, chain_id=L1_CHAIN_ID, nonce=nonce, gas=1_000_000, to=to,
                         data=data, max_priority_fee_per_gas=1, max_fee_per_gas=100 * 10**9)
        if blob_hashes:
            tx.max_fee_per_blob_gas = 10**9
            tx.blob_versioned_hashes = list(blob_hashes)
        return tx.sign(key)

    def _by_hash(self, h: bytes) -> L1Block:
        return next(b for b in self.blocks if b.header.hash == h)

    def block_by_number(self, number: int) -> L1BlockInfo:
        return self.blocks[number].info

    def block_by_hash(self, block_hash: bytes) -> L1BlockInfo:
        return self._by_hash(block_hash).info

    def transactions(self, block: L1BlockRef) -> list[Transaction]:
        return self._by_hash(block.hash).txs

    def receipts(self, block: L1BlockRef) -> list[Receipt]:
        return self._by_hash(block.hash).receipts


class EngineL2:
    """The L2Source over the engine's canonical chain, read the way a node reads its engine."""

    def __init__(self, cfg: RollupConfig, chain: Chain):
        self.cfg, self.chain = cfg, chain

    def block_ref_by_hash(self, h: bytes) -> L2BlockRef:
        b = self.chain.block(h)
        return block_ref(self.cfg, h, b.header.number, b.header.parent_hash, b.header.timestamp,
                         b.raw_transactions[0] if b.raw_transactions else None)

    def block_ref_by_number(self, n: int) -> L2BlockRef:
        return self.block_ref_by_hash(self.chain.canonical_hash(n))

    def system_config(self, h: bytes) -> SystemConfig:
        b = self.chain.block(h)
        if b.header.number == 0:
            return self.cfg.genesis.system_config
        return system_config_from_l2_block(self.cfg, decode_tx(b.raw_transactions[0]).data, b.header.gas_limit,
                                           b.header.extra_data, b.header.timestamp)

    def transactions(self, n: int) -> list[bytes]:
        return list(self.chain.block(self.chain.canonical_hash(n)).raw_transactions)


class WitnessChain:
    def __init__(self, datadir: Path, fork_times: dict[Fork, int]):
        self.l1 = RealL1(GENESIS_TIME - 12)
        genesis = build_op_genesis(L2_CHAIN_ID, GENESIS_TIME, {f: GENESIS_TIME + t for f, t in fork_times.items()},
                                   funded={USER: 10**24})
        self.datadir = datadir
        self.chain = Chain(genesis, EngineStore(str(datadir)))
        self.cfg = rollup_config_for(genesis, self.chain.genesis_hash, l1_genesis=self.l1.blocks[0].info.id,
                                     l1_chain_id=L1_CHAIN_ID, batcher=address_from_private_key(BATCHER_KEY),
                                     deposit_contract=DEPOSIT_CONTRACT, system_config_address=SYSTEM_CONFIG)
        self.l2 = EngineL2(self.cfg, self.chain)
        self.builder = AttributesBuilder(self.cfg, L1_CHAIN, self.l1, self.l2)
        self.batches: list[tuple[SingularBatch, int]] = []
        self.deposits = 0

    def deposit_block(self) -> L1Block:
        """An L1 block whose receipt carries a user deposit (minting ETH to a fresh address and calling nothing)."""
        self.deposits += 1
        dep = deposit(keccak256(b"witness deposit %d" % self.deposits), keccak256(b"depositor")[:20], keccak256(b"to %d" % self.deposits)[:20],
                      10**18, 10**17, 100_000, False, b"")
        tx = self.l1.tx(USER_KEY, DEPOSIT_CONTRACT, b"\x01")
        return self.l1.mine([(tx, (deposit_log(dep, DEPOSIT_CONTRACT),))])

    def sequence(self, n: int) -> None:
        for _ in range(n):
            parent = self.chain.head
            pref = self.l2.block_ref_by_hash(parent.hash)
            ts = parent.timestamp + self.cfg.block_time
            cur = pref.l1_origin.number
            nxt = self.l1.blocks[cur + 1] if cur + 1 < len(self.l1.blocks) else None
            epoch = nxt.info if nxt is not None and nxt.header.timestamp <= ts else self.l1.blocks[cur].info
            attrs: PayloadAttributes = self.builder.prepare(pref, BlockID(epoch.hash, epoch.number))
            user: list[bytes] = []
            if not any(self.cfg.is_activation_block(f, ts) for f in (Fork.JOVIAN, Fork.LAGOON)):
                nonce = self.chain.account_db(parent).get_nonce(USER)
                tx = Transaction(DYNAMIC_FEE, chain_id=L2_CHAIN_ID, nonce=nonce, gas=21_000,
                                 to=keccak256(b"recipient")[:20], value=12345, max_priority_fee_per_gas=10**6,
                                 max_fee_per_gas=10**10).sign(USER_KEY)
                user.append(tx.raw)
            battrs = BlockAttributes(timestamp=ts, prev_randao=attrs.prev_randao,
                                     fee_recipient=attrs.suggested_fee_recipient, gas_limit=attrs.gas_limit,
                                     parent_beacon_root=attrs.parent_beacon_block_root,
                                     eip1559_params=attrs.eip1559_params, min_base_fee=attrs.min_base_fee)
            sealed = self.chain.build(parent.hash, battrs, [decode_tx(t) for t in attrs.transactions + tuple(user)])
            self.chain.set_forkchoice(sealed.hash, sealed.hash, sealed.hash)
            ref = self.l2.block_ref_by_hash(sealed.hash)
            self.batches.append((SingularBatch(parent.hash, epoch.number, epoch.hash, ts, tuple(user)),
                                 ref.sequence_number))

    def post(self, da: str) -> L1Block:
        """All blocks sequenced since the last post, as one span-batch channel, in the next L1 block."""
        ch = ChannelOut(keccak256(b"channel %d" % len(self.l1.blocks))[:16], span=True, compression=BROTLI,
                        chain_id=L2_CHAIN_ID, genesis_time=self.cfg.genesis.l2_time)
        for batch, seq in self.batches:
            ch.add_block(batch, seq)
        self.batches = []
        frames = ch.frames(100_000)
        inbox = self.cfg.batch_inbox_address
        if da == "calldata":
            return self.l1.mine([(self.l1.tx(BATCHER_KEY, inbox, p), ()) for p in calldata_payloads(frames)])
        blobs = [encode_blob(p) for p in blob_payloads(frames)]
        hashes = [blob_versioned_hash(b) for b in blobs]
        tx = self.l1.tx(BATCHER_KEY, inbox, b"", hashes)
        return self.l1.mine([(tx, ())], blobs=list(zip(hashes, blobs, strict=True)))

    def recording(self) -> Recording:
        """What ``opnode replay record`` would hold for this chain: every L1 block, every L2 block."""
        genesis_ref = self.l2.block_ref_by_number(0)
        rec = Recording(Meta(self.cfg, L1_CHAIN, 0, len(self.l1.blocks) - 1, genesis_ref,
                             description="in-process witness chain"))
        for b in self.l1.blocks:
            h = b.header.hash
            rec.add_l1_header(b.header.encode(), canonical=True)
            rec.add_l1_txs(h, [t.raw for t in b.txs])
            rec.add_l1_receipts(h, [encode_receipt(r) for r in b.receipts])
            for i, (vh, blob) in enumerate(b.blobs):
                rec.add_blob(h, i, vh, blob)
        n = 0
        while (h := self.chain.canonical_hash(n)) is not None:
            sb = self.chain.block(h)
            hd = sb.header
            rec.add_l2_block(L2Block(hd.hash, hd.number, hd.parent_hash, hd.timestamp, hd.gas_limit, hd.extra_data,
                                     hd.mix_hash, hd.coinbase, hd.parent_beacon_root,
                                     0 if hd.withdrawals_root is not None else None, tuple(sb.raw_transactions),
                                     hd.encode()))
            n += 1
        rec.check_complete()
        return rec


def build(datadir: Path, fork_times: dict[Fork, int], da: str = "blobs") -> WitnessChain:
    """Ten L2 blocks over L1 blocks with a user deposit, posted in two channels (the second over ``da``)."""
    c = WitnessChain(datadir, fork_times)
    c.l1.mine([], time=GENESIS_TIME + 4)  # L1 #1
    c.deposit_block()  # L1 #2, at GENESIS_TIME + 16: its deposit lands in the first block of that epoch
    c.sequence(5)
    c.post("calldata")
    c.sequence(5)
    c.post(da)
    c.l1.mine([])
    return c
