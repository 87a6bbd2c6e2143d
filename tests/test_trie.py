"""derivation.trie.ordered_trie_root against py-trie's HexaryTrie and the two other copies in this repository."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from derivation import rlp
from derivation.trie import EMPTY_TRIE_ROOT, ordered_trie_root
from engine.evm.roots import ordered_root as engine_root
from opnode.l1.trie import ordered_trie_root as l1_root


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
        assert ordered_trie_root(items) == _reference(items) == engine_root(items) == l1_root(items), n


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=80), max_size=40))
def test_matches_hexary_trie(items):
    assert ordered_trie_root(items) == _reference(items)
