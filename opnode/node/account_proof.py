"""Verification of ``eth_getProof`` results against a state root (EIP-1186; op-service/eth/account_proof.go).

op-node never trusts the engine's ``storageHash`` for the L2ToL1MessagePasser: before Isthmus the output root's
message-passer storage root is taken from ``eth_getProof`` and the proof is walked from the block's state root
(``AccountResult.Verify``). The same is done here: the account trie path is ``keccak256(address)``; the proven leaf
must equal ``rlp([nonce, balance, storageHash, codeHash])`` built from the claimed fields; each storage proof is
walked from ``storageHash`` to ``keccak256(slot)`` and must prove ``rlp(value)`` (or absence for a zero value).

Proofs are bounded (node count and size) and every malformed piece is an :class:`AccountProofError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity
from derivation.protocol.trie import EMPTY_TRIE_ROOT

MAX_PROOF_NODES = 64  # a 32-byte key has 64 nibbles: no honest path is longer
MAX_NODE_BYTES = 1 << 16  # a full branch node is 532 bytes; leaves hold one account or slot value


class AccountProofError(ParseError):
    """A proof that is malformed or does not prove the claimed values."""


@dataclass(frozen=True, slots=True)
class AccountState:
    address: bytes
    nonce: int
    balance: int
    storage_hash: bytes
    code_hash: bytes


def _nibbles(key: bytes) -> list[int]:
    out = []
    for b in key:
        out += (b >> 4, b & 0x0F)
    return out


def _compact_path(encoded: bytes) -> tuple[list[int], bool]:
    """Hex-prefix decoding: (nibbles, is_leaf)."""
    if not encoded:
        raise AccountProofError("empty compact path in proof node")
    flag = encoded[0] >> 4
    if flag > 3:
        raise AccountProofError(f"bad hex-prefix flag {flag} in proof node")
    nib = _nibbles(encoded)
    if flag & 1:
        path = nib[1:]
    else:
        if nib[1] != 0:
            raise AccountProofError("bad hex-prefix padding in proof node")
        path = nib[2:]
    return path, bool(flag & 2)


def verify_proof(root: bytes, key: bytes, proof: list[bytes]) -> bytes | None:
    """The value stored under ``key`` in the trie with ``root``, proven by ``proof`` (RLP nodes from the root
    down); None when the proof shows the key is absent. Raises :class:`AccountProofError` when the proof does not
    connect to ``root`` (go-ethereum ``trie.VerifyProof``)."""
    if len(proof) > MAX_PROOF_NODES:
        raise AccountProofError(f"proof has {len(proof)} nodes, more than {MAX_PROOF_NODES}")
    nodes = {}
    for raw in proof:
        if len(raw) > MAX_NODE_BYTES:
            raise AccountProofError(f"proof node of {len(raw)} bytes is too large")
        nodes[keccak256(raw)] = raw
    path = _nibbles(key)
    ref: bytes | list = root
    for _ in range(MAX_PROOF_NODES + 1):
        if isinstance(ref, list):
            node = ref  # embedded node (shorter than 32 bytes when encoded)
        else:
            if ref == b"":
                return None
            if len(ref) != 32:
                raise AccountProofError("proof references a node by a reference that is not a 32-byte hash")
            if ref == EMPTY_TRIE_ROOT and ref not in nodes:
                return None
            raw = nodes.get(ref)
            if raw is None:
                raise AccountProofError(f"proof node 0x{ref.hex()} is missing")
            try:
                node = rlp.decode(raw)
            except ParseError as e:
                raise AccountProofError(f"proof node is not RLP: {e}") from None
        if not isinstance(node, list):
            raise AccountProofError("proof node is not a list")
        if len(node) == 17:
            if not path:
                value = node[16]
                if not isinstance(value, bytes):
                    raise AccountProofError("branch value is not a byte string")
                return value or None
            ref, path = node[path[0]], path[1:]
        elif len(node) == 2:
            if not isinstance(node[0], bytes):
                raise AccountProofError("short node key is not a byte string")
            prefix, leaf = _compact_path(node[0])
            if leaf:
                if path != prefix:
                    return None
                if not isinstance(node[1], bytes):
                    raise AccountProofError("leaf value is not a byte string")
                return node[1]
            if path[:len(prefix)] != prefix:
                return None
            ref, path = node[1], path[len(prefix):]
        else:
            raise AccountProofError(f"proof node has {len(node)} items")
        if isinstance(ref, bytes) and 0 < len(ref) < 32:
            raise AccountProofError("proof node reference is neither a hash nor an embedded node")
    raise AccountProofError("proof path is longer than any key")


def _nodes(items, what: str) -> list[bytes]:
    if not isinstance(items, list):
        raise AccountProofError(f"{what} must be a list of hex strings")
    return [from_hex(x) for x in items]


def verify_account_proof(state_root: bytes, address: bytes, result: dict) -> AccountState:
    """Check an ``eth_getProof`` result for ``address`` against ``state_root``; the proven account state."""
    if not isinstance(result, dict):
        raise AccountProofError("eth_getProof result must be an object")
    try:
        claimed_addr = from_hex(result["address"], 20)
        account = AccountState(claimed_addr, parse_quantity(result["nonce"]), parse_quantity(result["balance"]),
                               from_hex(result["storageHash"], 32), from_hex(result["codeHash"], 32))
        account_proof = _nodes(result["accountProof"], "accountProof")
        storage = result.get("storageProof") or []
    except KeyError as e:
        raise AccountProofError(f"eth_getProof result is missing {e.args[0]!r}") from None
    except AccountProofError:
        raise
    except ParseError as e:
        raise AccountProofError(f"eth_getProof result: {e}") from None
    if claimed_addr != address:
        raise AccountProofError(f"proof is for account 0x{claimed_addr.hex()}, not 0x{address.hex()}")
    if not isinstance(storage, list):
        raise AccountProofError("storageProof must be a list")
    for i, entry in enumerate(storage):
        _verify_storage(account.storage_hash, i, entry)
    claimed = rlp.encode([account.nonce, account.balance, account.storage_hash, account.code_hash])
    proven = verify_proof(state_root, keccak256(address), account_proof)
    if proven != claimed:
        raise AccountProofError(f"account proof for 0x{address.hex()} does not prove the claimed account in state "
                                f"root 0x{state_root.hex()}")
    return account


def _verify_storage(storage_root: bytes, i: int, entry) -> None:
    if not isinstance(entry, dict):
        raise AccountProofError(f"storage proof {i} must be an object")
    try:
        key = parse_quantity(entry["key"])
        value = parse_quantity(entry["value"])
        nodes = _nodes(entry["proof"], f"storage proof {i}")
    except KeyError as e:
        raise AccountProofError(f"storage proof {i} is missing {e.args[0]!r}") from None
    except AccountProofError:
        raise
    except ParseError as e:
        raise AccountProofError(f"storage proof {i}: {e}") from None
    if key >= 1 << 256 or value >= 1 << 256:
        raise AccountProofError(f"storage proof {i} has a key or value wider than 32 bytes")
    proven = verify_proof(storage_root, keccak256(key.to_bytes(32, "big")), nodes)
    if proven is None and value == 0:
        return
    if proven != rlp.encode(value.to_bytes((value.bit_length() + 7) // 8, "big")):
        raise AccountProofError(f"storage proof {i} does not prove value 0x{value:x} at slot 0x{key:x}")

