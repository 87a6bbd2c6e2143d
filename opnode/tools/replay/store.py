"""What a recording holds, in memory, checked as it is filled.

The same checks run when the recorder stores what a live RPC answered and when a file is read back, so a file that
was altered after recording fails them just as a lying RPC would:

- an L1 header must hash to the block hash it is filed under; the header is the only source of the block's fields;
- an L1 block's transactions must have the header's transactions root and its receipts the receipts root (receipts
  are kept in their consensus encoding, which is what the root commits to);
- a blob must commit (KZG) to its versioned hash, and that hash must be the one the block's transactions list at
  the blob's index;
- an L2 block must start with a decodable L1-info deposit (its L1 origin, sequence number and SystemConfig are
  computed from it, as op-node does from its engine); when the execution layer's header is kept, it must hash to
  the block hash and agree with the block's fields and transactions;
- canonical L1 blocks (answers to by-number requests) and L2 blocks must link by parent hash where both are held.

One exception, named in the recording's metadata: anvil commits ``transactionsRoot`` to blob transactions in their
network form (with the sidecar), which the recording does not keep; for such recordings the transactions root of a
block holding blob transactions cannot be checked (every other check still runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derivation.protocol import rlp
from derivation.protocol.blobs import BLOB_SIZE
from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import to_hex
from derivation.protocol.kzg import blob_versioned_hash
from derivation.protocol.l1_chain_config import L1ChainConfig
from derivation.protocol.l1_info import system_config_from_l2_block
from derivation.protocol.l2_refs import block_ref
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.transactions import BLOB, DEPOSIT, Transaction
from derivation.protocol.transactions import decode as decode_tx
from derivation.protocol.trie import EMPTY_TRIE_ROOT as EMPTY_ROOT
from derivation.protocol.trie import ordered_trie_root
from derivation.protocol.types import L1BlockInfo, L2BlockRef, Receipt
from opnode.node.l1.blockdata import receipts_from_raw

TX_ROOT_CANONICAL = "canonical"
TX_ROOT_ANVIL = "anvil-network-form"


class CorruptData(ParseError):
    """Data that fails a recording's integrity checks."""


@dataclass(frozen=True, slots=True)
class Meta:
    """Everything a replay needs besides the data: the chain's configs, the range and where derivation starts."""

    rollup: RollupConfig
    l1_chain: L1ChainConfig
    from_l1: int
    to_l1: int
    start: L2BlockRef  # the safe head derivation is reset onto
    description: str = ""
    created_by: str = ""
    l1_tx_root: str = TX_ROOT_CANONICAL
    sources: dict = field(default_factory=dict, compare=False)  # free-form: where the data came from
    provenance: tuple = ()


@dataclass(frozen=True, slots=True)
class L1Header:
    raw: bytes  # the consensus RLP of the header
    info: L1BlockInfo
    transactions_root: bytes


@dataclass(frozen=True, slots=True)
class L2Block:
    """An L2 block as the execution layer reports it: the fields replay compares, and its transactions."""

    hash: bytes
    number: int
    parent_hash: bytes
    timestamp: int
    gas_limit: int
    extra_data: bytes
    prev_randao: bytes
    fee_recipient: bytes
    parent_beacon_root: bytes | None
    withdrawals: int | None  # how many (None: the block has no withdrawals list, before Canyon)
    transactions: tuple[bytes, ...]
    header: bytes | None = None  # the header RLP, kept when it hashes to ``hash``


@dataclass(frozen=True, slots=True)
class L2Entry:
    block: L2Block
    ref: L2BlockRef
    system_config: SystemConfig


# Positions of the header fields replay reads (geth core/types/block.go; later forks append fields).
_H_PARENT, _H_MINER, _H_TX_ROOT, _H_RECEIPTS_ROOT, _H_NUMBER, _H_GAS_LIMIT, _H_TIME, _H_EXTRA, _H_MIX = (
    0, 2, 4, 5, 8, 9, 11, 12, 13)
_H_BASE_FEE, _H_BLOB_GAS_USED, _H_EXCESS_BLOB_GAS, _H_BEACON_ROOT = 15, 17, 18, 19
_MIN_HEADER_FIELDS, _MAX_HEADER_FIELDS = 15, 32


def _header_fields(raw: bytes) -> list[bytes]:
    try:
        fields = rlp.decode(raw)
    except ParseError as e:
        raise CorruptData(f"header is not RLP: {e}") from None
    if not isinstance(fields, list) or not _MIN_HEADER_FIELDS <= len(fields) <= _MAX_HEADER_FIELDS:
        raise CorruptData("header is not a list of 15 to 32 fields")
    if any(not isinstance(f, bytes) for f in fields):
        raise CorruptData("header has a nested list")
    return fields


def decode_l1_header(raw: bytes) -> L1Header:
    """The fields derivation reads from an L1 header (as :func:`opnode.node.l1.blockdata.block_info` reads them from
    JSON); the block hash is the header's keccak."""
    f = _header_fields(raw)
    n = len(f)

    def opt_uint(i):
        return rlp.decode_uint(f[i], 256) if n > i else None

    try:
        info = L1BlockInfo(
            hash=keccak256(raw), number=rlp.decode_uint(f[_H_NUMBER], 64),
            parent_hash=rlp.decode_bytes(f[_H_PARENT], 32), time=rlp.decode_uint(f[_H_TIME], 64),
            base_fee=opt_uint(_H_BASE_FEE), mix_digest=rlp.decode_bytes(f[_H_MIX], 32),
            excess_blob_gas=opt_uint(_H_EXCESS_BLOB_GAS), blob_gas_used=opt_uint(_H_BLOB_GAS_USED),
            parent_beacon_root=rlp.decode_bytes(f[_H_BEACON_ROOT], 32) if n > _H_BEACON_ROOT else None,
            receipts_root=rlp.decode_bytes(f[_H_RECEIPTS_ROOT], 32), gas_limit=rlp.decode_uint(f[_H_GAS_LIMIT], 64))
        return L1Header(bytes(raw), info, rlp.decode_bytes(f[_H_TX_ROOT], 32))
    except ParseError as e:
        raise CorruptData(f"malformed header: {e}") from None


def encode_receipt(r: Receipt) -> bytes:
    """A receipt's EIP-2718 consensus encoding (post-Byzantium: status, cumulative gas, bloom, logs)."""
    if len(r.logs_bloom) != 256:
        raise CorruptData(f"receipt bloom is {len(r.logs_bloom)} bytes, not 256")
    body = rlp.encode([r.status, r.cumulative_gas_used, r.logs_bloom,
                       [[lg.address, list(lg.topics), lg.data] for lg in r.logs]])
    return body if r.tx_type == 0 else bytes((r.tx_type,)) + body


def l2_ref(cfg: RollupConfig, b: L2Block) -> L2BlockRef:
    """The block's L2BlockRef: L1 origin and sequence number from its L1-info deposit (genesis: the config's)."""
    return block_ref(cfg, b.hash, b.number, b.parent_hash, b.timestamp, b.transactions[0] if b.transactions else None)


def _check_l2_header(b: L2Block) -> None:
    f = _header_fields(b.header)
    if keccak256(b.header) != b.hash:
        raise CorruptData(f"L2 block {b.number}: header hashes to {to_hex(keccak256(b.header))}, not {to_hex(b.hash)}")
    beacon = rlp.decode_bytes(f[_H_BEACON_ROOT], 32) if len(f) > _H_BEACON_ROOT else None
    try:
        got = {"parent_hash": rlp.decode_bytes(f[_H_PARENT], 32), "number": rlp.decode_uint(f[_H_NUMBER], 64),
               "timestamp": rlp.decode_uint(f[_H_TIME], 64), "gas_limit": rlp.decode_uint(f[_H_GAS_LIMIT], 64),
               "extra_data": f[_H_EXTRA], "prev_randao": rlp.decode_bytes(f[_H_MIX], 32),
               "fee_recipient": rlp.decode_bytes(f[_H_MINER], 20), "parent_beacon_root": beacon}
    except ParseError as e:
        raise CorruptData(f"L2 block {b.number}: malformed header: {e}") from None
    for name, value in got.items():
        if getattr(b, name) != value:
            raise CorruptData(f"L2 block {b.number}: field {name} differs from its header")
    root = ordered_trie_root(list(b.transactions)) if b.transactions else EMPTY_ROOT
    if root != rlp.decode_bytes(f[_H_TX_ROOT], 32):
        raise CorruptData(f"L2 block {b.number}: transactions do not match the header's transactions root")


class Store:
    """The data of one recording. ``add_*`` check one item; :meth:`check_complete` the links between items."""

    def __init__(self, meta: Meta):
        self.meta = meta
        self.l1_headers: dict[bytes, L1Header] = {}
        self.l1_canonical: dict[int, bytes] = {}  # number -> hash, for blocks asked for by number
        self.l1_txs: dict[bytes, tuple[Transaction, ...]] = {}
        self.l1_receipts: dict[bytes, tuple[bytes, ...]] = {}
        self.l1_receipt_values: dict[bytes, tuple[Receipt, ...]] = {}
        self.blobs: dict[bytes, dict[int, tuple[bytes, bytes]]] = {}  # block hash -> index -> (versioned hash, blob)
        self.l2: dict[bytes, L2Entry] = {}
        self.l2_by_number: dict[int, bytes] = {}

    @property
    def cfg(self) -> RollupConfig:
        return self.meta.rollup

    # -------------------------------------------------------------------------------------------- L1

    def add_l1_header(self, raw: bytes, canonical: bool) -> L1BlockInfo:
        h = decode_l1_header(raw)
        info = h.info
        have = self.l1_headers.get(info.hash)
        if have is None:
            self.l1_headers[info.hash] = h
        if canonical:
            other = self.l1_canonical.get(info.number)
            if other is not None and other != info.hash:
                raise CorruptData(f"two canonical L1 blocks numbered {info.number}")
            self.l1_canonical[info.number] = info.hash
        return info

    def _l1(self, block_hash: bytes, what: str) -> L1Header:
        h = self.l1_headers.get(block_hash)
        if h is None:
            raise CorruptData(f"{what} of L1 block {to_hex(block_hash)}, whose header is not in the recording")
        return h

    def add_l1_txs(self, block_hash: bytes, raws: list[bytes]) -> tuple[Transaction, ...]:
        h = self._l1(block_hash, "transactions")
        try:
            txs = tuple(decode_tx(r) for r in raws)
        except ParseError as e:
            raise CorruptData(f"L1 block {h.info.number}: undecodable transaction: {e}") from None
        if any(t.type == DEPOSIT for t in txs):
            raise CorruptData(f"L1 block {h.info.number} holds a deposit transaction")
        root = ordered_trie_root([t.raw for t in txs]) if txs else EMPTY_ROOT
        unverifiable = self.meta.l1_tx_root == TX_ROOT_ANVIL and any(t.type == BLOB for t in txs)
        if root != h.transactions_root and not unverifiable:
            raise CorruptData(f"transactions of L1 block {h.info.number} have root {to_hex(root)}, the header says "
                              f"{to_hex(h.transactions_root)}")
        self.l1_txs[block_hash] = txs
        return txs

    def add_l1_receipts(self, block_hash: bytes, raws: list[bytes]) -> tuple[Receipt, ...]:
        h = self._l1(block_hash, "receipts")
        try:
            values = tuple(receipts_from_raw(h.info.number, [to_hex(r) for r in raws], len(raws), h.info.receipts_root))
        except ParseError as e:
            raise CorruptData(str(e)) from None
        self.l1_receipts[block_hash] = tuple(bytes(r) for r in raws)
        self.l1_receipt_values[block_hash] = values
        return values

    def add_blob(self, block_hash: bytes, index: int, versioned_hash: bytes, blob: bytes) -> None:
        h = self._l1(block_hash, "a blob")
        if len(blob) != BLOB_SIZE:
            raise CorruptData(f"blob {index} of L1 block {h.info.number} is {len(blob)} bytes, not {BLOB_SIZE}")
        try:
            got = blob_versioned_hash(blob)
        except ParseError as e:
            raise CorruptData(f"blob {index} of L1 block {h.info.number}: {e}") from None
        if got != versioned_hash:
            raise CorruptData(f"blob {index} of L1 block {h.info.number} commits to {to_hex(got)}, not to its "
                              f"versioned hash {to_hex(versioned_hash)}")
        self.blobs.setdefault(block_hash, {})[index] = (bytes(versioned_hash), bytes(blob))

    # -------------------------------------------------------------------------------------------- L2

    def add_l2_block(self, b: L2Block) -> L2Entry:
        cfg = self.cfg
        if b.header is not None:
            _check_l2_header(b)
        try:
            first = b.transactions[0] if b.transactions else None
            ref = l2_ref(cfg, b)
            if first is not None and first[0] != DEPOSIT:
                raise CorruptData(f"L2 block {b.number} does not start with a deposit")
            data = decode_tx(first).data if first is not None else b""
            sys_cfg = system_config_from_l2_block(cfg, data, b.gas_limit, b.extra_data, b.timestamp)
            for raw in b.transactions[1:]:
                decode_tx(raw)
        except CorruptData:
            raise
        except ParseError as e:
            raise CorruptData(f"L2 block {b.number}: {e}") from None
        entry = L2Entry(b, ref, sys_cfg)
        other = self.l2_by_number.get(b.number)
        if other is not None and other != b.hash:
            raise CorruptData(f"two L2 blocks numbered {b.number}")
        self.l2[b.hash] = entry
        self.l2_by_number[b.number] = b.hash
        return entry

    def l2_entry_by_number(self, number: int) -> L2Entry | None:
        h = self.l2_by_number.get(number)
        return None if h is None else self.l2[h]

    # -------------------------------------------------------------------------------------------- links

    def check_complete(self) -> None:
        """Checks between items: canonical L1 and L2 chains link up, receipts match transaction counts, blobs sit
        at their index, and the start safe head is held."""
        for n, h in self.l1_canonical.items():
            prev = self.l1_canonical.get(n - 1)
            if prev is not None and self.l1_headers[h].info.parent_hash != prev:
                raise CorruptData(f"canonical L1 block {n} does not link to block {n - 1}")
        for h, receipts in self.l1_receipts.items():
            txs = self.l1_txs.get(h)
            if txs is not None and len(txs) != len(receipts):
                raise CorruptData(f"L1 block {self.l1_headers[h].info.number} has {len(txs)} transactions but "
                                  f"{len(receipts)} receipts")
        for h, blobs in self.blobs.items():
            number = self.l1_headers[h].info.number
            txs = self.l1_txs.get(h)
            if txs is None:
                raise CorruptData(f"blobs of L1 block {number} without its transactions")
            listed = [vh for t in txs for vh in t.blob_versioned_hashes]
            for index, (vh, _) in blobs.items():
                if index >= len(listed) or listed[index] != vh:
                    raise CorruptData(f"blob {index} of L1 block {number} is not the one its transactions list")
        for n, h in self.l2_by_number.items():
            prev = self.l2_by_number.get(n - 1)
            if prev is not None and self.l2[h].block.parent_hash != prev:
                raise CorruptData(f"L2 block {n} does not link to block {n - 1}")
        start = self.meta.start
        held = self.l2.get(start.hash)
        if held is None or held.ref != start:
            raise CorruptData(f"the start safe head (L2 block {start.number}) is not held as recorded")
