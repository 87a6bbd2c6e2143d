"""SSZ of ``ExecutionPayload`` V1..V4 and of the Ecotone envelope, as op-node gossips them (op-service eth/ssz.go).

Fixed part, all integers little-endian: parent_hash(32) fee_recipient(20) state_root(32) receipts_root(32)
logs_bloom(256) prev_randao(32) block_number(u64) gas_limit(u64) gas_used(u64) timestamp(u64)
extra_data_offset(u32) base_fee_per_gas(u256) block_hash(32) transactions_offset(u32) = 508 bytes (V1);
V2 adds withdrawals_offset(u32); V3 adds blob_gas_used(u64) excess_blob_gas(u64); V4 adds withdrawals_root(32).
Then the dynamic parts: extra data, the transaction list (u32 offsets then bodies), withdrawals (44 bytes each:
index u64, validator u64, address 20, amount u64). The V3/V4 gossip envelope is ``parent_beacon_block_root(32) ‖
payload``.

Decoding mirrors op-node's bounds exactly (what op-node accepts, the network relays): the extra-data offset must
equal the fixed size, extra data is at most 32 bytes, offsets must not go backwards or past the end, at most
2^20 transactions and 16 withdrawals. Like op-node, a transaction region whose first offset is 0 decodes as no
transactions. Every violation raises :class:`SSZError`.
"""

from __future__ import annotations

import struct

from derivation.protocol.errors import ParseError
from derivation.protocol.payload import (
    MAX_EXTRA_DATA,
    ExecutionPayload,
    ExecutionPayloadEnvelope,
    PayloadShapeError,
    Withdrawal,
)
from p2p.topics import BlockVersion

FIXED_SIZE = {BlockVersion.V1: 508, BlockVersion.V2: 512, BlockVersion.V3: 528, BlockVersion.V4: 560}
WITHDRAWAL_SIZE = 44
MAX_TRANSACTIONS = 1 << 20  # MAX_TRANSACTIONS_PER_PAYLOAD (consensus-specs bellatrix)
MAX_WITHDRAWALS = 16  # MAX_WITHDRAWALS_PER_PAYLOAD (consensus-specs capella)

_HEAD = struct.Struct("<32s20s32s32s256s32sQQQQI32s32sI")  # the V1 fixed part
_U32 = struct.Struct("<I")
_U64x2 = struct.Struct("<QQ")
_WITHDRAWAL = struct.Struct("<QQ20sQ")


class SSZError(ParseError):
    """Bytes that are not a valid SSZ payload of the expected version."""


def encode_payload(p: ExecutionPayload, version: BlockVersion) -> bytes:
    """The payload as SSZ of ``version``; :class:`PayloadShapeError` if its fields do not fit that version."""
    _check_shape(p, version)
    fixed = FIXED_SIZE[version]
    txs = _encode_transactions(p.transactions)
    extra_end = fixed + len(p.extra_data)
    parts = [_HEAD.pack(p.parent_hash, p.fee_recipient, p.state_root, p.receipts_root, p.logs_bloom, p.prev_randao,
                        p.block_number, p.gas_limit, p.gas_used, p.timestamp, fixed,
                        p.base_fee_per_gas.to_bytes(32, "little"), p.block_hash, extra_end)]
    if version.has_withdrawals:
        parts.append(_U32.pack(extra_end + len(txs)))
    if version.has_blob_properties:
        parts.append(_U64x2.pack(p.blob_gas_used, p.excess_blob_gas))
    if version.has_withdrawals_root:
        parts.append(p.withdrawals_root)
    parts.append(p.extra_data)
    parts.append(txs)
    if version.has_withdrawals:
        parts.extend(_WITHDRAWAL.pack(w.index, w.validator_index, w.address, w.amount) for w in p.withdrawals)
    out = b"".join(parts)
    if len(out) > 0xFFFFFFFF:
        raise PayloadShapeError("payload too large for 32-bit SSZ offsets")
    return out


def decode_payload(data: bytes, version: BlockVersion) -> ExecutionPayload:
    fixed = FIXED_SIZE[version]
    scope = len(data)
    if scope < fixed:
        raise SSZError(f"{scope} bytes are too few for a {version.label} payload (fixed part is {fixed})")
    (parent_hash, fee_recipient, state_root, receipts_root, logs_bloom, prev_randao, number, gas_limit, gas_used,
     timestamp, extra_offset, base_fee, block_hash, txs_offset) = _HEAD.unpack_from(data, 0)
    if extra_offset != fixed:
        raise SSZError(f"extra data offset {extra_offset} is not the fixed part size {fixed}")
    if txs_offset < extra_offset:
        raise SSZError("transactions offset is smaller than the extra data offset")
    pos = _HEAD.size
    withdrawals_offset = scope
    if version.has_withdrawals:
        (withdrawals_offset,) = _U32.unpack_from(data, pos)
        pos += 4
        if withdrawals_offset < txs_offset:
            raise SSZError("withdrawals offset is smaller than the transactions offset")
        if withdrawals_offset > scope:
            raise SSZError(f"withdrawals offset {withdrawals_offset} is past the end ({scope})")
    blob_gas_used = excess_blob_gas = withdrawals_root = None
    if version.has_blob_properties:
        blob_gas_used, excess_blob_gas = _U64x2.unpack_from(data, pos)
        pos += 16
    if version.has_withdrawals_root:
        withdrawals_root = bytes(data[pos:pos + 32])
        pos += 32
    if txs_offset > extra_offset + MAX_EXTRA_DATA or txs_offset > scope:
        raise SSZError(f"extra data is too large: {txs_offset - extra_offset} bytes")
    withdrawals = None
    if version.has_withdrawals:
        withdrawals = _decode_withdrawals(data[withdrawals_offset:])
    return ExecutionPayload(
        parent_hash=parent_hash, fee_recipient=fee_recipient, state_root=state_root, receipts_root=receipts_root,
        logs_bloom=logs_bloom, prev_randao=prev_randao, block_number=number, gas_limit=gas_limit, gas_used=gas_used,
        timestamp=timestamp, extra_data=bytes(data[extra_offset:txs_offset]),
        base_fee_per_gas=int.from_bytes(base_fee, "little"), block_hash=block_hash,
        transactions=_decode_transactions(data[txs_offset:withdrawals_offset]), withdrawals=withdrawals,
        blob_gas_used=blob_gas_used, excess_blob_gas=excess_blob_gas, withdrawals_root=withdrawals_root)


def encode_envelope(env: ExecutionPayloadEnvelope, version: BlockVersion) -> bytes:
    """What follows the signature in a gossip message: the payload (V1/V2) or beacon root ‖ payload (V3/V4)."""
    if version.has_parent_beacon_block_root:
        if env.parent_beacon_block_root is None:
            raise PayloadShapeError(f"a {version.label} block needs a parent beacon block root")
        return env.parent_beacon_block_root + encode_payload(env.payload, version)
    if env.parent_beacon_block_root is not None:
        raise PayloadShapeError(f"a {version.label} block has no parent beacon block root")
    return encode_payload(env.payload, version)


def decode_envelope(data: bytes, version: BlockVersion) -> ExecutionPayloadEnvelope:
    if version.has_parent_beacon_block_root:
        if len(data) < 32:
            raise SSZError(f"{len(data)} bytes are too few for an envelope")
        return ExecutionPayloadEnvelope(decode_payload(data[32:], version), bytes(data[:32]))
    return ExecutionPayloadEnvelope(decode_payload(data, version), None)


def _check_shape(p: ExecutionPayload, version: BlockVersion) -> None:
    if len(p.extra_data) > MAX_EXTRA_DATA:
        raise PayloadShapeError(f"extra data is {len(p.extra_data)} bytes, at most {MAX_EXTRA_DATA} allowed")
    if (p.withdrawals is not None) != version.has_withdrawals:
        raise PayloadShapeError(f"a {version.label} payload {'needs' if version.has_withdrawals else 'has no'} "
                                "withdrawals list")
    has_blob = p.blob_gas_used is not None and p.excess_blob_gas is not None
    if (p.blob_gas_used is not None or p.excess_blob_gas is not None) != version.has_blob_properties or (
            version.has_blob_properties and not has_blob):
        raise PayloadShapeError(f"a {version.label} payload {'needs' if version.has_blob_properties else 'has no'} "
                                "blobGasUsed and excessBlobGas")
    if (p.withdrawals_root is not None) != version.has_withdrawals_root:
        raise PayloadShapeError(f"a {version.label} payload {'needs' if version.has_withdrawals_root else 'has no'} "
                                "withdrawalsRoot")
    if p.withdrawals is not None and len(p.withdrawals) > MAX_WITHDRAWALS:
        raise PayloadShapeError(f"{len(p.withdrawals)} withdrawals, at most {MAX_WITHDRAWALS} allowed")
    if len(p.transactions) > MAX_TRANSACTIONS:
        raise PayloadShapeError(f"{len(p.transactions)} transactions, at most {MAX_TRANSACTIONS} allowed")


def _encode_transactions(txs: tuple[bytes, ...]) -> bytes:
    offset = 4 * len(txs)
    offsets = []
    for tx in txs:
        offsets.append(_U32.pack(offset))
        offset += len(tx)
    return b"".join(offsets) + b"".join(txs)


def _decode_transactions(region: bytes) -> tuple[bytes, ...]:
    scope = len(region)
    if scope == 0:
        return ()
    if scope < 4:
        raise SSZError(f"transaction list of {scope} bytes cannot hold an offset")
    (first,) = _U32.unpack_from(region, 0)
    if first % 4:
        raise SSZError(f"first transaction offset {first} is not a multiple of 4")
    if first > scope:
        raise SSZError(f"first transaction offset {first} is past the end ({scope})")
    count = first // 4
    if count > MAX_TRANSACTIONS:
        raise SSZError(f"{count} transactions, at most {MAX_TRANSACTIONS} allowed")
    out = []
    current = first
    for i in range(count):
        nxt = _U32.unpack_from(region, 4 * (i + 1))[0] if i + 1 < count else scope
        if nxt < current or nxt > scope:
            raise SSZError(f"transaction {i} has a bad end offset {nxt} (start {current}, size {scope})")
        out.append(bytes(region[current:nxt]))
        current = nxt
    return tuple(out)


def _decode_withdrawals(region: bytes) -> tuple[Withdrawal, ...]:
    if len(region) % WITHDRAWAL_SIZE:
        raise SSZError(f"withdrawal list of {len(region)} bytes is not a multiple of {WITHDRAWAL_SIZE}")
    count = len(region) // WITHDRAWAL_SIZE
    if count > MAX_WITHDRAWALS:
        raise SSZError(f"{count} withdrawals, at most {MAX_WITHDRAWALS} allowed")
    return tuple(Withdrawal(*_WITHDRAWAL.unpack_from(region, i * WITHDRAWAL_SIZE)) for i in range(count))
