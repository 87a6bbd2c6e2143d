"""Payload codecs of block gossip: SSZ V1..V4 and the envelope, Engine API JSON, snappy and message ids, block
hashes and signatures. External vectors first (op-alloy's messages, a real Isthmus block), then the bounds."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.payload import ExecutionPayload, ExecutionPayloadEnvelope, PayloadShapeError, Withdrawal
from engine.execution.chain_spec import ChainSpec
from engine.execution.payload import payload_header
from p2p.block_hash import EMPTY_REQUESTS_HASH, compute_block_hash
from p2p.signing import LocalSigner, SignatureError, recover_signer, signing_hash
from p2p.ssz import FIXED_SIZE, SSZError, decode_envelope, decode_payload, encode_envelope, encode_payload
from p2p.topics import BlockVersion, all_blocks_topics, blocks_topic, version_for_timestamp
from p2p.wire import (
    MAX_GOSSIP_SIZE,
    SnappyError,
    compress,
    decoded_length,
    decompress,
    message_id,
    split_message,
)
from tests.p2p.gossip_vectors import chain, real_v4_envelope, synthetic
from tests.vectors import load

EXTERNAL = load("p2p_external.json")


# ------------------------------------------------------------------------------------------ external vectors


@pytest.mark.parametrize("vector", EXTERNAL["messages"], ids=lambda v: f"v{v['topic_version'] + 1}")
def test_op_alloy_messages_decode_and_reencode_byte_for_byte(vector):
    data = bytes.fromhex(vector["data"][2:])
    version = BlockVersion(vector["topic_version"])
    signature, payload_bytes = split_message(decompress(data))
    env = decode_envelope(payload_bytes, version)
    assert env.payload.timestamp == vector["timestamp"]
    assert encode_envelope(env, version) == payload_bytes
    assert compress(signature + payload_bytes) == data  # cramjam's snappy matches the Rust and Go encoders


def test_op_alloy_signing_hash():
    v = EXTERNAL["signing_hash"]
    assert signing_hash(v["chain_id"], bytes.fromhex(v["payload_bytes"][2:])).hex() == v["signing_hash"][2:]


@pytest.mark.parametrize("block", EXTERNAL["real_blocks"], ids=lambda b: b["name"])
def test_real_isthmus_block_hash_is_recomputed(block):
    env = ExecutionPayloadEnvelope.from_json({"executionPayload": block["execution_payload"],
                                              "parentBeaconBlockRoot": block["parent_beacon_block_root"]})
    cfg = chain(block["chain"])
    version = version_for_timestamp(cfg, env.timestamp)
    assert version == BlockVersion.V4
    assert compute_block_hash(env, version).hex() == block["block_hash"][2:]
    # Without requestsHash (op-node's 2024 check) or with the empty withdrawals root, the hash is wrong.
    assert compute_block_hash(env, BlockVersion.V3) != env.block_hash
    emptied = replace(env, payload=replace(env.payload, withdrawals_root=None))
    assert compute_block_hash(emptied, BlockVersion.V4) != env.block_hash


def test_real_block_round_trips_through_ssz_and_json():
    block = EXTERNAL["real_blocks"][0]
    env = real_v4_envelope()
    assert decode_envelope(encode_envelope(env, BlockVersion.V4), BlockVersion.V4) == env
    assert env.payload.to_json() == block["execution_payload"]


@pytest.mark.parametrize("version", [BlockVersion.V2, BlockVersion.V3, BlockVersion.V4])
def test_block_hash_agrees_with_the_engines_header_builder(version):
    """Two implementations in this repository, written separately: the engine's header from a payload."""
    env = synthetic(version, 77, {BlockVersion.V2: 1_703_000_000, BlockVersion.V3: 1_740_000_000,
                                  BlockVersion.V4: 1_763_600_000}[version], blob_gas_used=0)
    cfg = chain("op-sepolia")
    spec = ChainSpec(cfg.l2_chain_id, dict(cfg.fork_times))
    assert payload_header(spec, env).hash == compute_block_hash(env, version)


def test_requests_hash_is_sha256_of_nothing():
    assert EMPTY_REQUESTS_HASH.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# ------------------------------------------------------------------------------------------ topics


def test_topics_and_versions_by_fork():
    cfg = chain("op-sepolia")
    assert blocks_topic(11155420, BlockVersion.V1) == "/optimism/11155420/0/blocks"
    assert list(all_blocks_topics(10)) == [f"/optimism/10/{v}/blocks" for v in range(4)]
    times = cfg.fork_times
    from derivation.protocol.rollup_config import Fork

    assert version_for_timestamp(cfg, times[Fork.CANYON] - 1) == BlockVersion.V1
    assert version_for_timestamp(cfg, times[Fork.CANYON]) == BlockVersion.V2
    assert version_for_timestamp(cfg, times[Fork.DELTA]) == BlockVersion.V2
    assert version_for_timestamp(cfg, times[Fork.ECOTONE]) == BlockVersion.V3
    assert version_for_timestamp(cfg, times[Fork.HOLOCENE]) == BlockVersion.V3
    assert version_for_timestamp(cfg, times[Fork.ISTHMUS]) == BlockVersion.V4
    assert version_for_timestamp(cfg, times[Fork.JOVIAN]) == BlockVersion.V4


# ------------------------------------------------------------------------------------------ SSZ


def _v1_bytes(**fields) -> bytearray:
    env = synthetic(BlockVersion.V1, 5, 1_699_900_000)
    return bytearray(encode_payload(replace(env.payload, **fields), BlockVersion.V1))


def test_fixed_part_sizes_match_op_node():
    assert FIXED_SIZE == {BlockVersion.V1: 508, BlockVersion.V2: 512, BlockVersion.V3: 528, BlockVersion.V4: 560}
    for v, size in FIXED_SIZE.items():
        env = synthetic(v, 1, {0: 1_699_900_000, 1: 1_703_000_000, 2: 1_740_000_000, 3: 1_763_600_000}[v],
                        transactions=(), extra_data=b"")
        encoded = encode_payload(env.payload, v)
        assert struct.unpack_from("<I", encoded, 436)[0] == size  # the extra-data offset points past the fixed part
        assert len(encoded) == size


def test_integers_are_little_endian():
    data = _v1_bytes(block_number=0x0102030405060708, base_fee_per_gas=0x1122)
    assert data[404:412] == bytes.fromhex("0807060504030201")
    assert data[440:472] == bytes.fromhex("2211") + bytes(30)


def test_first_transaction_offset_zero_means_no_transactions_as_in_op_node():
    data = _v1_bytes(transactions=(b"\x01\x02\x03\x04",))
    struct.pack_into("<I", data, 508, 0)
    assert decode_payload(bytes(data), BlockVersion.V1).transactions == ()


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d[:507], "too few"),
    (lambda d: d[:436] + struct.pack("<I", 512) + d[440:], "extra data offset"),
    (lambda d: d[:504] + struct.pack("<I", 500) + d[508:], "smaller than the extra data"),
    (lambda d: d[:504] + struct.pack("<I", 508 + 33) + d[508:] + bytes(33), "extra data is too large"),
    (lambda d: d[:504] + struct.pack("<I", len(d) + 1) + d[508:], "extra data is too large"),
    (lambda d: d[:508] + struct.pack("<I", 6) + d[512:], "not a multiple of 4"),
    (lambda d: d[:508] + struct.pack("<I", 4000) + d[512:], "past the end"),
    (lambda d: d[:508] + struct.pack("<I", 8) + struct.pack("<I", 4) + d[516:], "bad end offset"),
    (lambda d: d + b"\x00\x00\x00", None),  # trailing bytes extend the last transaction: still valid SSZ
])
def test_ssz_bounds(mutate, message):
    data = _v1_bytes(transactions=(b"\xaa" * 10, b"\xbb" * 10))
    out = bytes(mutate(bytes(data)))
    if message is None:
        assert decode_payload(out, BlockVersion.V1).transactions[-1] == b"\xbb" * 10 + b"\x00\x00\x00"
        return
    with pytest.raises(SSZError, match=message):
        decode_payload(out, BlockVersion.V1)


def _v2_bytes(withdrawals=()) -> bytes:
    env = synthetic(BlockVersion.V2, 6, 1_703_000_000, withdrawals=withdrawals)
    return encode_payload(env.payload, BlockVersion.V2)


def test_withdrawal_bounds():
    data = _v2_bytes()
    w_offset = struct.unpack_from("<I", data, 508)[0]
    assert w_offset == len(data)
    with pytest.raises(SSZError, match="smaller than the transactions offset"):
        decode_payload(data[:508] + struct.pack("<I", 511) + data[512:], BlockVersion.V2)
    with pytest.raises(SSZError, match="past the end"):
        decode_payload(data[:508] + struct.pack("<I", len(data) + 1) + data[512:], BlockVersion.V2)
    with pytest.raises(SSZError, match="multiple of 44"):
        decode_payload(data + bytes(43), BlockVersion.V2)
    seventeen = tuple(Withdrawal(i, i, bytes(20), i) for i in range(17))
    with pytest.raises(SSZError, match="at most 16"):
        decode_payload(data + b"".join(struct.pack("<QQ20sQ", w.index, w.validator_index, w.address, w.amount)
                                       for w in seventeen), BlockVersion.V2)
    one = Withdrawal(1, 2, bytes.fromhex("11" * 20), 3)
    assert decode_payload(_v2_bytes((one,)), BlockVersion.V2).withdrawals == (one,)


def test_envelope_needs_32_bytes_of_beacon_root():
    with pytest.raises(SSZError, match="too few for an envelope"):
        decode_envelope(bytes(31), BlockVersion.V3)


def test_encoding_checks_the_shape_of_the_version():
    v3 = synthetic(BlockVersion.V3, 9, 1_740_000_000)
    with pytest.raises(PayloadShapeError, match="has no withdrawals"):
        encode_payload(v3.payload, BlockVersion.V1)
    with pytest.raises(PayloadShapeError, match="needs withdrawalsRoot"):
        encode_payload(v3.payload, BlockVersion.V4)
    with pytest.raises(PayloadShapeError, match="needs blobGasUsed"):
        encode_payload(replace(v3.payload, blob_gas_used=None, excess_blob_gas=None), BlockVersion.V3)
    with pytest.raises(PayloadShapeError, match="needs a parent beacon block root"):
        encode_envelope(replace(v3, parent_beacon_block_root=None), BlockVersion.V3)
    with pytest.raises(PayloadShapeError, match="at most 32"):
        encode_payload(replace(v3.payload, extra_data=bytes(33)), BlockVersion.V3)


_hash = st.binary(min_size=32, max_size=32)
_u64 = st.integers(0, (1 << 64) - 1)


@st.composite
def payloads(draw):
    version = draw(st.sampled_from(list(BlockVersion)))
    p = ExecutionPayload(
        parent_hash=draw(_hash), fee_recipient=draw(st.binary(min_size=20, max_size=20)), state_root=draw(_hash),
        receipts_root=draw(_hash), logs_bloom=draw(st.binary(min_size=256, max_size=256)), prev_randao=draw(_hash),
        block_number=draw(_u64), gas_limit=draw(_u64), gas_used=draw(_u64), timestamp=draw(_u64),
        extra_data=draw(st.binary(max_size=32)), base_fee_per_gas=draw(st.integers(0, (1 << 256) - 1)),
        block_hash=draw(_hash), transactions=tuple(draw(st.lists(st.binary(max_size=64), max_size=6))),
        withdrawals=tuple(draw(st.lists(st.builds(Withdrawal, _u64, _u64, st.binary(min_size=20, max_size=20), _u64),
                                        max_size=3))) if version.has_withdrawals else None,
        blob_gas_used=draw(_u64) if version.has_blob_properties else None,
        excess_blob_gas=draw(_u64) if version.has_blob_properties else None,
        withdrawals_root=draw(_hash) if version.has_withdrawals_root else None)
    root = draw(_hash) if version.has_parent_beacon_block_root else None
    return version, ExecutionPayloadEnvelope(p, root)


@settings(max_examples=200, deadline=None)
@given(payloads())
def test_ssz_and_json_round_trip(case):
    version, env = case
    assert decode_envelope(encode_envelope(env, version), version) == env
    assert ExecutionPayloadEnvelope.from_json(env.to_json()) == env


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(BlockVersion)), st.binary(max_size=700))
def test_arbitrary_bytes_raise_only_ssz_errors(version, data):
    try:
        decode_envelope(data, version)
    except SSZError:
        pass


# ------------------------------------------------------------------------------------------ Engine API JSON


def test_get_payload_result_is_the_gossiped_envelope():
    env = real_v4_envelope()
    result = {"executionPayload": env.payload.to_json(), "blockValue": "0x0",
              "parentBeaconBlockRoot": "0x" + env.parent_beacon_block_root.hex()}
    assert ExecutionPayloadEnvelope.from_json(result) == env


@pytest.mark.parametrize("field, value, message", [
    ("blockHash", None, "missing field 'blockHash'"),
    ("blockHash", "0x1234", "expected 32 bytes"),
    ("gasUsed", "0x10000000000000000", "64 bits"),
    ("gasUsed", 5, "hex quantity"),
    ("extraData", "0x" + "00" * 33, "at most 32"),
    ("transactions", "0x", "must be an array"),
    ("transactions", ["0xzz"], "not a hex string"),
    ("withdrawals", [{"index": "0x1"}], "missing field 'validatorIndex'"),
    ("baseFeePerGas", hex(1 << 256), "256 bits"),
])
def test_engine_json_errors(field, value, message):
    payload = dict(real_v4_envelope().payload.to_json())
    payload[field] = value
    with pytest.raises(PayloadShapeError, match=message):
        ExecutionPayload.from_json(payload)


# ------------------------------------------------------------------------------------------ snappy and ids


def test_decoded_length_bounds():
    assert decoded_length(b"\x00") == 0
    assert decoded_length(b"\xff\xff\xff\xff\x0f") == 0xFFFFFFFF
    for bad in (b"", b"\x80", b"\xff\xff\xff\xff\x10", b"\xff\xff\xff\xff\xff\x01"):
        with pytest.raises(SnappyError):
            decoded_length(bad)


def test_decompress_refuses_blocks_claiming_more_than_the_limit_without_allocating():
    bomb = compress(bytes(MAX_GOSSIP_SIZE + 1))
    assert len(bomb) < MAX_GOSSIP_SIZE // 20
    with pytest.raises(SnappyError, match="limit"):
        decompress(bomb)
    assert decompress(compress(b"abc" * 100)) == b"abc" * 100


def test_message_id_hashes_the_topic_as_op_node():
    topic = "/optimism/10/2/blocks"
    raw = b"block bytes" * 10
    data = compress(raw)
    expected = hashlib.sha256(b"\x01\x00\x00\x00" + struct.pack("<Q", len(topic)) + topic.encode() + raw).digest()
    assert message_id(topic, data) == expected[:20]
    assert message_id("/optimism/10/3/blocks", data) != message_id(topic, data)
    garbage = b"\xff\xff\xff\xff\xff junk"
    expected = hashlib.sha256(b"\x00\x00\x00\x00" + struct.pack("<Q", len(topic)) + topic.encode() + garbage).digest()
    assert message_id(topic, garbage) == expected[:20]


# ------------------------------------------------------------------------------------------ signatures


def test_sign_and_recover():
    signer = LocalSigner(keccak256(b"k"))
    sig = signer.sign(901, b"payload")
    assert len(sig) == 65 and sig[64] in (0, 1)
    assert recover_signer(901, b"payload", sig) == signer.address
    assert recover_signer(902, b"payload", sig) != signer.address
    for bad in (sig[:64], bytes(65), sig[:64] + b"\x1b"):
        with pytest.raises(SignatureError):
            recover_signer(901, b"payload", bad)


def test_high_s_signatures_recover_as_geth_sig_to_pub_does():
    signer = LocalSigner(keccak256(b"k"))
    sig = signer.sign(10, b"x")
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    s = int.from_bytes(sig[32:64], "big")
    flipped = sig[:32] + (n - s).to_bytes(32, "big") + bytes((sig[64] ^ 1,))
    assert recover_signer(10, b"x", flipped) == signer.address


def test_signing_hash_layout_and_chain_id_bound():
    payload = b"abc"
    assert signing_hash(5, payload) == keccak256(bytes(32) + (5).to_bytes(32, "big") + keccak256(payload))
    with pytest.raises(ParseError, match="too large"):
        signing_hash(1 << 256, payload)


def test_sequencer_key_flag_parsing():
    key = keccak256(b"seq")
    assert LocalSigner.from_hex("0x" + key.hex()).address == LocalSigner(key).address
    with pytest.raises(ValueError, match="32 bytes"):
        LocalSigner.from_hex("abcd")
    with pytest.raises(ValueError, match="not hex"):
        LocalSigner.from_hex("zz" * 32)
