"""The harness's in-memory chains made recordable: an L1 whose blocks have real headers (so a recording can check
block hashes, transactions and receipts roots), and the recorder's source over a harness World (its sequencer's L2
chain plays the L2 execution layer)."""

from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256
from derivation.protocol.transactions import DYNAMIC_FEE, Transaction
from derivation.protocol.trie import EMPTY_TRIE_ROOT as EMPTY_ROOT
from derivation.protocol.trie import ordered_trie_root
from derivation.protocol.types import L1BlockInfo, L1BlockRef, Log, Receipt
from derivation.providers import IndexedBlobHash
from opnode.testing.harness import world as world_module
from opnode.testing.harness.l1 import L1Block, MemoryL1
from opnode.testing.harness.l2 import L2Block as MemL2Block
from opnode.testing.harness.world import L1_CHAIN_ID, World
from opnode.tools.replay.recorder import RecordError
from opnode.tools.replay.store import TX_ROOT_CANONICAL, L2Block, encode_receipt

EMPTY_UNCLES = keccak256(rlp.encode([]))
CALLER_KEY = keccak256(b"L1 contract caller")  # sends the L1 calls whose events deposit and update the config
BLOB_GAS_PER_BLOB = 131072


def bloom(logs) -> bytes:
    """The 2048-bit log bloom (yellow paper §4.3.1): three bits per address and topic."""
    bits = 0
    for lg in logs:
        for item in (lg.address, *lg.topics):
            h = keccak256(item)
            for i in (0, 2, 4):
                bits |= 1 << (((h[i] << 8) | h[i + 1]) & 2047)
    return bits.to_bytes(256, "big")


class HeaderL1(MemoryL1):
    """MemoryL1 with consensus headers (Cancun shape): the block hash is the header's keccak, the roots are those
    of the block's transactions and receipts. Events (``logs``) come with an L1 transaction that emitted them, so
    that every receipt has its transaction, as on a real L1."""

    def __init__(self, genesis_time: int, block_time: int = 12):
        self.headers: dict[bytes, bytes] = {}
        self._caller_nonce = 0
        super().__init__(genesis_time, block_time)

    def _caller_tx(self, to: bytes) -> Transaction:
        tx = Transaction(DYNAMIC_FEE, chain_id=L1_CHAIN_ID, nonce=self._caller_nonce, gas=200_000, to=to,
                         max_priority_fee_per_gas=1, max_fee_per_gas=100 * 10**9)
        self._caller_nonce += 1
        return tx.sign(CALLER_KEY)

    def _mine(self, time: int, txs, logs: list[Log], blobs) -> L1BlockInfo:
        parent = self.canonical[-1].info if self.canonical else None
        number = parent.number + 1 if parent else 0
        parent_hash = parent.hash if parent else bytes(32)
        txs = list(txs)
        receipts, gas = [], 0
        for tx in txs:
            gas += 21_000
            receipts.append(Receipt(tx.type, 1, gas, (), bytes(256)))
        if logs:
            txs.append(self._caller_tx(logs[0].address))
            gas += 100_000
            block_logs = tuple(Log(lg.address, lg.topics, lg.data, i) for i, lg in enumerate(logs))
            receipts.append(Receipt(DYNAMIC_FEE, 1, gas, block_logs, bloom(block_logs)))
        blob_count = sum(len(t.blob_versioned_hashes) for t in txs)
        seed = parent_hash + number.to_bytes(8, "big") + self._salt.to_bytes(8, "big")
        mix, beacon_root = keccak256(b"randao" + seed), keccak256(b"beacon" + seed)
        header = rlp.encode([
            parent_hash, EMPTY_UNCLES, b"\x00" * 20, keccak256(b"state" + seed),
            ordered_trie_root([t.raw for t in txs]) if txs else EMPTY_ROOT,
            ordered_trie_root([encode_receipt(r) for r in receipts]) if receipts else EMPTY_ROOT,
            bloom([lg for r in receipts for lg in r.logs]), 0, number, 30_000_000, gas, time,
            b"harness" + self._salt.to_bytes(2, "big"), mix, b"\x00" * 8, 7 * 10**9, EMPTY_ROOT,
            BLOB_GAS_PER_BLOB * blob_count, 0, beacon_root])
        h = keccak256(header)
        info = L1BlockInfo(hash=h, number=number, parent_hash=parent_hash, time=time, base_fee=7 * 10**9,
                           mix_digest=mix, excess_blob_gas=0, blob_gas_used=BLOB_GAS_PER_BLOB * blob_count,
                           parent_beacon_root=beacon_root,
                           receipts_root=ordered_trie_root([encode_receipt(r) for r in receipts]) if receipts
                           else EMPTY_ROOT, gas_limit=30_000_000)
        block = L1Block(info, txs, receipts, dict(blobs))
        self.canonical.append(block)
        self.by_hash[h] = block
        self.headers[h] = header
        return info


@contextmanager
def _header_l1():
    with mock.patch.object(world_module, "MemoryL1", HeaderL1):
        yield


def recordable_world(forks: dict[str, int] | None = None, **overrides) -> World:
    """A harness World whose L1 has real headers."""
    with _header_l1():
        w = World(forks, **overrides)
    assert isinstance(w.l1, HeaderL1)
    return w


def l2_block(w: World, b: MemL2Block) -> L2Block:
    """A harness L2 block as an execution layer would report it (without a header: its hash is the harness's)."""
    a = b.attributes
    if a is None:
        g = w.cfg.genesis
        return L2Block(b.ref.hash, b.ref.number, b.ref.parent_hash, b.ref.time, g.system_config.gas_limit, b"",
                       bytes(32), bytes(20), None, None, ())
    return L2Block(b.ref.hash, b.ref.number, b.ref.parent_hash, a.timestamp, a.gas_limit, b.extra_data, a.prev_randao,
                   a.suggested_fee_recipient, a.parent_beacon_block_root,
                   None if a.withdrawals is None else len(a.withdrawals), a.transactions)


class WorldSource:
    """The recorder's source over a World: its L1, and its sequencer's L2 chain as the L2 execution layer."""

    l1_tx_root = TX_ROOT_CANONICAL

    def __init__(self, w: World):
        self.w = w
        self.requests = 0

    def _l1(self, block_hash: bytes) -> L1Block:
        self.requests += 1
        b = self.w.l1.by_hash.get(block_hash)
        if b is None:
            raise RecordError(f"no L1 block 0x{block_hash.hex()}")
        return b

    async def l1_header_by_number(self, number: int) -> bytes:
        if number >= len(self.w.l1.canonical):
            raise RecordError(f"no L1 block {number}")
        return self.w.l1.headers[self._l1(self.w.l1.canonical[number].info.hash).info.hash]

    async def l1_header_by_hash(self, block_hash: bytes) -> bytes:
        return self.w.l1.headers[self._l1(block_hash).info.hash]

    async def l1_transactions(self, block_hash: bytes) -> list[bytes]:
        return [t.raw for t in self._l1(block_hash).txs]

    async def l1_receipts(self, block_hash: bytes) -> list[bytes]:
        return [encode_receipt(r) for r in self._l1(block_hash).receipts]

    async def l1_blobs(self, block: L1BlockRef, hashes: tuple[IndexedBlobHash, ...]) -> list[bytes]:
        b = self._l1(block.hash)
        return [b.blobs[h.hash] for h in hashes]

    async def l2_block_by_number(self, number: int) -> L2Block:
        self.requests += 1
        i = number - self.w.cfg.genesis.l2.number
        if not 0 <= i < len(self.w.seq_l2.canonical):
            raise RecordError(f"no L2 block {number}")
        return l2_block(self.w, self.w.seq_l2.canonical[i])

    async def l2_block_by_hash(self, block_hash: bytes) -> L2Block:
        self.requests += 1
        b = self.w.seq_l2.by_hash.get(block_hash)
        if b is None:
            raise RecordError(f"no L2 block 0x{block_hash.hex()}")
        return l2_block(self.w, b)

    async def l2_head_number(self) -> int:
        return self.w.seq_l2.head.number
