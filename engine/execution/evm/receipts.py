"""Receipts and logs blooms: consensus encoding, including OP deposit receipts (specs: deposits.md §Deposit Receipt).

A deposit receipt carries ``depositNonce`` from Regolith (stored, not hashed) and, from Canyon, ``depositNonce`` and
``depositReceiptVersion = 1`` inside the consensus encoding that the receipts root commits to (op-geth
``Receipts.EncodeIndex``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256
from derivation.protocol.transactions import DEPOSIT, LEGACY


@dataclass(frozen=True, slots=True)
class LogEntry:
    address: bytes
    topics: tuple[bytes, ...]
    data: bytes

    def fields(self) -> list:
        return [self.address, list(self.topics), self.data]


def bloom_add(bloom: int, item: bytes) -> int:
    h = keccak256(item)
    for i in (0, 2, 4):
        bloom |= 1 << (((h[i] << 8) | h[i + 1]) & 2047)
    return bloom


def logs_bloom(logs) -> int:
    b = 0
    for log in logs:
        b = bloom_add(b, log.address)
        for t in log.topics:
            b = bloom_add(b, t)
    return b


def bloom_bytes(b: int) -> bytes:
    return b.to_bytes(256, "big")


@dataclass(frozen=True, slots=True)
class Receipt:
    tx_type: int
    status: int
    cumulative_gas_used: int
    logs: tuple[LogEntry, ...]
    bloom: int
    deposit_nonce: int | None = None
    deposit_receipt_version: int | None = None
    # Not in the consensus encoding: kept for the RPC receipt (gasUsed, l1 fee fields, contract address).
    extra: dict = field(default_factory=dict, compare=False)

    def consensus_encoding(self) -> bytes:
        body = [self.status, self.cumulative_gas_used, bloom_bytes(self.bloom), [lg.fields() for lg in self.logs]]
        if self.tx_type == DEPOSIT and self.deposit_receipt_version is not None:
            body += [self.deposit_nonce, self.deposit_receipt_version]
        enc = rlp.encode(body)
        return enc if self.tx_type == LEGACY else bytes((self.tx_type,)) + enc

    def storage_encoding(self) -> bytes:
        """The consensus fields plus a Regolith-only deposit nonce, so a stored receipt round-trips."""
        body = [self.tx_type, self.status, self.cumulative_gas_used, [lg.fields() for lg in self.logs],
                b"" if self.deposit_nonce is None else rlp.encode_uint(self.deposit_nonce),
                b"" if self.deposit_receipt_version is None else rlp.encode_uint(self.deposit_receipt_version)]
        return rlp.encode(body)

    @classmethod
    def from_storage(cls, data: bytes, extra: dict | None = None) -> Receipt:
        f = rlp.decode_list(data, 6)
        logs = tuple(LogEntry(bytes(a), tuple(bytes(t) for t in ts), bytes(d)) for a, ts, d in f[3])
        dn = None if f[4] == b"" else rlp.decode_uint(rlp.decode(f[4]))
        dv = None if f[5] == b"" else rlp.decode_uint(rlp.decode(f[5]))
        return cls(rlp.decode_uint(f[0]), rlp.decode_uint(f[1]), rlp.decode_uint(f[2]), logs, logs_bloom(logs),
                   dn, dv, extra or {})
