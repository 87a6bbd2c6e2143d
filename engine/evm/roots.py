"""Ordered Merkle-Patricia roots (transactions, receipts, withdrawals): keys are ``rlp(index)``."""

from __future__ import annotations

from trie import HexaryTrie

from derivation import rlp

from .header import EMPTY_ROOT


def ordered_root(items: list[bytes]) -> bytes:
    if not items:
        return EMPTY_ROOT
    t = HexaryTrie({})
    with t.squash_changes() as batch:
        for i, item in enumerate(items):
            batch[rlp.encode_uint(i)] = item
    return t.root_hash
