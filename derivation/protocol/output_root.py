"""L2 output roots (specs: protocol/proposals.md §L2 Output Commitment Construction) and interop super roots
(specs: interop/superroot.md; op-service/eth/super_root.go).

Output root v0 = ``keccak256(bytes32(0) ‖ state_root ‖ message_passer_storage_root ‖ block_hash)``, where the
message passer storage root is the storage root of L2ToL1MessagePasser (``0x42…16``) at that block: read it with
``eth_getProof`` before Isthmus; from Isthmus on (genesis included) the header's ``withdrawalsRoot`` holds it. A
pre-Isthmus header's withdrawalsRoot is the empty-list root and must never be used (isthmus/proposals.md §Output Root).

Super root v1 = ``keccak256(0x01 ‖ uint64_be(timestamp) ‖ (uint256_be(chain_id) ‖ output_root) for each chain in
ascending chain id order)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.jsonutil import JSONObject

OUTPUT_VERSION_V0 = bytes(32)
SUPER_ROOT_VERSION_V1 = 1


class OutputRootError(ParseError):
    """An output or super-root preimage that is not well formed."""


def _b32(b: bytes, name: str) -> bytes:
    if len(b) != 32:
        raise OutputRootError(f"{name} must be 32 bytes, got {len(b)}")
    return bytes(b)


@dataclass(frozen=True, slots=True)
class OutputV0:
    state_root: bytes
    message_passer_storage_root: bytes
    block_hash: bytes

    def __post_init__(self) -> None:
        for name in ("state_root", "message_passer_storage_root", "block_hash"):
            _b32(getattr(self, name), name)

    def marshal(self) -> bytes:
        """The 128-byte preimage: version ‖ state root ‖ message passer storage root ‖ block hash."""
        return OUTPUT_VERSION_V0 + self.state_root + self.message_passer_storage_root + self.block_hash

    def root(self) -> bytes:
        return keccak256(self.marshal())

    @classmethod
    def unmarshal(cls, data: bytes) -> OutputV0:
        if len(data) != 128:
            raise OutputRootError(f"output v0 preimage must be 128 bytes, got {len(data)}")
        if data[:32] != OUTPUT_VERSION_V0:
            raise OutputRootError(f"unsupported output version 0x{bytes(data[:32]).hex()}")
        return cls(bytes(data[32:64]), bytes(data[64:96]), bytes(data[96:128]))

    def to_json(self) -> JSONObject:
        """op-node's ``OutputV0`` JSON."""
        return {"stateRoot": to_hex(self.state_root), "messagePasserStorageRoot": to_hex(
            self.message_passer_storage_root), "blockHash": to_hex(self.block_hash)}

    @classmethod
    def from_json(cls, d: JSONObject) -> OutputV0:
        try:
            return cls(from_hex(d["stateRoot"], 32), from_hex(d["messagePasserStorageRoot"], 32),
                       from_hex(d["blockHash"], 32))
        except (KeyError, TypeError):
            raise OutputRootError("output JSON needs stateRoot, messagePasserStorageRoot and blockHash") from None


def output_root_v0(state_root: bytes, message_passer_storage_root: bytes, block_hash: bytes) -> bytes:
    return OutputV0(state_root, message_passer_storage_root, block_hash).root()


@dataclass(frozen=True, slots=True)
class ChainOutput:
    chain_id: int
    output_root: bytes


@dataclass(frozen=True, slots=True)
class SuperRootV1:
    timestamp: int
    chains: tuple[ChainOutput, ...]

    def marshal(self) -> bytes:
        out = bytes((SUPER_ROOT_VERSION_V1,)) + self.timestamp.to_bytes(8, "big")
        return out + b"".join(c.chain_id.to_bytes(32, "big") + c.output_root for c in self.chains)

    def root(self) -> bytes:
        return keccak256(self.marshal())

    @classmethod
    def unmarshal(cls, data: bytes) -> SuperRootV1:
        """As op-node: version 1, a timestamp and one or more whole (chain id, output root) pairs."""
        data = bytes(data)
        if not data:
            raise OutputRootError("empty super root preimage")
        if data[0] != SUPER_ROOT_VERSION_V1:
            raise OutputRootError(f"unsupported super root version {data[0]}")
        if len(data) < 9 + 64 or (len(data) - 9) % 64:
            raise OutputRootError(f"super root v1 preimage has a bad length {len(data)}")
        chains = tuple(ChainOutput(int.from_bytes(data[i:i + 32], "big"), data[i + 32:i + 64])
                       for i in range(9, len(data), 64))
        return cls(int.from_bytes(data[1:9], "big"), chains)


def super_root_v1(timestamp: int, chains: Iterable[tuple[int, bytes]]) -> SuperRootV1:
    """A super root over ``(chain_id, output_root)`` pairs, ordered by chain id as the spec requires."""
    if not 0 <= timestamp < 1 << 64:
        raise OutputRootError(f"timestamp {timestamp} does not fit in a uint64")
    items = sorted((int(cid), _b32(root, "output root")) for cid, root in chains)
    if not items:
        raise OutputRootError("a super root needs at least one chain")
    ids = [cid for cid, _ in items]
    if len(set(ids)) != len(ids) or not 0 <= ids[0] or ids[-1] >= 1 << 256:
        raise OutputRootError("super root chain ids must be distinct uint256 values")
    return SuperRootV1(timestamp, tuple(ChainOutput(cid, root) for cid, root in items))
