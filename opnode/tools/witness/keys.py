"""Preimage keys of the fault-proof oracle: 32 bytes, byte 0 the key type, bytes 1..32 from the key's data.

Types (kona ``crates/proof/preimage/src/key.rs``; op-program ``op-preimage/types.go``; op-rs/kona@cdb9be24,
2026-01-09): 1 local (the program's inputs, by index), 2 keccak256 (``keccak256(value)`` with byte 0 set to 2),
4 sha256 (blob versioned hash → KZG commitment), 5 blob (one field element), 6 precompile (an accelerated
precompile's result).

Blob field elements are keyed in two ways in the wild (kona PR #1473, 2025-04-21 changed it; op-program's client
``l1/oracle.go`` ``GetBlob`` always used the second):

- kona-host before April 2025: element ``i`` at ``keccak256(commitment ‖ 24 zero bytes ‖ u64be(i))``;
- later kona and op-program: ``keccak256(commitment ‖ ω_i)`` where ω_i is the i-th bit-reversed 4096th root of
  unity of BLS12-381's scalar field as 32 bytes big-endian (EIP-4844's evaluation points).
"""

from __future__ import annotations

from enum import IntEnum
from functools import cache

from derivation.protocol.crypto import keccak256

FIELD_ELEMENTS_PER_BLOB = 4096

# BLS12-381 scalar field modulus and a generator of its 2^32-order subgroup (consensus-specs deneb
# polynomial-commitments.md: BLS_MODULUS, PRIMITIVE_ROOT_OF_UNITY = 7 → 7^((r-1)/2^32)); kona's
# ``generate_roots_of_unity`` uses the same generator value.
BLS_MODULUS = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
_ROOT_OF_UNITY_2_32 = 10238227357739495823651030575849232062558860180284477541189508159991286009131


class KeyType(IntEnum):
    LOCAL = 1
    KECCAK256 = 2
    GLOBAL_GENERIC = 3
    SHA256 = 4
    BLOB = 5
    PRECOMPILE = 6

    @property
    def label(self) -> str:
        return self.name.lower()


def typed(key_type: KeyType, data32: bytes) -> bytes:
    """A 32-byte key of ``key_type``: byte 0 replaced by the type."""
    return bytes((key_type,)) + bytes(data32[1:32])


def keccak_key(h: bytes) -> bytes:
    return typed(KeyType.KECCAK256, h)


def local_key(index: int) -> bytes:
    """Local keys are the index, big-endian, with byte 0 = 1 (kona ``PreimageKey::new_local``)."""
    return typed(KeyType.LOCAL, index.to_bytes(32, "big"))


# Local inputs of the single-chain program (kona ``boot.rs``; op-program ``client/boot.go``).
L1_HEAD, L2_OUTPUT_ROOT, L2_CLAIM, L2_CLAIM_BLOCK_NUMBER, L2_CHAIN_ID, L2_CHAIN_CONFIG, L2_ROLLUP_CONFIG = range(1, 8)


def key_type(key: bytes) -> KeyType | None:
    try:
        return KeyType(key[0])
    except ValueError:
        return None


@cache
def roots_of_unity() -> tuple[int, ...]:
    """The 4096 evaluation points of EIP-4844 in bit-reversed order."""
    n = FIELD_ELEMENTS_PER_BLOB
    g = pow(_ROOT_OF_UNITY_2_32, (1 << 32) // n, BLS_MODULUS)
    roots = [1] * n
    for i in range(1, n):
        roots[i] = roots[i - 1] * g % BLS_MODULUS
    bits = n.bit_length() - 1
    return tuple(roots[int(format(i, f"0{bits}b")[::-1], 2)] for i in range(n))


def blob_element_key_data(commitment: bytes, index: int, by_root: bool) -> bytes:
    """The 80 bytes whose keccak keys field element ``index`` (see the module doc for the two layouts)."""
    if by_root:
        return commitment + roots_of_unity()[index].to_bytes(32, "big")
    return commitment + bytes(24) + index.to_bytes(8, "big")


def blob_element_key(commitment: bytes, index: int, by_root: bool) -> bytes:
    return typed(KeyType.BLOB, keccak256(blob_element_key_data(commitment, index, by_root)))
