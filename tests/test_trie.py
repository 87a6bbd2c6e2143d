"""derivation.protocol.trie.ordered_trie_root (the one ordered-trie root of the project: L1 client, engine, P2P) against
py-trie's HexaryTrie."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from derivation.protocol import rlp
from derivation.protocol.trie import EMPTY_TRIE_ROOT, ordered_trie_root


def _reference(items: list[bytes]) -> bytes:
    t = HexaryTrie({})
    for i, v in enumerate(items):
        t[rlp.encode_uint(i)] = v
    return t.root_hash


def test_empty_root():
    assert ordered_trie_root([]) == EMPTY_TRIE_ROOT == _reference([])


def test_sizes_around_the_rlp_key_boundaries():
    rng = random.Random(7)
    for n in (1, 2, 15, 16, 17, 127, 128, 129, 256, 1000):
        items = [rng.randbytes(rng.randrange(1, 120)) for _ in range(n)]
        assert ordered_trie_root(items) == _reference(items), n


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=80), max_size=40))
def test_matches_hexary_trie(items):
    assert ordered_trie_root(items) == _reference(items)
