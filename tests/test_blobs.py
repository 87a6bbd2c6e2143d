"""OP blob encoding version 0: upstream byte vectors, the FE#0 leniency of op-node/kona, round trips, hostile input."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivation.protocol.blobs import (
    BLOB_SIZE,
    MAX_BLOB_DATA_SIZE,
    BlobDecodeError,
    BlobEncodeError,
    decode_blob,
    encode_blob,
)
from derivation.protocol.errors import ParseError
from tests.vectors import load

VECTORS = load("blob_encoding.json")


def _blob(prefix_hex: str) -> bytes:
    prefix = bytes.fromhex(prefix_hex)
    return prefix + bytes(BLOB_SIZE - len(prefix))


def _data(case) -> bytes:
    return bytes(case["data_zeros"]) if "data_zeros" in case else bytes.fromhex(case["data"])


@pytest.mark.parametrize("case", VECTORS["decode"], ids=lambda c: c["source"][:40] + ":" + c["blob_prefix"][:12])
def test_decode_vectors(case):
    blob = _blob(case["blob_prefix"])
    if "error" in case:
        with pytest.raises(BlobDecodeError, match=case["error"]):
            decode_blob(blob)
    else:
        assert decode_blob(blob) == _data(case)


@pytest.mark.parametrize("case", VECTORS["encode"], ids=lambda c: c["source"][:40] + ":" + str(c.get("data_zeros", "")))
def test_encode_vectors(case):
    data = _data(case)
    if "error" in case:
        with pytest.raises(BlobEncodeError, match=case["error"]):
            encode_blob(data)
    else:
        blob = encode_blob(data)
        assert blob == _blob(case["blob_prefix"])
        assert decode_blob(blob) == data


def test_top_bits_of_the_first_field_element_are_not_checked():
    """op-node and kona mask byte 0 with 0x3F and never test its top bits; live chains derive with them."""
    blob = bytearray(encode_blob(b"hello"))
    blob[0] |= 0x40
    assert decode_blob(bytes(blob)) == b"hello"
    blob[0] |= 0x80
    assert decode_blob(bytes(blob)) == b"hello"


@pytest.mark.parametrize("fe", [1, 2, 3, 4, 7, 4095])
@pytest.mark.parametrize("bit", [0x80, 0x40])
def test_top_bits_of_every_later_field_element_are_checked(fe, bit):
    blob = bytearray(encode_blob((bytes(range(256)) * 508)[:MAX_BLOB_DATA_SIZE]))  # fills all 1024 rounds
    blob[32 * fe] |= bit
    with pytest.raises(BlobDecodeError, match=f"field element {fe} "):
        decode_blob(bytes(blob))


def test_bytes_after_the_last_round_read_must_be_zero():
    blob = bytearray(encode_blob(b"x" * 200))  # two rounds: 256 bytes of field elements
    decode_blob(bytes(blob))
    blob[300] = 1
    with pytest.raises(BlobDecodeError, match="blob offset 300"):
        decode_blob(bytes(blob))


def test_wrong_blob_size_is_rejected():
    with pytest.raises(BlobDecodeError, match="131072"):
        decode_blob(bytes(BLOB_SIZE - 1))


@pytest.mark.parametrize("n", [0, 1, 27, 28, 122, 123, 124, 127, 249, 250, 251, MAX_BLOB_DATA_SIZE - 1, MAX_BLOB_DATA_SIZE])
def test_round_boundaries(n):
    data = random.Random(n).randbytes(n)
    assert decode_blob(encode_blob(data)) == data


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=4000))
def test_round_trip(data):
    blob = encode_blob(data)
    assert len(blob) == BLOB_SIZE
    assert all(blob[i] & 0xC0 == 0 for i in range(0, BLOB_SIZE, 32))  # every field element below the modulus
    assert decode_blob(blob) == data


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=2000), st.integers(0, BLOB_SIZE - 1), st.integers(0, 7))
def test_a_flipped_bit_never_decodes_to_the_same_data(data, pos, bit):
    """op-node's FuzzDetectNonBijectivity: the encoding is injective except for the masked top bits of byte 0."""
    blob = bytearray(encode_blob(data))
    blob[pos] ^= 1 << bit
    if pos == 0 and bit >= 6:
        assert decode_blob(bytes(blob)) == data
        return
    try:
        assert decode_blob(bytes(blob)) != data
    except BlobDecodeError:
        pass


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 2**24 - 1))
def test_random_blobs_raise_only_parse_errors(prefix, length):
    blob = bytearray(prefix + bytes(BLOB_SIZE - len(prefix)))
    if len(prefix) >= 5:
        blob[2:5] = length.to_bytes(3, "big")
    try:
        out = decode_blob(bytes(blob))
    except ParseError:
        return
    assert len(out) == int.from_bytes(blob[2:5], "big")
