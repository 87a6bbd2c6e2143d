"""The bytes of a block gossip message and their id (rollup-node-p2p.md §Block encoding, §Message ID computation).

A message is snappy *block* compression (no framing) of ``signature(65) ‖ payload_bytes``; ``payload_bytes`` is
the SSZ payload (V1/V2) or ``parent_beacon_block_root ‖ SSZ payload`` (V3/V4). Decompressed size is capped at
10 MiB and must be at least 66 bytes (op-node ``maxGossipSize``/``minGossipSize``); the claimed size in the snappy
header is checked before anything is allocated.

The message id is ``sha256(domain ‖ uint64_le(len(topic)) ‖ topic ‖ data)[:20]`` with domain ``01000000`` and the
decompressed data when the snappy is valid, else ``00000000`` and the raw data. The spec text omits the topic;
op-node hashes it (gossip.go ``BuildMsgIdFn``), and peers must agree on ids for IHAVE/IWANT and dedup, so the topic
is hashed here too.
"""

from __future__ import annotations

import hashlib
import struct

import cramjam

from derivation.protocol.errors import ParseError
from derivation.protocol.payload import ExecutionPayloadEnvelope
from p2p.signing import SIGNATURE_SIZE, LocalSigner
from p2p.ssz import encode_envelope
from p2p.topics import BlockVersion

MAX_GOSSIP_SIZE = 10 * (1 << 20)
MIN_GOSSIP_SIZE = 66
MESSAGE_DOMAIN_INVALID_SNAPPY = bytes((0, 0, 0, 0))
MESSAGE_DOMAIN_VALID_SNAPPY = bytes((1, 0, 0, 0))
MESSAGE_ID_SIZE = 20


class SnappyError(ParseError):
    """Not a valid snappy block, or one that decompresses beyond the gossip limit."""


def decoded_length(data: bytes) -> int:
    """The uncompressed length a snappy block claims (its uvarint header; golang/snappy ``DecodedLen``)."""
    value = shift = 0
    for i, b in enumerate(data[:5]):
        value |= (b & 0x7F) << shift
        if b < 0x80:
            if i == 4 and b > 0x0F:
                break
            return value
        shift += 7
    raise SnappyError("snappy header is not a valid 32-bit length")


def decompress(data: bytes, limit: int = MAX_GOSSIP_SIZE) -> bytes:
    n = decoded_length(data)
    if n > limit:
        raise SnappyError(f"snappy block claims {n} bytes, more than the {limit}-byte limit")
    try:
        return bytes(cramjam.snappy.decompress_raw(data))
    except cramjam.DecompressionError as e:
        raise SnappyError(f"invalid snappy block: {e}") from None


def compress(data: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(data))


def message_id(topic: str, data: bytes) -> bytes:
    """op-node's gossipsub message id of ``data`` published on ``topic``."""
    payload = None
    try:
        if decoded_length(data) <= MAX_GOSSIP_SIZE:
            payload = bytes(cramjam.snappy.decompress_raw(data))
    except (SnappyError, cramjam.DecompressionError):
        payload = None
    h = hashlib.sha256()
    h.update(MESSAGE_DOMAIN_VALID_SNAPPY if payload is not None else MESSAGE_DOMAIN_INVALID_SNAPPY)
    t = topic.encode()
    h.update(struct.pack("<Q", len(t)))
    h.update(t)
    h.update(payload if payload is not None else data)
    return h.digest()[:MESSAGE_ID_SIZE]


def encode_block_message(env: ExecutionPayloadEnvelope, version: BlockVersion, signer: LocalSigner, chain_id: int) -> bytes:
    """The compressed gossip message of a block, signed by ``signer`` (op-node ``SignAndPublishL2Payload``)."""
    payload_bytes = encode_envelope(env, version)
    return compress(signer.sign(chain_id, payload_bytes) + payload_bytes)


def split_message(decompressed: bytes) -> tuple[bytes, bytes]:
    """(signature, payload_bytes) of a decompressed message."""
    if len(decompressed) < MIN_GOSSIP_SIZE:
        raise ParseError(f"message of {len(decompressed)} bytes is shorter than {MIN_GOSSIP_SIZE}")
    return decompressed[:SIGNATURE_SIZE], decompressed[SIGNATURE_SIZE:]
