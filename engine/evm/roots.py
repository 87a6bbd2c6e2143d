"""Ordered Merkle-Patricia roots (transactions, receipts, withdrawals): keys are ``rlp(index)``.

Built bottom-up from the sorted keys in one pass instead of inserting into a hexary trie one item at a time (the
trie library re-encodes every node on the path for each insert, which made root computation the most expensive part
of sealing a block). Equality with ``trie.HexaryTrie`` is tested.
"""

from __future__ import annotations

from derivation import rlp
from derivation.crypto import keccak256

from .header import EMPTY_ROOT


def _nibbles(b: bytes) -> tuple[int, ...]:
    out = []
    for x in b:
        out.append(x >> 4)
        out.append(x & 15)
    return tuple(out)


def _hex_prefix(nibbles: tuple[int, ...], leaf: bool) -> bytes:
    flag = 2 if leaf else 0
    if len(nibbles) % 2:
        nibbles = (flag + 1,) + nibbles
    else:
        nibbles = (flag, 0) + nibbles
    return bytes((nibbles[i] << 4) | nibbles[i + 1] for i in range(0, len(nibbles), 2))


def _ref(node: list) -> bytes | list:
    enc = rlp.encode(node)
    return node if len(enc) < 32 else keccak256(enc)


def _build(items: list[tuple[tuple[int, ...], bytes]], depth: int) -> list:
    if len(items) == 1:
        key, value = items[0]
        return [_hex_prefix(key[depth:], True), value]
    first, last = items[0][0], items[-1][0]
    common = depth
    limit = min(len(first), len(last))
    while common < limit and first[common] == last[common]:
        common += 1
    if common > depth:
        return [_hex_prefix(first[depth:common], False), _ref(_build(items, common))]
    branch: list = [b""] * 17
    i = 0
    if len(items[0][0]) == depth:  # a key ending here keeps its value in the branch
        branch[16] = items[0][1]
        i = 1
    while i < len(items):
        nib = items[i][0][depth]
        j = i
        while j < len(items) and items[j][0][depth] == nib:
            j += 1
        branch[nib] = _ref(_build(items[i:j], depth + 1))
        i = j
    return branch


def ordered_root(items: list[bytes]) -> bytes:
    if not items:
        return EMPTY_ROOT
    keyed = sorted((_nibbles(rlp.encode_uint(i)), v) for i, v in enumerate(items))
    return keccak256(rlp.encode(_build(keyed, 0)))
