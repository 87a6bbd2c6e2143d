"""The L1 view's one number→hash index and its one invalidation rule (opnode.node.l1.cache.NumberIndex): numbers
above the fork point go when the L1 head changes, exactly those and once."""

from __future__ import annotations

from derivation.protocol.types import L1BlockRef
from opnode.node.l1.cache import NumberIndex
from opnode.node.l1.heads import L1Heads


def _chain(tag: int, start: int, end: int, parent: bytes) -> list[L1BlockRef]:
    out = []
    for n in range(start, end + 1):
        ref = L1BlockRef(bytes([tag, n]) * 16, n, parent, 12 * n)
        out.append(ref)
        parent = ref.hash
    return out


class View:
    """Heads, the headers they have read (for the walk) and the index, wired as the L1 client wires them."""

    def __init__(self):
        self.headers: dict[bytes, L1BlockRef] = {}
        self.heads = L1Heads()
        self.index = NumberIndex(lambda h: self.headers[h].parent_hash if h in self.headers else None,
                                 lambda: -1 if self.heads.finalized is None else self.heads.finalized.number)
        self.dropped: list[list[int]] = []
        invalidate = self.index.invalidate_above

        def counted(fork: int) -> None:
            before = set(self.index._numbers)
            invalidate(fork)
            self.dropped.append(sorted(before - set(self.index._numbers)))

        self.index.invalidate_above = counted
        self.heads.subscribe(self.index.on_head)

    def read(self, refs) -> None:
        for r in refs:
            self.headers[r.hash] = r
            self.index.put(r.number, r.hash)

    def head(self, ref: L1BlockRef, *, seen: list[L1BlockRef] = ()) -> None:
        for r in (*seen, ref):
            self.headers[r.hash] = r
        self.heads.observe("latest", ref)

    def numbers(self) -> dict[int, bytes]:
        return {n: h for n in range(0, 20) if (h := self.index.get(n)) is not None}


def test_a_reorg_drops_the_numbers_above_the_fork_point_exactly_once():
    v = View()
    a = _chain(0xA, 1, 11, b"\x00" * 32)
    v.read(a)
    v.head(a[-1])
    assert v.dropped == []  # the first head has nothing to compare with
    b = _chain(0xB, 11, 12, a[9].hash)  # a new branch on block 10
    v.head(b[-1], seen=[b[0]])
    assert v.dropped == [[11]]
    assert v.numbers() == {r.number: r.hash for r in a[:10]}
    v.head(b[-1])  # the same head again: nothing happens
    assert v.dropped == [[11]]


def test_a_new_head_on_the_old_one_drops_nothing_below_it():
    v = View()
    a = _chain(0xA, 1, 12, b"\x00" * 32)
    v.read(a[:10])
    v.head(a[9])
    v.head(a[10])
    v.head(a[11])
    assert v.dropped == [[], []]
    assert v.numbers() == {r.number: r.hash for r in a[:10]}


def test_without_the_headers_to_walk_the_fork_point_is_the_finalized_block():
    v = View()
    a = _chain(0xA, 1, 11, b"\x00" * 32)
    v.read(a)
    v.heads.observe("finalized", a[5])
    v.head(a[-1])
    b = _chain(0xB, 9, 12, a[7].hash)  # a reorg from block 9 whose blocks this node never saw but the head
    v.head(b[-1])
    assert v.dropped == [[7, 8, 9, 10, 11]]  # above the finalized block 6: it cannot reorg
    assert v.numbers() == {r.number: r.hash for r in a[:6]}


def test_evidence_from_derivation_forks_just_below_the_block():
    v = View()
    a = _chain(0xA, 1, 8, b"\x00" * 32)
    v.read(a)
    v.index.invalidate_above(5 - 1)  # NodeL1Source.forget_numbers(5): block 5's data is gone
    assert v.numbers() == {r.number: r.hash for r in a[:4]}
