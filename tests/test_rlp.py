"""The RLP codec against pyrlp (the ethereum/pyrlp reference implementation, installed with eth-account): the same
encodings, and decoding and list walking that give back what was encoded."""

import rlp as pyrlp
from hypothesis import given, settings
from hypothesis import strategies as st

from derivation.protocol import rlp

# Strings and integers around every header boundary (1 byte, 55/56 bytes, 255/256-byte lengths).
_LEAF = st.one_of(st.sampled_from([0, 1, 2, 54, 55, 56, 57, 255, 256, 300]).flatmap(
    lambda n: st.binary(min_size=n, max_size=n)), st.integers(min_value=0, max_value=2**600))
_ITEM = st.recursive(_LEAF, lambda kids: st.lists(kids, max_size=6), max_leaves=30)


def _as_decoded(item):
    if isinstance(item, int):
        return item.to_bytes((item.bit_length() + 7) // 8, "big")
    if isinstance(item, list):
        return [_as_decoded(x) for x in item]
    return item


@settings(max_examples=300, deadline=None)
@given(_ITEM)
def test_encodes_as_pyrlp_and_decodes_back(item):
    enc = rlp.encode(item)
    assert enc == pyrlp.encode(item)
    assert rlp.decode(enc) == _as_decoded(item)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ITEM, max_size=8))
def test_list_starts_frame_each_child(items):
    enc = rlp.encode(items)
    starts = rlp.list_starts(enc)
    assert starts[-1] == len(enc)
    assert [enc[a:b] for a, b in zip(starts, starts[1:], strict=False)] == [rlp.encode(x) for x in items]
    assert rlp.list_spans(enc) == (list(zip(starts, starts[1:], strict=False)), len(enc))
