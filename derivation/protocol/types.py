"""Block references exchanged between the stages, the engine controller and the RPC surface.

Field names follow the spec; ``to_json``/``from_json`` produce op-node's JSON shapes (op-service/eth/id.go):
numbers and timestamps are plain JSON numbers, hashes 0x-prefixed lower-case hex.
"""

from __future__ import annotations

from dataclasses import dataclass

from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity, to_hex
from derivation.protocol.jsonutil import JSONObject, JSONValue

ZERO_HASH = bytes(32)
ZERO_ADDRESS = bytes(20)


def _num(v: JSONValue) -> int:
    """A JSON number as op-node emits it; tolerate floats that are whole (proxyd passes numbers through float64)."""
    if isinstance(v, float):
        if not v.is_integer() or v < 0:
            raise ParseError(f"expected a non-negative integer, got {v}")
        return int(v)
    return parse_quantity(v)


def _field(d: JSONValue, key: str) -> JSONValue:
    if not isinstance(d, dict) or key not in d:
        raise ParseError(f"missing field {key!r}")
    return d[key]


@dataclass(frozen=True, slots=True)
class BlockID:
    hash: bytes
    number: int

    def to_json(self) -> JSONObject:
        return {"hash": to_hex(self.hash), "number": self.number}

    @classmethod
    def from_json(cls, d: JSONValue) -> BlockID:
        return cls(from_hex(_field(d, "hash"), 32), _num(_field(d, "number")))

    def __str__(self) -> str:
        return f"{self.hash.hex()[:8]}:{self.number}"


ZERO_BLOCK_ID = BlockID(ZERO_HASH, 0)


@dataclass(frozen=True, slots=True)
class L1BlockRef:
    hash: bytes
    number: int
    parent_hash: bytes
    time: int

    @property
    def id(self) -> BlockID:
        return BlockID(self.hash, self.number)

    def is_zero(self) -> bool:
        return self.hash == ZERO_HASH and self.number == 0

    def to_json(self) -> JSONObject:
        return {"hash": to_hex(self.hash), "number": self.number, "parentHash": to_hex(self.parent_hash),
                "timestamp": self.time}

    @classmethod
    def from_json(cls, d: JSONValue) -> L1BlockRef:
        return cls(from_hex(_field(d, "hash"), 32), _num(_field(d, "number")),
                   from_hex(_field(d, "parentHash"), 32), _num(_field(d, "timestamp")))

    def __str__(self) -> str:
        return f"{self.hash.hex()[:8]}:{self.number}"


ZERO_L1_REF = L1BlockRef(ZERO_HASH, 0, ZERO_HASH, 0)


@dataclass(frozen=True, slots=True)
class L2BlockRef:
    hash: bytes
    number: int
    parent_hash: bytes
    time: int
    l1_origin: BlockID
    sequence_number: int

    @property
    def id(self) -> BlockID:
        return BlockID(self.hash, self.number)

    def is_zero(self) -> bool:
        return self.hash == ZERO_HASH and self.number == 0

    def to_json(self) -> JSONObject:
        return {"hash": to_hex(self.hash), "number": self.number, "parentHash": to_hex(self.parent_hash),
                "timestamp": self.time, "l1origin": self.l1_origin.to_json(), "sequenceNumber": self.sequence_number}

    @classmethod
    def from_json(cls, d: JSONValue) -> L2BlockRef:
        origin = d.get("l1origin", d.get("l1Origin")) if isinstance(d, dict) else None
        if origin is None:
            raise ParseError("missing field 'l1origin'")
        return cls(from_hex(_field(d, "hash"), 32), _num(_field(d, "number")),
                   from_hex(_field(d, "parentHash"), 32), _num(_field(d, "timestamp")),
                   BlockID.from_json(origin), _num(_field(d, "sequenceNumber")))

    def __str__(self) -> str:
        return f"{self.hash.hex()[:8]}:{self.number}"


ZERO_L2_REF = L2BlockRef(ZERO_HASH, 0, ZERO_HASH, 0, ZERO_BLOCK_ID, 0)


# ------------------------------------------------------------------------------------------------ L1 data values


@dataclass(frozen=True, slots=True)
class L1BlockInfo:
    """The fields of an L1 header that derivation reads (the L1-info deposit, prevRandao, beacon root, blobs).

    ``base_fee``/``excess_blob_gas``/``parent_beacon_root`` are None on headers from before London/Cancun.
    """

    hash: bytes
    number: int
    parent_hash: bytes
    time: int
    base_fee: int | None = None
    mix_digest: bytes = ZERO_HASH  # prevRandao after the merge
    excess_blob_gas: int | None = None
    blob_gas_used: int | None = None
    parent_beacon_root: bytes | None = None
    receipts_root: bytes = ZERO_HASH
    gas_limit: int = 0

    @property
    def ref(self) -> L1BlockRef:
        return L1BlockRef(self.hash, self.number, self.parent_hash, self.time)

    @property
    def id(self) -> BlockID:
        return BlockID(self.hash, self.number)


@dataclass(frozen=True, slots=True)
class Log:
    address: bytes
    topics: tuple[bytes, ...]
    data: bytes
    log_index: int  # index among all logs of the block (block-wide), as eth_getLogs reports it


@dataclass(frozen=True, slots=True)
class Receipt:
    tx_type: int
    status: int  # 1 success, 0 failure
    cumulative_gas_used: int
    logs: tuple[Log, ...]
    logs_bloom: bytes = b""
