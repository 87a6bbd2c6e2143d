"""Span batches (batch type 1): decoding, derivation into per-block batches, and encoding (specs:
delta/span-batches.md, isthmus/derivation.md "Span Batch Updates").

Two steps, as in op-node: ``RawSpanBatch.decode`` checks the wire format and its size limits;
``RawSpanBatch.derive`` rebuilds every block's signed transactions (chain id from the rollup config) and fails on an
unsupported transaction type or malformed transaction data. Where op-node and kona differ, op-node wins: uvarints
may be non-minimal (Go's ``binary.ReadUvarint``), bitlists must not be short and must not set bits past their
length, fee and value integers of legacy/2930/1559 transactions may exceed 256 bits (Go ``*big.Int``), those of
set-code transactions may not (``uint256``).

Lagoon (specs lagoon/derivation.md @932cdccc; op-node span_batch_tx.go/span_batch_txs.go/span_batch.go ``#20515``,
karlfloersch/optimism@da174e56 2026-06-02): a post-exec transaction (0x7D) is carried verbatim: its ``tx_datas``
element is ``0x7D ‖ one RLP list`` and the rebuilt transaction is those bytes; it counts in ``block_tx_counts``.
The batcher writes contract-creation bit 1 and zero signature, nonce and gas slots; the spec says a decoder MUST
reject other values, op-node reads them and ignores them (a ``to`` is consumed when the bit is 0), and op-node is
followed. A span whose block before Lagoon (by block timestamp) carries one is dropped like an undecodable span
(:func:`check_post_exec`, op-node ``DeriveSpanBatch``).

The L1 origin numbers are counted back from ``l1_origin_num`` in uint64 arithmetic, as op-node's: origin bits that
go below L1 block 0 wrap around instead of failing to decode, and the batch validity rules then drop the batch.

Bounded work: a span may claim 10,000,000 blocks (op-node's ``MaxSpanBatchElementCount``) from a ~11 KB zlib
channel. Decoding reads one-byte transaction counts with one scan; the derived blocks are built lazily
(:class:`~derivation.protocol.span_elements.SpanElements`), so the validity rules, which stop at the first block
past the sequencer drift, decide on such a batch after a few hundred blocks instead of after building ten million.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from derivation.protocol import rlp
from derivation.protocol.batches import BatchError, SingularBatch
from derivation.protocol.errors import ParseError
from derivation.protocol.post_exec import POST_EXEC
from derivation.protocol.rollup_config import MAX_SPAN_BATCH_ELEMENT_COUNT, Fork, RollupConfig
from derivation.protocol.span_batch_txs import FULL_TX, post_exec_tx
from derivation.protocol.span_elements import SpanBatch, SpanElements
from derivation.protocol.transactions import ACCESS_LIST, DYNAMIC_FEE, LEGACY, required_field
from derivation.protocol.transactions import decode as decode_tx
from derivation.protocol.varint import put_uvarint, read_uvarint

SPAN_BATCH_TYPE = 1


class SpanBatchError(BatchError):
    """Malformed span batch."""


# ------------------------------------------------------------------------------------------------ wire helpers


def _uvarint(data: bytes, pos: int, what: str) -> tuple[int, int]:
    return read_uvarint(data, pos, what, SpanBatchError)


def _tx_counts(data: bytes, pos: int, n: int) -> tuple[Sequence[int], int]:
    """``n`` block transaction counts. When all are one-byte varints (the usual case, and a block-count bomb's) they
    are the bytes themselves: one C-speed scan instead of ``n`` Python steps, one byte of memory per block."""
    run = data[pos:pos + n]
    if len(run) == n and (n == 0 or max(run) < 0x80):
        return run, pos + n
    counts = []
    for _ in range(n):
        c, pos = _uvarint(data, pos, "block_tx_count")
        if c > MAX_SPAN_BATCH_ELEMENT_COUNT:
            raise SpanBatchError(f"block tx count {c} exceeds {MAX_SPAN_BATCH_ELEMENT_COUNT}")
        counts.append(c)
    return counts, pos


def _bits(data: bytes, pos: int, n: int, what: str) -> tuple[int, int]:
    """A bitlist of ``n`` bits: a big-endian integer in ceil(n/8) bytes; bit i is ``(v >> i) & 1``."""
    ln = (n + 7) // 8
    if pos + ln > len(data):
        raise SpanBatchError(f"unexpected end of data reading {what}")
    v = int.from_bytes(data[pos:pos + ln], "big")
    if v.bit_length() > n:
        raise SpanBatchError(f"{what} has bits set beyond its {n} bits")
    return v, pos + ln


def _put_bits(v: int, n: int) -> bytes:
    return v.to_bytes((n + 7) // 8, "big")


def _read(data: bytes, pos: int, n: int, what: str) -> tuple[bytes, int]:
    if pos + n > len(data):
        raise SpanBatchError(f"unexpected end of data reading {what}")
    return data[pos:pos + n], pos + n


@dataclass(slots=True)
class RawSpanBatch:
    rel_timestamp: int
    l1_origin_num: int
    parent_check: bytes
    l1_origin_check: bytes
    block_count: int
    origin_bits: int
    block_tx_counts: Sequence[int]  # bytes when every count is a one-byte varint
    # transactions, column by column
    contract_creation_bits: int = 0
    y_parity_bits: int = 0
    tx_sigs: list[tuple[int, int]] = field(default_factory=list)
    tx_tos: list[bytes] = field(default_factory=list)
    tx_datas: list[bytes] = field(default_factory=list)
    tx_types: list[int] = field(default_factory=list)
    tx_nonces: list[int] = field(default_factory=list)
    tx_gases: list[int] = field(default_factory=list)
    protected_bits: int = 0

    @property
    def total_txs(self) -> int:
        return len(self.tx_datas)

    # -------------------------------------------------------------------------------------------- decode

    @classmethod
    def decode(cls, data: bytes) -> RawSpanBatch:
        """Decode a span batch's content (after the type byte). Trailing bytes are ignored, as in op-node."""
        rel_ts, p = _uvarint(data, 0, "rel_timestamp")
        origin_num, p = _uvarint(data, p, "l1_origin_num")
        parent_check, p = _read(data, p, 20, "parent_check")
        origin_check, p = _read(data, p, 20, "l1_origin_check")
        block_count, p = _uvarint(data, p, "block_count")
        if block_count > MAX_SPAN_BATCH_ELEMENT_COUNT:
            raise SpanBatchError(f"span batch block count {block_count} exceeds {MAX_SPAN_BATCH_ELEMENT_COUNT}")
        if block_count == 0:
            raise SpanBatchError("span batch has no blocks")
        origin_bits, p = _bits(data, p, block_count, "origin_bits")
        counts, p = _tx_counts(data, p, block_count)
        total = sum(counts)
        if total > MAX_SPAN_BATCH_ELEMENT_COUNT:
            raise SpanBatchError(f"span batch tx count {total} exceeds {MAX_SPAN_BATCH_ELEMENT_COUNT}")
        b = cls(rel_ts, origin_num, bytes(parent_check), bytes(origin_check), block_count, origin_bits, counts)
        b._decode_txs(data, p, total)
        return b

    def _decode_txs(self, data: bytes, p: int, n: int) -> int:
        self.contract_creation_bits, p = _bits(data, p, n, "contract_creation_bits")
        self.y_parity_bits, p = _bits(data, p, n, "y_parity_bits")
        sig_bytes, p = _read(data, p, 64 * n, "tx_sigs")
        self.tx_sigs = [(int.from_bytes(sig_bytes[i:i + 32], "big"), int.from_bytes(sig_bytes[i + 32:i + 64], "big"))
                        for i in range(0, 64 * n, 64)]
        n_to = n - self.contract_creation_bits.bit_count()
        to_bytes, p = _read(data, p, 20 * n_to, "tx_tos")
        self.tx_tos = [to_bytes[i:i + 20] for i in range(0, 20 * n_to, 20)]
        datas, types = [], []
        legacy = 0
        end = len(data)
        for i in range(n):
            if p >= end:
                raise SpanBatchError(f"unexpected end of data reading tx_data {i}")
            start = p
            t = LEGACY
            if data[p] <= 0x7F:
                t = data[p]
                p += 1
            try:
                is_list, s, ln = rlp.header(data, p)
            except rlp.RLPError as e:
                raise SpanBatchError(f"tx_data {i}: {e}") from None
            if not is_list:
                raise SpanBatchError(f"tx_data {i}: transaction payload must be an RLP list")
            if s + ln - p > MAX_SPAN_BATCH_ELEMENT_COUNT:
                raise SpanBatchError(f"tx_data {i} exceeds {MAX_SPAN_BATCH_ELEMENT_COUNT} bytes")
            p = s + ln
            if p > end:
                raise SpanBatchError(f"unexpected end of data reading tx_data {i}")
            datas.append(data[start:p])
            types.append(t)
            if t == LEGACY:
                legacy += 1
        self.tx_datas, self.tx_types = datas, types
        nonces, gases = [], []
        for _ in range(n):
            v, p = _uvarint(data, p, "tx_nonce")
            nonces.append(v)
        for _ in range(n):
            v, p = _uvarint(data, p, "tx_gas")
            gases.append(v)
        self.tx_nonces, self.tx_gases = nonces, gases
        self.protected_bits, p = _bits(data, p, legacy, "protected_bits")
        return p

    # -------------------------------------------------------------------------------------------- derive

    def derive(self, block_time: int, genesis_time: int, chain_id: int) -> SpanBatch:
        """Per-block elements with rebuilt signed transactions (op-node ``RawSpanBatch.derive``)."""
        for t in self.tx_types:
            if t not in FULL_TX:
                raise SpanBatchError(f"span batch holds an unsupported transaction type 0x{t:02x}")
        txs = self.full_transactions(chain_id)
        elements = SpanElements(self.block_count, genesis_time + self.rel_timestamp, block_time, self.l1_origin_num,
                                self.origin_bits, self.block_tx_counts, txs)
        return SpanBatch(self.parent_check, self.l1_origin_check, elements, self.origin_bits, self.rel_timestamp)

    def full_transactions(self, chain_id: int) -> list[bytes]:
        """The signed EIP-2718 transactions, in span order."""
        chain = rlp.encode_uint(chain_id)
        eip155 = 2 * chain_id + 35
        out = []
        to_idx = 0
        legacy_idx = 0
        cc, yp, pb = self.contract_creation_bits, self.y_parity_bits, self.protected_bits
        tos = self.tx_tos
        enc = rlp.encode_uint
        for i, (raw, t, (r, s), nonce, gas) in enumerate(zip(self.tx_datas, self.tx_types, self.tx_sigs,
                                                             self.tx_nonces, self.tx_gases, strict=True)):
            if (cc >> i) & 1:
                to = b"\x80"
            else:
                to = b"\x94" + tos[to_idx]
                to_idx += 1
            y = (yp >> i) & 1
            if t == LEGACY:
                v = (eip155 + y) if (pb >> legacy_idx) & 1 else 27 + y
                legacy_idx += 1
            else:
                v = y
            try:
                out.append(FULL_TX[t](raw, chain, enc(nonce), enc(gas), to, enc(v) + enc(r) + enc(s)))
            except ParseError as e:  # RLP or transaction-structure errors
                raise SpanBatchError(f"span batch tx {i}: {e}") from None
        return out

    # -------------------------------------------------------------------------------------------- encode

    def encode(self) -> bytes:
        """Batch data: ``0x01 ‖ prefix ‖ payload``."""
        n = self.total_txs
        parts = [bytes((SPAN_BATCH_TYPE,)), put_uvarint(self.rel_timestamp), put_uvarint(self.l1_origin_num),
                 self.parent_check, self.l1_origin_check, put_uvarint(self.block_count),
                 _put_bits(self.origin_bits, self.block_count)]
        parts += [put_uvarint(c) for c in self.block_tx_counts]
        parts += [_put_bits(self.contract_creation_bits, n), _put_bits(self.y_parity_bits, n)]
        parts += [r.to_bytes(32, "big") + s.to_bytes(32, "big") for r, s in self.tx_sigs]
        parts += self.tx_tos
        parts += self.tx_datas
        parts += [put_uvarint(x) for x in self.tx_nonces]
        parts += [put_uvarint(x) for x in self.tx_gases]
        parts.append(_put_bits(self.protected_bits, self.tx_types.count(LEGACY)))
        return b"".join(parts)

    @classmethod
    def from_singular_batches(cls, batches: list[SingularBatch], first_seq_number: int, genesis_time: int,
                              chain_id: int) -> RawSpanBatch:
        """Batcher side (op-node ``SpanBatch.AppendSingularBatch``/``ToRawSpanBatch``): bit 0 of the origin bits
        is set when the first block starts an epoch (sequence number 0)."""
        if not batches:
            raise ValueError("a span batch needs at least one block")
        origin_bits = 1 if first_seq_number == 0 else 0
        for i in range(1, len(batches)):
            if batches[i].timestamp < batches[i - 1].timestamp:
                raise ValueError("singular batches must be in timestamp order")
            if batches[i - 1].epoch_num < batches[i].epoch_num:
                origin_bits |= 1 << i
        b = cls(batches[0].timestamp - genesis_time, batches[-1].epoch_num, batches[0].parent_hash[:20],
                batches[-1].epoch_hash[:20], len(batches), origin_bits, [len(x.transactions) for x in batches])
        legacy = 0
        for i, raw in enumerate(tx for x in batches for tx in x.transactions):
            b._add_tx(i, raw, chain_id, legacy)
            if b.tx_types[-1] == LEGACY:
                legacy += 1
        return b

    def _add_tx(self, i: int, raw: bytes, chain_id: int, legacy_idx: int) -> None:
        if raw[:1] == bytes((POST_EXEC,)):
            # Verbatim, no recipient, zero signature/nonce/gas (op-node AddTxs for a PostExecTx).
            self.contract_creation_bits |= 1 << i
            self.tx_sigs.append((0, 0))
            self.tx_nonces.append(0)
            self.tx_gases.append(0)
            self.tx_types.append(POST_EXEC)
            self.tx_datas.append(post_exec_tx(raw, b"", b"", b"", b"", b""))
            return
        tx = decode_tx(raw)
        if tx.type not in FULL_TX:
            raise ValueError(f"transaction type 0x{tx.type:02x} cannot go into a span batch")
        if tx.chain_id is not None and tx.chain_id != chain_id:
            raise ValueError(f"protected tx has chain id {tx.chain_id}, expected {chain_id}")
        if tx.type == LEGACY and tx.chain_id is not None:
            self.protected_bits |= 1 << legacy_idx
        if tx.to is None:
            self.contract_creation_bits |= 1 << i
        else:
            self.tx_tos.append(tx.to)
        self.y_parity_bits |= tx.y_parity << i
        self.tx_sigs.append((tx.r, tx.s))
        self.tx_nonces.append(tx.nonce)
        self.tx_gases.append(tx.gas)
        self.tx_types.append(tx.type)
        if tx.type == LEGACY:
            self.tx_datas.append(rlp.encode([tx.value, required_field(tx.gas_price, "gas price"), tx.data]))
            return
        if tx.type == ACCESS_LIST:
            self.tx_datas.append(b"\x01" + rlp.encode([tx.value, required_field(tx.gas_price, "gas price"), tx.data,
                                                       tx.access_list]))
            return
        tip = required_field(tx.max_priority_fee_per_gas, "max priority fee")
        fee_cap = required_field(tx.max_fee_per_gas, "max fee")
        if tx.type == DYNAMIC_FEE:
            self.tx_datas.append(b"\x02" + rlp.encode([tx.value, tip, fee_cap, tx.data, tx.access_list]))
        else:
            self.tx_datas.append(b"\x04" + rlp.encode([tx.value, tip, fee_cap, tx.data, tx.access_list,
                                                       tx.authorization_list]))


def check_post_exec(span: SpanBatch, cfg: RollupConfig) -> None:
    """op-node ``DeriveSpanBatch``: no post-exec transaction in a block before Lagoon (clock: L2 block time)."""
    els = span.elements
    txs = els.transactions if isinstance(els, SpanElements) else [t for el in els for t in el.transactions]
    if cfg.is_active(Fork.LAGOON, span.timestamp) or not any(t[:1] == bytes((POST_EXEC,)) for t in txs):
        return
    for el in els:
        if not cfg.is_active(Fork.LAGOON, el.timestamp) and any(t[:1] == bytes((POST_EXEC,)) for t in el.transactions):
            raise SpanBatchError(f"span batch holds a post-exec transaction in the block at {el.timestamp}, before "
                                 "Lagoon")
