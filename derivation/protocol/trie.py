"""Roots of ordered Merkle-Patricia tries, as block headers commit to transactions, receipts and withdrawals.

Key ``rlp(i)`` maps to the ``i``-th already-encoded item (Yellow Paper appendix D, geth ``types.DeriveSha``). The
root is built in one recursive pass over the sorted keys; no node store is kept. Pure, no I/O: usable by every
package: the engine, the L1 client, replay and the P2P block-hash check share this one (and its empty root).
"""

from __future__ import annotations

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256

EMPTY_TRIE_ROOT = bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")


def _nibbles(key: bytes) -> bytes:
    return bytes(n for b in key for n in (b >> 4, b & 0x0F))


def _hex_prefix(path: bytes, leaf: bool) -> bytes:
    flag = 2 if leaf else 0
    nib = bytes((flag + 1,)) + path if len(path) % 2 else bytes((flag, 0)) + path
    return bytes((nib[i] << 4) | nib[i + 1] for i in range(0, len(nib), 2))


def _child_ref(node: bytes, nodes: dict[bytes, bytes] | None) -> bytes:
    """A child is embedded when its encoding is shorter than 32 bytes, otherwise referenced by hash (and kept in
    ``nodes`` when given)."""
    if len(node) < 32:
        return node
    h = keccak256(node)
    if nodes is not None:
        nodes[h] = node
    return rlp.encode_bytes(h)


def _encode_node(items: list[tuple[bytes, bytes]], depth: int, nodes: dict[bytes, bytes] | None = None) -> bytes:
    if len(items) == 1:
        path, value = items[0]
        return rlp.encode_list_payload(rlp.encode_bytes(_hex_prefix(path[depth:], True)) + rlp.encode_bytes(value))
    first, last = items[0][0], items[-1][0]
    shared = depth
    while shared < min(len(first), len(last)) and first[shared] == last[shared]:
        shared += 1
    if shared > depth:
        extension = rlp.encode_bytes(_hex_prefix(first[depth:shared], False))
        return rlp.encode_list_payload(extension + _child_ref(_encode_node(items, shared, nodes), nodes))
    slots = [b"\x80"] * 17
    start = 0
    if len(first) == depth:  # the key ending at this branch keeps its value in the 17th slot
        slots[16] = rlp.encode_bytes(items[0][1])
        start = 1
    while start < len(items):
        nibble = items[start][0][depth]
        end = start
        while end < len(items) and items[end][0][depth] == nibble:
            end += 1
        slots[nibble] = _child_ref(_encode_node(items[start:end], depth + 1, nodes), nodes)
        start = end
    return rlp.encode_list_payload(b"".join(slots))


def ordered_trie_root(items: list[bytes]) -> bytes:
    """Root of the trie mapping ``rlp(index)`` to each (already encoded) item; the empty root for no items."""
    if not items:
        return EMPTY_TRIE_ROOT
    keyed = sorted((_nibbles(rlp.encode_uint(i)), bytes(v)) for i, v in enumerate(items))
    return keccak256(_encode_node(keyed, 0))


def ordered_trie_nodes(items: list[bytes]) -> dict[bytes, bytes]:
    """Every node of that trie referenced by hash, the root included, keyed by hash: what a fault-proof host
    stores so that a client can read the list back node by node (kona-host ``store_ordered_trie``, which stores
    the empty root's preimage ``0x80`` for an empty list)."""
    if not items:
        return {EMPTY_TRIE_ROOT: b"\x80"}
    nodes: dict[bytes, bytes] = {}
    keyed = sorted((_nibbles(rlp.encode_uint(i)), bytes(v)) for i, v in enumerate(items))
    root = _encode_node(keyed, 0, nodes)
    nodes[keccak256(root)] = root
    return nodes
