"""KZG commitments and versioned hashes: real Goerli sidecars, the versioned-hash rule, bad inputs."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivation.protocol import kzg
from derivation.protocol.blobs import BLOB_SIZE, encode_blob
from derivation.protocol.crypto import sha256
from derivation.protocol.errors import ParseError
from tests.vectors import load

SIDECARS = load("kzg_sidecars_goerli.json")["data"]


def _sidecar(i):
    s = SIDECARS[i]
    return (bytes.fromhex(s["blob"][2:]), bytes.fromhex(s["kzg_commitment"][2:]), bytes.fromhex(s["kzg_proof"][2:]))


@pytest.mark.parametrize("i", range(len(SIDECARS)))
def test_real_sidecar_commitment_and_proof(i):
    blob, commitment, proof = _sidecar(i)
    assert kzg.blob_to_commitment(blob) == commitment
    assert kzg.verify_blob_proof(blob, commitment, proof)
    assert kzg.compute_blob_proof(blob, commitment) == proof
    vh = kzg.versioned_hash(commitment)
    kzg.verify_blob(blob, vh)
    kzg.verify_blob(blob, vh, commitment, proof)


def test_versioned_hash_rule():
    _, commitment, _ = _sidecar(0)
    vh = kzg.versioned_hash(commitment)
    assert vh[0] == 0x01 and vh[1:] == sha256(commitment)[1:]
    with pytest.raises(kzg.KZGError):
        kzg.versioned_hash(commitment[:47])


def test_a_blob_from_another_sidecar_is_rejected():
    blob0, c0, p0 = _sidecar(0)
    blob1, c1, p1 = _sidecar(1)
    vh0 = kzg.versioned_hash(c0)
    with pytest.raises(kzg.KZGError, match="expected 0x" + vh0.hex()):
        kzg.verify_blob(blob1, vh0)
    with pytest.raises(kzg.KZGError, match="proof does not verify"):
        kzg.verify_blob(blob1, vh0, c0, p0)
    with pytest.raises(kzg.KZGError, match="commitment hashes to"):
        kzg.verify_blob(blob0, vh0, c1, p1)
    assert not kzg.verify_blob_proof(blob0, c0, p1)


def test_a_flipped_byte_fails_the_proof():
    blob, commitment, proof = _sidecar(0)
    bad = bytearray(blob)
    bad[1000] ^= 1
    assert not kzg.verify_blob_proof(bytes(bad), commitment, proof)
    with pytest.raises(kzg.KZGError):
        kzg.verify_blob(bytes(bad), kzg.versioned_hash(commitment))


def test_field_element_above_the_modulus_is_a_parse_error():
    blob = bytearray(BLOB_SIZE)
    blob[0:32] = b"\xff" * 32
    with pytest.raises(kzg.KZGError, match="field elements"):
        kzg.blob_to_commitment(bytes(blob))
    assert not kzg.verify_blob_proof(bytes(blob), bytes(48), bytes(48))
    assert issubclass(kzg.KZGError, ParseError)


def test_not_a_kzg_versioned_hash():
    blob, commitment, _ = _sidecar(0)
    vh = kzg.versioned_hash(commitment)
    with pytest.raises(kzg.KZGError, match="not a KZG versioned hash"):
        kzg.verify_blob(blob, b"\x02" + vh[1:])


def test_setup_is_loaded_once():
    assert kzg.trusted_setup() is kzg.trusted_setup()


@settings(max_examples=5, deadline=None)
@given(st.binary(max_size=3000))
def test_encoded_blobs_commit_and_prove(data):
    blob = encode_blob(data)
    commitment = kzg.blob_to_commitment(blob)
    proof = kzg.compute_blob_proof(blob, commitment)
    kzg.verify_blob(blob, kzg.versioned_hash(commitment), commitment, proof)


@settings(max_examples=20, deadline=None)
@given(st.binary(max_size=64), st.binary(max_size=64), st.binary(max_size=64))
def test_random_bytes_never_verify_and_raise_only_parse_errors(blob_head, commitment, proof):
    blob = blob_head + bytes(BLOB_SIZE - len(blob_head))
    assert not kzg.verify_blob_proof(blob, commitment, proof)
    try:
        kzg.verify_blob(blob, b"\x01" + bytes(31), commitment or None, proof or None)
    except ParseError:
        return
    raise AssertionError("a random blob verified against a zero versioned hash")
