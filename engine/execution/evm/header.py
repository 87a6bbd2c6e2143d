"""Block headers: fields in consensus order, RLP and hash.

Optional tails appear by fork (London ``baseFee``; Shanghai/Canyon ``withdrawalsRoot``; Cancun/Ecotone
``blobGasUsed``, ``excessBlobGas``, ``parentBeaconBlockRoot``; Prague/Isthmus ``requestsHash``), as in geth.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256

EMPTY_UNCLE_HASH = bytes.fromhex("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347")
EMPTY_REQUESTS_HASH = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")  # sha256("")
EMPTY_BLOOM = bytes(256)


@dataclass(frozen=True, slots=True)
class Header:
    parent_hash: bytes
    coinbase: bytes
    state_root: bytes
    transactions_root: bytes
    receipts_root: bytes
    logs_bloom: bytes
    number: int
    gas_limit: int
    gas_used: int
    timestamp: int
    extra_data: bytes
    mix_hash: bytes
    base_fee: int | None = None
    withdrawals_root: bytes | None = None
    blob_gas_used: int | None = None
    excess_blob_gas: int | None = None
    parent_beacon_root: bytes | None = None
    requests_hash: bytes | None = None
    ommers_hash: bytes = EMPTY_UNCLE_HASH
    difficulty: int = 0
    nonce: bytes = bytes(8)

    def fields(self) -> list:
        out = [self.parent_hash, self.ommers_hash, self.coinbase, self.state_root, self.transactions_root,
               self.receipts_root, self.logs_bloom, self.difficulty, self.number, self.gas_limit, self.gas_used,
               self.timestamp, self.extra_data, self.mix_hash, self.nonce]
        tail = [self.base_fee, self.withdrawals_root, self.blob_gas_used, self.excess_blob_gas,
                self.parent_beacon_root, self.requests_hash]
        while tail and tail[-1] is None:
            tail.pop()
        if any(v is None for v in tail):
            raise ValueError("header has a later optional field without an earlier one")
        return out + tail

    def encode(self) -> bytes:
        return rlp.encode(self.fields())

    @property
    def hash(self) -> bytes:
        return keccak256(self.encode())

    def replace(self, **kw) -> Header:
        return replace(self, **kw)

    @classmethod
    def decode(cls, data: bytes) -> Header:
        f = rlp.decode_list(data)
        if not 15 <= len(f) <= 21:
            raise rlp.RLPError(f"header must have 15 to 21 fields, got {len(f)}")
        opt = f[15:] + [None] * (21 - len(f))
        return cls(parent_hash=rlp.decode_bytes(f[0], 32), ommers_hash=rlp.decode_bytes(f[1], 32),
                   coinbase=rlp.decode_bytes(f[2], 20), state_root=rlp.decode_bytes(f[3], 32),
                   transactions_root=rlp.decode_bytes(f[4], 32), receipts_root=rlp.decode_bytes(f[5], 32),
                   logs_bloom=rlp.decode_bytes(f[6], 256), difficulty=rlp.decode_uint(f[7]),
                   number=rlp.decode_uint(f[8], 64), gas_limit=rlp.decode_uint(f[9], 64),
                   gas_used=rlp.decode_uint(f[10], 64), timestamp=rlp.decode_uint(f[11], 64),
                   extra_data=rlp.decode_bytes(f[12]), mix_hash=rlp.decode_bytes(f[13], 32),
                   nonce=rlp.decode_bytes(f[14], 8),
                   base_fee=None if opt[0] is None else rlp.decode_uint(opt[0]),
                   withdrawals_root=None if opt[1] is None else rlp.decode_bytes(opt[1], 32),
                   blob_gas_used=None if opt[2] is None else rlp.decode_uint(opt[2], 64),
                   excess_blob_gas=None if opt[3] is None else rlp.decode_uint(opt[3], 64),
                   parent_beacon_root=None if opt[4] is None else rlp.decode_bytes(opt[4], 32),
                   requests_hash=None if opt[5] is None else rlp.decode_bytes(opt[5], 32))
