"""KZG commitments for blobs (EIP-4844) with ckzg, and the versioned hashes that L1 transactions carry.

A blob is accepted for a versioned hash when ``0x01 ‖ sha256(commitment)[1:]`` equals that hash and the commitment
is the blob's: either recomputed from the blob (what op-node does since it reads ``/eth/v1/beacon/blobs``), or
given by a sidecar together with a proof that :func:`verify_blob_proof` accepts (the ``blob_sidecars`` form).
Spec: ecotone/derivation.md §Ecotone: Blob Retrieval ("MUST verify ... if the source is untrusted").

The trusted setup is the one ckzg needs for every call; it ships as ``kzg_trusted_setup.txt`` inside py-evm and
eth-account (not inside the ckzg wheel). Loading takes about two seconds, so it is loaded once per process, on
first use. Reading that file is the only I/O in ``derivation``: it is a library's own data, not input.
"""

from __future__ import annotations

import threading
from importlib import resources

import ckzg

from derivation.protocol.blobs import BLOB_SIZE
from derivation.protocol.crypto import sha256
from derivation.protocol.errors import ParseError

VERSIONED_HASH_VERSION_KZG = 0x01
COMMITMENT_SIZE = 48
PROOF_SIZE = 48

# (package, resource) pairs, in order of preference; the files are identical copies of the Ethereum ceremony output.
_SETUP_LOCATIONS = (("eth._utils", "kzg_trusted_setup.txt"),
                    ("eth_account.typed_transactions.blob_transactions", "kzg_trusted_setup.txt"))

_setup: object | None = None  # ckzg's opaque settings handle (a capsule)
_setup_lock = threading.Lock()


class KZGError(ParseError):
    """A blob, commitment or proof that does not check out."""


def trusted_setup() -> object:
    """The ckzg trusted-setup handle, loaded on first use and shared by the whole process."""
    global _setup
    if _setup is None:
        with _setup_lock:
            if _setup is None:
                _setup = _load_setup()
    return _setup


def _load_setup() -> object:
    for package, name in _SETUP_LOCATIONS:
        try:
            ref = resources.files(package).joinpath(name)
            if ref.is_file():
                with resources.as_file(ref) as path:
                    return ckzg.load_trusted_setup(str(path), 0)
        except ModuleNotFoundError:
            continue
    raise RuntimeError("KZG trusted setup not found: install py-evm or eth-account (they ship kzg_trusted_setup.txt)")


def versioned_hash(commitment: bytes) -> bytes:
    """EIP-4844 ``kzg_to_versioned_hash``: ``0x01 ‖ sha256(commitment)[1:]``."""
    if len(commitment) != COMMITMENT_SIZE:
        raise KZGError(f"a KZG commitment is {COMMITMENT_SIZE} bytes, got {len(commitment)}")
    return bytes((VERSIONED_HASH_VERSION_KZG,)) + sha256(bytes(commitment))[1:]


def _check_blob(blob: bytes) -> bytes:
    blob = bytes(blob)
    if len(blob) != BLOB_SIZE:
        raise KZGError(f"a blob is {BLOB_SIZE} bytes, got {len(blob)}")
    return blob


def blob_to_commitment(blob: bytes) -> bytes:
    """The blob's KZG commitment (48 bytes). Raises KZGError if a field element is not below the BLS modulus."""
    blob = _check_blob(blob)
    try:
        return bytes(ckzg.blob_to_kzg_commitment(blob, trusted_setup()))
    except Exception as e:  # ckzg reports bad field elements as a bare RuntimeError
        raise KZGError(f"blob is not a valid list of field elements: {e}") from None


def compute_blob_proof(blob: bytes, commitment: bytes) -> bytes:
    """The EIP-4844 blob proof for (blob, commitment): what a sidecar carries (batcher side and the beacon shim)."""
    blob = _check_blob(blob)
    try:
        return bytes(ckzg.compute_blob_kzg_proof(blob, bytes(commitment), trusted_setup()))
    except Exception as e:
        raise KZGError(f"cannot compute a blob proof: {e}") from None


def blob_versioned_hash(blob: bytes) -> bytes:
    return versioned_hash(blob_to_commitment(blob))


def verify_blob_proof(blob: bytes, commitment: bytes, proof: bytes) -> bool:
    """True when ``proof`` shows that ``commitment`` commits to ``blob``; False for a wrong or malformed input."""
    if len(blob) != BLOB_SIZE or len(commitment) != COMMITMENT_SIZE or len(proof) != PROOF_SIZE:
        return False
    try:
        return bool(ckzg.verify_blob_kzg_proof(bytes(blob), bytes(commitment), bytes(proof), trusted_setup()))
    except Exception:  # points not on the curve or field elements out of range: not a valid proof either way
        return False


def verify_blob(blob: bytes, expected_hash: bytes, commitment: bytes | None = None, proof: bytes | None = None) -> None:
    """Check that ``blob`` is the blob behind the versioned hash ``expected_hash``; raise KZGError if not.

    With a sidecar's ``commitment`` and ``proof`` the proof is verified (cheaper); otherwise the commitment is
    recomputed from the blob.
    """
    if len(expected_hash) != 32 or expected_hash[0] != VERSIONED_HASH_VERSION_KZG:
        raise KZGError(f"not a KZG versioned hash: 0x{bytes(expected_hash).hex()}")
    if commitment is not None and proof is not None:
        if versioned_hash(commitment) != expected_hash:
            raise KZGError(f"commitment hashes to 0x{versioned_hash(commitment).hex()}, "
                           f"expected 0x{bytes(expected_hash).hex()}")
        if not verify_blob_proof(blob, commitment, proof):
            raise KZGError(f"blob proof does not verify for 0x{bytes(expected_hash).hex()}")
        return
    got = blob_versioned_hash(blob)
    if got != expected_hash:
        raise KZGError(f"blob commits to 0x{got.hex()}, expected 0x{bytes(expected_hash).hex()}")
