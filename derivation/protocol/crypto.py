"""Hashing and signature recovery (keccak via pycryptodome, secp256k1 via libsecp256k1/coincurve)."""

import hashlib

from coincurve import PublicKey
from Crypto.Hash import keccak as _keccak

from derivation.protocol.errors import ParseError

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = SECP256K1_N // 2


def keccak256(data: bytes) -> bytes:
    return _keccak.new(digest_bits=256, data=data).digest()


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def recover_address(msg_hash: bytes, y_parity: int, r: int, s: int, *, homestead: bool = True) -> bytes:
    """Recover the 20-byte signer of ``msg_hash``. Rejects invalid r/s (and high s, EIP-2, when ``homestead``)."""
    if y_parity not in (0, 1):
        raise ParseError(f"invalid signature y-parity {y_parity}")
    if not (0 < r < SECP256K1_N) or not (0 < s < SECP256K1_N):
        raise ParseError("invalid signature values r/s")
    if homestead and s > _HALF_N:
        raise ParseError("invalid signature: s in the upper half of the curve order")
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([y_parity])
    try:
        pub = PublicKey.from_signature_and_message(sig, msg_hash, hasher=None)
    except Exception as e:  # libsecp256k1 reports unrecoverable signatures as a generic error
        raise ParseError(f"signature does not recover a public key: {e}") from None
    return keccak256(pub.format(compressed=False)[1:])[12:]


def address_from_private_key(key: bytes) -> bytes:
    from coincurve import PrivateKey

    return keccak256(PrivateKey(key).public_key.format(compressed=False)[1:])[12:]


def sign_hash(key: bytes, msg_hash: bytes) -> tuple[int, int, int]:
    """Sign a 32-byte hash; returns (y_parity, r, s) with low s."""
    from coincurve import PrivateKey

    sig = PrivateKey(key).sign_recoverable(msg_hash, hasher=None)
    return sig[64], int.from_bytes(sig[0:32], "big"), int.from_bytes(sig[32:64], "big")
