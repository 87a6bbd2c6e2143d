"""What one verification round decides (op-supernode ``activity/interop`` ``Decision``: Wait, Advance, Invalidate,
Rewind; karlfloersch/optimism @f0b2b80e ``interop.go``, ``types.go``), as values that go to the write-ahead log
before they are applied. JSON, so a WAL row written by one version is read back by the next."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.types import BlockID


class Kind(enum.Enum):
    WAIT = "wait"  # a chain has no local-safe block at the timestamp yet, or an initiating block is not known
    ADVANCE = "advance"  # every chain's block at the timestamp is valid: they become cross-safe together
    INVALIDATE = "invalidate"  # these blocks are invalid: denylist them and re-derive their chains
    REWIND = "rewind"  # an L1 block verified results depend on was reorged out: forget them from the timestamp


@dataclass(frozen=True, slots=True)
class FrontierBlock:
    """A chain's block at the round's timestamp (the highest block with time <= it), with the hashes of its logs
    (for later existence checks) and its L1 inclusion (the L1 block that made it local-safe)."""

    chain_id: int
    number: int
    hash: bytes
    parent_hash: bytes
    timestamp: int
    log_hashes: tuple[bytes, ...]
    l1_inclusion: BlockID

    @property
    def id(self) -> BlockID:
        return BlockID(self.hash, self.number)

    def to_json(self) -> dict:
        return {"chain_id": self.chain_id, "number": self.number, "hash": to_hex(self.hash),
                "parent_hash": to_hex(self.parent_hash), "timestamp": self.timestamp,
                "log_hashes": [to_hex(h) for h in self.log_hashes], "l1_inclusion": self.l1_inclusion.to_json()}

    @classmethod
    def from_json(cls, d: dict) -> FrontierBlock:
        return cls(int(d["chain_id"]), int(d["number"]), from_hex(d["hash"], 32), from_hex(d["parent_hash"], 32),
                   int(d["timestamp"]), tuple(from_hex(h, 32) for h in d["log_hashes"]),
                   BlockID.from_json(d["l1_inclusion"]))


@dataclass(frozen=True, slots=True)
class Decision:
    kind: Kind
    timestamp: int
    blocks: tuple[FrontierBlock, ...] = ()  # advance: the new cross-safe heads; invalidate: the invalid blocks
    reason: str = ""

    @property
    def l1_inclusion(self) -> BlockID | None:
        """The highest L1 block the verified blocks need (op-supernode ``VerifiedResult.L1Inclusion``)."""
        return max((b.l1_inclusion for b in self.blocks), key=lambda i: i.number, default=None)

    def to_json(self) -> dict:
        return {"kind": self.kind.value, "timestamp": self.timestamp, "blocks": [b.to_json() for b in self.blocks],
                "reason": self.reason}

    @classmethod
    def from_json(cls, d: dict) -> Decision:
        return cls(Kind(d["kind"]), int(d["timestamp"]), tuple(FrontierBlock.from_json(b) for b in d["blocks"]),
                   str(d.get("reason", "")))
