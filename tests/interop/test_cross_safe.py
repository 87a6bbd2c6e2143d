"""Cross-safe promotion (messaging.md §Resolving cross-chain safety; op-supervisor's hazard set): a block is
cross-safe only when it is valid, its parent is, and everything it depends on is or is promoted with it."""

import itertools

from derivation.interop.cross_safe import Candidate, ChainBlock, dependencies, promote
from derivation.interop.messages import ExecutingMessage, Identifier, Message
from derivation.interop.validity import Verdict

A, B, C = 901, 902, 903
V, X, W = Verdict.VALID, Verdict.INVALID, Verdict.WAIT


def blk(chain, number):
    return ChainBlock(chain, number, number * 2)  # block time 2 from genesis 0 on every chain


def cand(chain, number, verdict=V, *deps):
    return Candidate(blk(chain, number), verdict, tuple(deps))


def _by_chain(*cands):
    out = {}
    for c in cands:
        out.setdefault(c.block.chain_id, []).append(c)
    return out


def test_independent_valid_blocks_all_become_cross_safe():
    r = promote({A: 0, B: 0}, _by_chain(cand(A, 1), cand(A, 2), cand(B, 1)))
    assert r.heads == {A: 2, B: 1}
    assert r.blocked[A].startswith("no local-safe") and r.blocked[B].startswith("no local-safe")


def test_an_older_dependency_must_be_cross_safe_first():
    # B@3 executes a message of A@2; A@2 is local-safe and valid, so both end cross-safe whatever the order
    cands = _by_chain(cand(A, 1), cand(A, 2), cand(B, 1), cand(B, 2), cand(B, 3, V, blk(A, 2)))
    assert promote({A: 0, B: 0}, cands).heads == {A: 2, B: 3}
    # without A@2 local-safe, B stops below the executing block
    r = promote({A: 0, B: 0}, _by_chain(cand(A, 1), cand(B, 1), cand(B, 2), cand(B, 3, V, blk(A, 2))))
    assert r.heads == {A: 1, B: 2} and "waits for chain 901 block 2" in r.blocked[B]


def test_invalid_blocks_and_everything_depending_on_them_stay_unsafe():
    cands = _by_chain(cand(A, 1), cand(A, 2, X), cand(A, 3), cand(B, 1), cand(B, 2), cand(B, 3, V, blk(A, 2)),
                      cand(C, 1), cand(C, 2))
    r = promote({A: 0, B: 0, C: 0}, cands)
    assert r.heads == {A: 1, B: 2, C: 2}
    assert "invalid" in r.blocked[A] and "waits for chain 901 block 2" in r.blocked[B]


def test_same_timestamp_dependencies_are_promoted_together():
    # A@2 and B@2 (same time) depend on each other (acyclic at the log level: cycles.py decides that)
    cands = _by_chain(cand(A, 1), cand(A, 2, V, blk(B, 2)), cand(B, 1), cand(B, 2, V, blk(A, 2)))
    r = promote({A: 0, B: 0}, cands)
    assert r.heads == {A: 2, B: 2} and set(r.promoted) >= {blk(A, 2), blk(B, 2)}


def test_a_same_timestamp_group_with_one_invalid_member_is_not_promoted():
    cands = _by_chain(cand(A, 1), cand(A, 2, V, blk(B, 2)), cand(B, 1), cand(B, 2, X, blk(A, 2)))
    assert promote({A: 0, B: 0}, cands).heads == {A: 1, B: 1}


def test_a_same_timestamp_dependency_must_be_the_next_block_of_its_chain():
    # B@2 depends on A@2 but A@1 is not local-safe yet: A@2 cannot be promoted before it
    cands = _by_chain(cand(A, 2), cand(B, 1), cand(B, 2, V, blk(A, 2)))
    r = promote({A: 0, B: 0}, cands)
    assert r.heads == {A: 0, B: 1} and "next local-safe block" in r.blocked[B]


def test_waiting_blocks_wait_and_a_later_timestamp_dependency_is_refused():
    assert promote({A: 0}, _by_chain(cand(A, 1, W))).heads == {A: 0}
    later = Candidate(blk(A, 1), V, (blk(B, 5),))
    r = promote({A: 0, B: 9}, {A: [later], B: []})
    assert r.heads[A] == 0 and "later" in r.blocked[A]


def test_the_result_does_not_depend_on_the_order_of_chains_or_blocks():
    base = [cand(A, 1), cand(A, 2, V, blk(B, 2)), cand(A, 3, V, blk(C, 1)), cand(B, 1), cand(B, 2, V, blk(A, 2)),
            cand(B, 3, X), cand(C, 1), cand(C, 2, V, blk(B, 3))]
    results = set()
    for chains, flip in itertools.product(itertools.permutations((A, B, C)), (False, True)):
        by = {c: [x for x in (reversed(base) if flip else base) if x.block.chain_id == c] for c in chains}
        r = promote({A: 0, B: 0, C: 0}, by)
        results.add(tuple(sorted(r.heads.items())))
    assert results == {((A, 3), (B, 2), (C, 1))}


def test_dependencies_of_executing_messages():
    ems = [ExecutingMessage(i, Message(Identifier(bytes(20), n, i, n * 2, chain), bytes(32)))
           for i, (chain, n) in enumerate([(B, 4), (A, 2), (B, 4)])]
    assert dependencies(ems) == (blk(A, 2), blk(B, 4))

