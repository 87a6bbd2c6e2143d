"""The embedded engine's decoded-header cache is bounded by count (a long sync kept every header it wrote), and
headers past the bound are still read, from the store."""

from engine.execution.chain import Chain
from opnode.testing.engine import attrs, dev_chain, l1_info


def test_header_cache_keeps_at_most_its_bound_and_older_headers_still_read():
    c = dev_chain()
    c.HEADER_CACHE = 4
    parent = c.head
    built = []
    for _ in range(8):
        parent = c.build(parent.hash, attrs(parent), [l1_info()]).header
        built.append(parent)
    assert len(c._headers) == 4
    assert [c.header(h.hash) for h in built] == built  # the evicted ones come back from the store
    assert len(c._headers) == 4
    assert Chain.HEADER_CACHE == 4096
