"""When the node tries to finalize (``--finality.delay``, ``--finality.lookback``; op-node finality.Finalizer,
op-node/rollup/finality/finalizer.go, okx/optimism@7573e762): at once on a new L1 finality signal, and at idle steps
of derivation no more often than every ``delay`` L1 blocks; each try reads the L1 block the candidate was derived
from (the read the delay saves)."""

from __future__ import annotations

from types import SimpleNamespace

from derivation.protocol.types import BlockID, L1BlockRef, L2BlockRef
from engine.finality import FINALITY_DELAY, FinalityTracker
from opnode.node.runtime.safe_heads import SafeHeads


def l1(n: int) -> L1BlockRef:
    return L1BlockRef(n.to_bytes(32, "big"), n, (n - 1).to_bytes(32, "big"), 12 * n)


def l2(n: int) -> L2BlockRef:
    return L2BlockRef(b"\x02" + n.to_bytes(31, "big"), n, b"", 2 * n, BlockID(b"", 0), 0)


def test_default_delay_is_op_nodes():
    assert FINALITY_DELAY == 64


def test_a_new_signal_tries_at_once_an_old_or_repeated_one_does_not():
    t = FinalityTracker()
    assert t.on_l1_finalized(l1(10)) and t.finalized_l1 == l1(10)
    assert not t.on_l1_finalized(l1(10))
    assert not t.on_l1_finalized(l1(9)) and t.finalized_l1 == l1(10)  # op-node: "ignoring old L1 finalized block"
    assert t.on_l1_finalized(l1(11))


def test_idle_steps_try_every_delay_l1_blocks_and_a_new_signal_lets_the_next_one_try():
    t = FinalityTracker(delay=5)
    assert not t.on_derivation_idle(l1(100))  # no finality signal yet
    t.on_l1_finalized(l1(90))
    assert t.on_derivation_idle(l1(100))
    assert [n for n in range(100, 112) if t.on_derivation_idle(l1(n))] == [106]  # 100 + 5 < n
    t.on_l1_finalized(l1(95))
    assert t.on_derivation_idle(l1(107))
    t.reset()  # op-node onReset: records and the last try go, the signal stays
    assert t.finalized_l1 == l1(95) and t.on_derivation_idle(l1(107))


def test_a_zero_delay_tries_at_each_new_l1_block():
    t = FinalityTracker(delay=0)
    t.on_l1_finalized(l1(1))
    assert [n for n in (5, 5, 6, 6, 7) if t.on_derivation_idle(l1(n))] == [5, 6, 7]


def test_lookback_bounds_the_records():
    t = FinalityTracker(lookback=3)
    for n in range(1, 6):
        t.on_safe(l2(n), l1(n))
    assert t.candidate(l1(2)) is None and t.candidate(l1(3)).l2 == l2(3)  # type: ignore[union-attr]


class Ctrl:
    cross_safe_gate = False

    def __init__(self):
        self.finalized = l2(0)
        self.local_safe = l2(0)

    @property
    def heads(self):
        return SimpleNamespace(local_safe=self.local_safe)

    async def sync_forkchoice(self):
        return True

    def finalize(self, ref):
        self.finalized = ref
        return True


class L1:
    def __init__(self):
        self.reads: list[int] = []

    def block_by_number(self, n):
        self.reads.append(n)
        return SimpleNamespace(hash=l1(n).hash)


async def _resolve(fn):
    return fn()


async def test_safe_heads_finalize_on_new_signals_and_on_idle_steps_past_the_delay():
    finalized_l1 = [l1(20)]
    ctrl, chain = Ctrl(), L1()
    heads = SafeHeads(ctrl, chain, None, None, _resolve, lambda: finalized_l1[0])  # type: ignore[arg-type]
    heads.finality = FinalityTracker(delay=10)
    for n in range(1, 31):  # L2 block n derived from L1 block n
        await heads.on_safe(l2(n), l1(n))
    await heads.finalize()  # a new signal: tried at once
    assert ctrl.finalized == l2(20) and chain.reads == [20]
    await heads.finalize()  # the same signal: no new try
    assert chain.reads == [20]
    finalized_l1[0] = l1(25)  # L1 finalizes more while derivation is idle at L1 block 30
    await heads.finalize()
    assert ctrl.finalized == l2(25) and chain.reads == [20, 25]
    for n in range(31, 45):
        await heads.on_safe(l2(n), l1(n))
    finalized_l1[0] = l1(40)
    heads.finality.finalized_l1 = l1(40)  # the signal known, without the at-once try: only idle steps are left
    await heads.on_derivation_idle(l1(44))  # first idle step since the signal: tries
    assert ctrl.finalized == l2(40) and chain.reads == [20, 25, 40]
    heads.finality.finalized_l1 = l1(43)
    await heads.on_derivation_idle(l1(54))  # within 44 + 10: no read of L1, no new finalized block
    assert ctrl.finalized == l2(40) and chain.reads == [20, 25, 40]
    await heads.on_derivation_idle(l1(55))
    assert ctrl.finalized == l2(43) and chain.reads == [20, 25, 40, 43]
