"""The block topic validator: ACCEPT, IGNORE or REJECT for every gossiped block (rollup-node-p2p.md §Block
validation; op-node p2p/gossip.go ``BuildBlocksValidator``).

Checks run in op-node's order, which differs from the spec's list in one place: the signature is checked right
after decompression, before decoding (op-node and every live network do this; the spec and kona check it last).
The outcome differs only for messages that fail two checks at once.

1. REJECT: snappy header invalid, claims more than 10 MiB or fewer than 66 bytes, or the block does not decompress.
2. IGNORE when no unsafe block signer is known; REJECT when the signature does not recover or recovers another
   address (the signer is the SystemConfig's current unsafe block signer, read when validating).
3. REJECT: the payload (V1/V2) or envelope (V3/V4) does not decode as SSZ of the topic's version.
4. REJECT: ``timestamp < now - 60`` (60: ``--p2p.gossip.timestamp.threshold``) or ``timestamp > now + 5`` (whole seconds, op-node rounds down).
5. REJECT: the recomputed block hash differs (:mod:`p2p.block_hash`).
6. REJECT: version fields: withdrawals on V1; missing or non-empty withdrawals on V2+; blob fields on V1/V2;
   on V3+ a missing or (before Jovian) non-zero ``blobGasUsed``, a missing or non-zero ``excessBlobGas``, a
   missing parent beacon block root; on V4 a missing ``withdrawalsRoot``. From Jovian ``blobGasUsed`` is the DA
   footprint and may be non-zero (op-node PR #17940, kona ``validate_v3``; the spec text predates it).
7. REJECT when more than 5 distinct blocks were already accepted at this height (checked before the duplicate
   test, as op-node); IGNORE a block hash already accepted; else ACCEPT and remember it. Heights are kept in an
   LRU of 1000, as op-node's ``blockHeightLRU``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from derivation.protocol.errors import ParseError
from derivation.protocol.payload import ExecutionPayloadEnvelope
from derivation.protocol.rollup_config import Fork, RollupConfig
from p2p.block_hash import compute_block_hash
from p2p.signing import recover_signer
from p2p.ssz import decode_envelope
from p2p.topics import BlockVersion
from p2p.wire import MAX_GOSSIP_SIZE, MIN_GOSSIP_SIZE, SnappyError, decoded_length, decompress

MAX_PAST_SECONDS = 60
MAX_FUTURE_SECONDS = 5
MAX_BLOCKS_PER_HEIGHT = 5
SEEN_HEIGHTS = 1000


class Outcome(Enum):
    ACCEPT = "ACCEPT"
    IGNORE = "IGNORE"
    REJECT = "REJECT"


class Reason(Enum):
    """Why a block was not accepted; the value is the label used in logs and metrics."""

    ACCEPTED = "accepted"
    SNAPPY_HEADER = "snappy_header"
    TOO_LARGE = "too_large"
    TOO_SMALL = "too_small"
    SNAPPY = "snappy"
    NO_SIGNER = "no_signer"
    SIGNATURE = "signature"
    WRONG_SIGNER = "wrong_signer"
    ENCODING = "encoding"
    TOO_OLD = "too_old"
    TOO_NEW = "too_new"
    BLOCK_HASH = "block_hash"
    V1_WITHDRAWALS = "v1_withdrawals"
    MISSING_WITHDRAWALS = "missing_withdrawals"
    NON_EMPTY_WITHDRAWALS = "non_empty_withdrawals"
    UNEXPECTED_BLOB_GAS_USED = "unexpected_blob_gas_used"
    UNEXPECTED_EXCESS_BLOB_GAS = "unexpected_excess_blob_gas"
    UNEXPECTED_BEACON_ROOT = "unexpected_beacon_root"
    BLOB_GAS_USED = "blob_gas_used"
    EXCESS_BLOB_GAS = "excess_blob_gas"
    MISSING_BEACON_ROOT = "missing_beacon_root"
    UNEXPECTED_WITHDRAWALS_ROOT = "unexpected_withdrawals_root"
    MISSING_WITHDRAWALS_ROOT = "missing_withdrawals_root"
    TOO_MANY_BLOCKS = "too_many_blocks"
    SEEN = "seen"
    VALIDATOR_ERROR = "validator_error"


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reason: Reason
    detail: str = ""
    envelope: ExecutionPayloadEnvelope | None = None  # set on ACCEPT

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPT


def _reject(reason: Reason, detail: str) -> Verdict:
    return Verdict(Outcome.REJECT, reason, detail)


class BlockValidator:
    """Validates the messages of one chain's block topics. Owns the per-height memory of accepted blocks.

    ``unsafe_signer`` returns the current unsafe block signer (None or the zero address when unknown); ``clock``
    returns Unix seconds. Both are read on every message, so signer rotations and test clocks take effect at once.
    """

    def __init__(self, cfg: RollupConfig, unsafe_signer: Callable[[], bytes | None],
                 clock: Callable[[], float] = time.time, max_past_seconds: float = MAX_PAST_SECONDS):
        self.cfg = cfg
        self.max_past_seconds = max_past_seconds  # --p2p.gossip.timestamp.threshold (op-node p2p_flags.go)
        self.chain_id = cfg.l2_chain_id
        self._unsafe_signer = unsafe_signer
        self._clock = clock
        self._seen: OrderedDict[int, list[bytes]] = OrderedDict()

    def validate(self, version: BlockVersion, data: bytes) -> Verdict:
        try:
            length = decoded_length(data)
        except SnappyError as e:
            return _reject(Reason.SNAPPY_HEADER, str(e))
        if length > MAX_GOSSIP_SIZE:
            return _reject(Reason.TOO_LARGE, f"decompresses to {length} bytes, more than {MAX_GOSSIP_SIZE}")
        if length < MIN_GOSSIP_SIZE:
            return _reject(Reason.TOO_SMALL, f"decompresses to {length} bytes, fewer than {MIN_GOSSIP_SIZE}")
        try:
            raw = decompress(data)
        except SnappyError as e:
            return _reject(Reason.SNAPPY, str(e))
        signature, payload_bytes = raw[:65], raw[65:]

        verdict = self._check_signature(signature, payload_bytes)
        if verdict is not None:
            return verdict
        try:
            env = decode_envelope(payload_bytes, version)
        except ParseError as e:
            return _reject(Reason.ENCODING, f"not a {version.label} block: {e}")

        p = env.payload
        now = int(self._clock())
        if p.timestamp < now - self.max_past_seconds:
            return _reject(Reason.TOO_OLD, f"timestamp {p.timestamp} is more than {self.max_past_seconds:g}s before "
                                           f"{now}")
        if p.timestamp > now + MAX_FUTURE_SECONDS:
            return _reject(Reason.TOO_NEW, f"timestamp {p.timestamp} is more than {MAX_FUTURE_SECONDS}s after {now}")
        actual = compute_block_hash(env, version)
        if actual != p.block_hash:
            return _reject(Reason.BLOCK_HASH, f"block {p.block_number} claims hash 0x{p.block_hash.hex()}, its "
                                              f"header hashes to 0x{actual.hex()}")
        verdict = check_version_fields(self.cfg, env, version)
        if verdict is not None:
            return verdict
        return self._check_seen(env)

    def _check_signature(self, signature: bytes, payload_bytes: bytes) -> Verdict | None:
        expected = self._unsafe_signer()
        if not expected or expected == bytes(20):
            return Verdict(Outcome.IGNORE, Reason.NO_SIGNER, "no unsafe block signer is known")
        try:
            signer = recover_signer(self.chain_id, payload_bytes, signature)
        except ParseError as e:
            return _reject(Reason.SIGNATURE, f"invalid block signature: {e}")
        if signer != expected:
            return _reject(Reason.WRONG_SIGNER, f"signed by 0x{signer.hex()}, the unsafe block signer is "
                                                f"0x{expected.hex()}")
        return None

    def _check_seen(self, env: ExecutionPayloadEnvelope) -> Verdict:
        height, block_hash = env.payload.block_number, env.payload.block_hash
        seen = self._seen.get(height)
        if seen is None:
            seen = self._seen[height] = []
            if len(self._seen) > SEEN_HEIGHTS:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(height)
        if len(seen) > MAX_BLOCKS_PER_HEIGHT:
            return _reject(Reason.TOO_MANY_BLOCKS, f"already {len(seen)} blocks at height {height}")
        if block_hash in seen:
            return Verdict(Outcome.IGNORE, Reason.SEEN, f"block 0x{block_hash.hex()} was already seen")
        seen.append(block_hash)
        return Verdict(Outcome.ACCEPT, Reason.ACCEPTED, envelope=env)


def guarded(validate: Callable[..., Verdict]) -> Callable[..., Verdict]:
    """op-node ``guardGossipValidator``: a validator that fails unexpectedly rejects the message instead of
    taking the gossip loop down."""

    def run(*args) -> Verdict:
        try:
            return validate(*args)
        except Exception as e:  # any bug in validation must cost the message, not the node
            return _reject(Reason.VALIDATOR_ERROR, f"validator failed: {type(e).__name__}: {e}")

    return run


def check_version_fields(cfg: RollupConfig, env: ExecutionPayloadEnvelope, version: BlockVersion) -> Verdict | None:
    """Step 6: the fields a topic version requires or forbids; None when they fit."""
    p = env.payload
    if not version.has_withdrawals and p.withdrawals is not None:
        return _reject(Reason.V1_WITHDRAWALS, "payload on the v1 topic has withdrawals")
    if version.has_withdrawals and p.withdrawals is None:
        return _reject(Reason.MISSING_WITHDRAWALS, f"payload on the {version.label} topic has no withdrawals list")
    if version.has_withdrawals and len(p.withdrawals):
        return _reject(Reason.NON_EMPTY_WITHDRAWALS, f"payload on the {version.label} topic has "
                                                     f"{len(p.withdrawals)} withdrawals")
    if not version.has_blob_properties:
        if p.blob_gas_used is not None:
            return _reject(Reason.UNEXPECTED_BLOB_GAS_USED, f"payload on the {version.label} topic has blobGasUsed")
        if p.excess_blob_gas is not None:
            return _reject(Reason.UNEXPECTED_EXCESS_BLOB_GAS, f"payload on the {version.label} topic has "
                                                              "excessBlobGas")
        if env.parent_beacon_block_root is not None:
            return _reject(Reason.UNEXPECTED_BEACON_ROOT, f"payload on the {version.label} topic has a parent "
                                                          "beacon block root")
    else:
        if p.blob_gas_used is None or (p.blob_gas_used != 0 and not cfg.is_active(Fork.JOVIAN, p.timestamp)):
            return _reject(Reason.BLOB_GAS_USED, f"payload on the {version.label} topic has blobGasUsed "
                                                 f"{p.blob_gas_used} before Jovian")
        if p.excess_blob_gas is None or p.excess_blob_gas != 0:
            return _reject(Reason.EXCESS_BLOB_GAS, f"payload on the {version.label} topic has excessBlobGas "
                                                   f"{p.excess_blob_gas}")
        if env.parent_beacon_block_root is None:
            return _reject(Reason.MISSING_BEACON_ROOT, f"payload on the {version.label} topic has no parent beacon "
                                                       "block root")
    if not version.has_withdrawals_root and p.withdrawals_root is not None:
        return _reject(Reason.UNEXPECTED_WITHDRAWALS_ROOT, f"payload on the {version.label} topic has a "
                                                           "withdrawalsRoot")
    if version.has_withdrawals_root and p.withdrawals_root is None:
        return _reject(Reason.MISSING_WITHDRAWALS_ROOT, "payload on the v4 topic has no withdrawalsRoot")
    return None
