"""Block signatures (rollup-node-p2p.md §Block signatures; op-node p2p/signer.go).

The sequencer signs ``keccak256(domain ‖ uint256_be(chain_id) ‖ keccak256(payload_bytes))`` with ``domain`` = 32
zero bytes, where ``payload_bytes`` is everything after the signature in the message (V3/V4: the beacon root
too). The signature is 65 bytes ``r ‖ s ‖ y_parity`` with ``y_parity`` 0 or 1. Recovery follows geth's
``crypto.SigToPub`` as op-node calls it: no low-``s`` rule (that is a transaction rule), recovery ids above 1
fail. The recovered address must be the chain's current unsafe block signer; the caller compares.
"""

from __future__ import annotations

from derivation.protocol.crypto import address_from_private_key, keccak256, recover_address, sign_hash
from derivation.protocol.errors import ParseError

SIGNING_DOMAIN_BLOCKS_V1 = bytes(32)
SIGNATURE_SIZE = 65


class SignatureError(ParseError):
    """A signature that does not recover a public key."""


def signing_hash(chain_id: int, payload_bytes: bytes, domain: bytes = SIGNING_DOMAIN_BLOCKS_V1) -> bytes:
    if len(domain) != 32:
        raise ValueError("signing domain must be 32 bytes")
    if not 0 <= chain_id < 1 << 256:
        raise ParseError("chain_id is too large")  # op-node SigningHash: "chain_id is too large"
    return keccak256(domain + chain_id.to_bytes(32, "big") + keccak256(payload_bytes))


def recover_signer(chain_id: int, payload_bytes: bytes, signature: bytes) -> bytes:
    """The 20-byte address that signed ``payload_bytes``; :class:`SignatureError` if nothing recovers."""
    if len(signature) != SIGNATURE_SIZE:
        raise SignatureError(f"signature must be {SIGNATURE_SIZE} bytes, got {len(signature)}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    try:
        return recover_address(signing_hash(chain_id, payload_bytes), signature[64], r, s, homestead=False)
    except ParseError as e:
        raise SignatureError(str(e)) from None


class LocalSigner:
    """Signs blocks with a private key held in memory (op-node ``LocalSigner``, ``--p2p.sequencer.key``)."""

    def __init__(self, private_key: bytes):
        if len(private_key) != 32:
            raise ValueError("a secp256k1 private key is 32 bytes")
        self._key = bytes(private_key)
        self.address = address_from_private_key(self._key)

    @classmethod
    def from_hex(cls, text: str) -> LocalSigner:
        """Parse the ``--p2p.sequencer.key`` value (hex, optional ``0x``)."""
        t = text.strip().removeprefix("0x")
        try:
            key = bytes.fromhex(t)
        except ValueError:
            raise ValueError("the sequencer key is not hex") from None
        if len(key) != 32:
            raise ValueError(f"the sequencer key must be 32 bytes, got {len(key)}")
        return cls(key)

    def __eq__(self, other) -> bool:
        """Equal keys are the same signer (configurations holding one compare by value)."""
        return isinstance(other, LocalSigner) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self.address)

    def sign(self, chain_id: int, payload_bytes: bytes) -> bytes:
        y_parity, r, s = sign_hash(self._key, signing_hash(chain_id, payload_bytes))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes((y_parity,))

    def __repr__(self) -> str:
        return f"LocalSigner(0x{self.address.hex()})"
