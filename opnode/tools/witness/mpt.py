"""Reading a whole ordered trie (transactions, receipts) from its root through the oracle, node by node.

As kona's ``OrderedListWalker::try_new_hydrated`` (kona ``crates/proof/mpt/src/list_walker.rs``, op-rs/kona@cdb9be24):
every node reachable from the root is fetched by hash (children shorter than 32 bytes are inline), the leaves'
keys are ``rlp(index)`` and the values come back in index order. Each node is checked against its hash by the
oracle; a trie whose keys are not exactly 0..n-1 is refused as malformed.
"""

from __future__ import annotations

from collections.abc import Callable

from derivation.protocol import rlp
from derivation.protocol.errors import ParseError
from derivation.protocol.trie import EMPTY_TRIE_ROOT


class TrieError(ParseError):
    """A trie node that is not a valid Merkle-Patricia node, or keys that are not an ordered list."""


def _nibbles(path: bytes) -> tuple[list[int], bool]:
    """Hex-prefix decoding: (nibbles, is_leaf)."""
    if not path:
        raise TrieError("empty hex-prefix path")
    flag = path[0] >> 4
    if flag > 3:
        raise TrieError(f"bad hex-prefix flag {flag}")
    out = [path[0] & 0x0F] if flag & 1 else []
    for b in path[1:]:
        out += (b >> 4, b & 0x0F)
    return out, bool(flag & 2)


def walk_ordered(root: bytes, node: Callable[[bytes], bytes]) -> list[bytes]:
    """The values of the ordered trie with ``root``; ``node(hash)`` returns the (checked) node RLP."""
    if root == EMPTY_TRIE_ROOT:
        return []
    leaves: list[tuple[list[int], bytes]] = []
    stack: list[tuple[list[int], object]] = [([], rlp.decode(node(root)))]
    while stack:
        prefix, item = stack.pop()
        if isinstance(item, bytes):
            if len(item) == 0:
                continue
            if len(item) != 32:
                raise TrieError(f"a child reference of {len(item)} bytes")
            try:
                item = rlp.decode(node(item))
            except ParseError as e:
                raise TrieError(f"undecodable trie node: {e}") from None
        if not isinstance(item, list):
            raise TrieError("a trie node that is not a list")
        if len(item) == 17:
            if not isinstance(item[16], bytes):
                raise TrieError("a branch value that is a list")
            if item[16]:
                leaves.append((prefix, item[16]))
            for i in range(16):
                stack.append((prefix + [i], item[i]))
        elif len(item) == 2:
            if not isinstance(item[0], bytes):
                raise TrieError("a node path that is a list")
            path, leaf = _nibbles(item[0])
            if leaf:
                if not isinstance(item[1], bytes):
                    raise TrieError("a leaf value that is a list")
                leaves.append((prefix + path, item[1]))
            else:
                stack.append((prefix + path, item[1]))
        else:
            raise TrieError(f"a trie node of {len(item)} items")
    by_index = {}
    for nib, value in leaves:
        if len(nib) % 2:
            raise TrieError("a key of an odd number of nibbles")
        key = bytes((nib[i] << 4) | nib[i + 1] for i in range(0, len(nib), 2))
        try:
            index = rlp.decode_uint(rlp.decode(key), 64)
        except ParseError:
            raise TrieError(f"a key 0x{key.hex()} that is not rlp(index)") from None
        by_index[index] = value
    if sorted(by_index) != list(range(len(by_index))):
        raise TrieError("trie keys are not the indices 0..n-1")
    return [by_index[i] for i in range(len(by_index))]

