"""Recompute a gossiped block's hash from its payload (rollup-node-p2p.md §Block validation: "REJECT if the
block_hash in the payload is not valid"; op-service ``ExecutionPayloadEnvelope.CheckBlockHash``).

The header is rebuilt with the proof-of-stake constants (empty uncle hash, difficulty 0, zero nonce,
``mixDigest = prevRandao``) and the fork fields the payload version carries: the withdrawals root from Canyon
(the trie root of the, on OP always empty, withdrawal list), ``blobGasUsed``, ``excessBlobGas`` and the parent
beacon block root from Ecotone, and from Isthmus the payload's own ``withdrawalsRoot`` (the message-passer storage
root) plus ``requestsHash = sha256("")`` (isthmus/exec-engine.md §Header Validity Rules). op-node's 2024 check
omitted the blob fields and ``requestsHash``; it was fixed for Isthmus and Jovian (Jovian's ``blobGasUsed`` holds the
DA footprint, so it must be hashed as sent, not assumed zero).
"""

from __future__ import annotations

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256, sha256
from derivation.protocol.payload import ExecutionPayloadEnvelope
from derivation.protocol.trie import ordered_trie_root
from p2p.topics import BlockVersion

EMPTY_UNCLE_HASH = keccak256(rlp.encode([]))
EMPTY_REQUESTS_HASH = sha256(b"")
_ZERO_NONCE = bytes(8)


def header_rlp(env: ExecutionPayloadEnvelope, version: BlockVersion) -> bytes:
    """The consensus RLP of the header the payload describes, for the fields of ``version``."""
    p = env.payload
    fields = [rlp.encode_bytes(p.parent_hash), rlp.encode_bytes(EMPTY_UNCLE_HASH), rlp.encode_bytes(p.fee_recipient),
              rlp.encode_bytes(p.state_root), rlp.encode_bytes(ordered_trie_root(list(p.transactions))),
              rlp.encode_bytes(p.receipts_root), rlp.encode_bytes(p.logs_bloom), rlp.encode_uint(0),
              rlp.encode_uint(p.block_number), rlp.encode_uint(p.gas_limit), rlp.encode_uint(p.gas_used),
              rlp.encode_uint(p.timestamp), rlp.encode_bytes(p.extra_data), rlp.encode_bytes(p.prev_randao),
              rlp.encode_bytes(_ZERO_NONCE), rlp.encode_uint(p.base_fee_per_gas)]
    if version.has_withdrawals:
        if version.has_withdrawals_root and p.withdrawals_root is not None:
            fields.append(rlp.encode_bytes(p.withdrawals_root))
        else:
            withdrawals = [rlp.encode([w.index, w.validator_index, w.address, w.amount]) for w in p.withdrawals or ()]
            fields.append(rlp.encode_bytes(ordered_trie_root(withdrawals)))
    if version.has_blob_properties:
        fields += [rlp.encode_uint(p.blob_gas_used or 0), rlp.encode_uint(p.excess_blob_gas or 0),
                   rlp.encode_bytes(env.parent_beacon_block_root or bytes(32))]
    if version.has_withdrawals_root:
        fields.append(rlp.encode_bytes(EMPTY_REQUESTS_HASH))
    return rlp.encode_list_payload(b"".join(fields))


def compute_block_hash(env: ExecutionPayloadEnvelope, version: BlockVersion) -> bytes:
    return keccak256(header_rlp(env, version))
