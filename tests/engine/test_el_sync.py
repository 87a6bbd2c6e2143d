"""The engine controller's EL sync (``--syncmode execution-layer``) with ``--l2.enginekind`` and
``--syncmode.offset-el-safe``, against a scripted engine: the cases of op-node's engine_el_sync_completion_test.go,
engine_el_sync_startup_test.go and engine_el_sync_offset_test.go (op-node/rollup/engine, 2026) that opnode's
controller shares: whether the first payload starts EL sync, the start-up skip, and the heads when it ends."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import engine.controller as controller_module
from derivation.protocol.errors import TemporaryError
from derivation.protocol.types import BlockID, L2BlockRef
from engine.controller import EngineController
from engine.el_sync import DEFAULT_ENGINE_KIND, ELSyncConfig, ELSyncStatus, supports_post_finalization_el_sync
from engine.heads import Heads

BLOCK_TIME = 2
GENESIS = L2BlockRef(b"\xff" * 32, 0, b"\x00" * 32, 1000, BlockID(b"\x0a" * 32, 10), 0)


def ref(n: int) -> L2BlockRef:
    if n == 0:
        return GENESIS
    return L2BlockRef(n.to_bytes(32, "big"), n, (n - 1).to_bytes(32, "big") if n > 1 else GENESIS.hash,
                      GENESIS.time + n * BLOCK_TIME, BlockID(b"\x0a" * 32, 10), n)


def env(n: int) -> SimpleNamespace:
    r = ref(n)
    return SimpleNamespace(number=n, block_hash=r.hash, parent_hash=r.parent_hash, ref=r)


class Engine:
    """A scripted engine: the chain it holds (by number), its finalized label, and its answers."""

    def __init__(self, finalized: int | None, holds: int = 0):
        self.finalized = finalized
        self.holds = holds  # blocks 0..holds are in the engine
        self.new_payload_status = "VALID"
        self.fcu_status = "VALID"
        self.new_payloads: list[int] = []
        self.fcus: list[tuple[int, int, int]] = []  # (head, safe, finalized) numbers
        self.label_reads = 0

    async def block_ref(self, tag_or_hash):
        if tag_or_hash == "finalized":
            self.label_reads += 1
            return None if self.finalized is None else ref(self.finalized)
        assert isinstance(tag_or_hash, int)
        return ref(tag_or_hash) if tag_or_hash <= self.holds else None

    async def new_payload(self, e):
        self.new_payloads.append(e.number)
        return SimpleNamespace(status=self.new_payload_status, validation_error=None)

    async def forkchoice_updated(self, state, attrs=None):
        num = {ref(n).hash: n for n in range(0, 200)}
        self.fcus.append((num[state.head], num[state.safe], num[state.finalized]))
        return SimpleNamespace(payload_status=SimpleNamespace(status=self.fcu_status, validation_error=None))


@pytest.fixture(autouse=True)
def refs_from_fake_payloads(monkeypatch):
    monkeypatch.setattr(controller_module, "ref_from_payload", lambda cfg, e: e.ref)


def make(eng: Engine, kind: str = DEFAULT_ENGINE_KIND, offset: float = 0.0, enabled: bool = True,
         heads: int = 0) -> EngineController:
    cfg = SimpleNamespace(genesis=SimpleNamespace(l2=BlockID(GENESIS.hash, 0)), block_time=BLOCK_TIME)
    ctrl = EngineController(cfg, eng, el_sync=ELSyncConfig(enabled, kind, offset))  # type: ignore[arg-type]
    ctrl.block_ref = eng.block_ref  # type: ignore[method-assign]
    h = ref(heads)
    ctrl.heads = Heads(unsafe=h, cross_unsafe=h, pending_safe=h, local_safe=h, safe=h, finalized=h)
    return ctrl


def test_engine_kinds_and_default_are_op_nodes():
    assert DEFAULT_ENGINE_KIND == "reth" and ELSyncConfig().engine_kind == "reth"
    assert [k for k in ("geth", "reth", "erigon") if supports_post_finalization_el_sync(k)] == ["reth", "erigon"]


async def test_geth_with_a_finalized_block_past_genesis_skips_el_sync_and_drops_the_payload():
    """op-node TestInsertUnsafePayload_ELSync_skipsWhenFinalized: no newPayload, no forkchoice update; from then
    on the node works as in CL sync (derivation is not held)."""
    eng = Engine(finalized=5, holds=5)
    ctrl = make(eng, kind="geth", heads=5)
    assert ctrl.initial_el_syncing
    assert not await ctrl.el_sync_to(env(50))
    assert (ctrl.el_status, eng.new_payloads, eng.fcus) == (ELSyncStatus.FINISHED, [], [])
    assert ctrl.unsafe == ref(5) and not ctrl.initial_el_syncing and not ctrl.take_el_sync_finished()


@pytest.mark.parametrize("kind, finalized", [("reth", 5), ("erigon", 5), ("geth", 0), ("geth", None)])
async def test_el_sync_starts_past_finality_for_reth_and_erigon_and_on_a_fresh_geth(kind, finalized):
    eng = Engine(finalized=finalized, holds=5)
    ctrl = make(eng, kind=kind, heads=5)
    eng.new_payload_status = "SYNCING"
    assert await ctrl.el_sync_to(env(50))
    assert ctrl.el_status is ELSyncStatus.STARTED and ctrl.initial_el_syncing and eng.new_payloads == [50]
    assert ctrl.unsafe == ref(50) and ctrl.safe == ref(5) and ctrl.finalized == ref(5)


async def test_the_first_valid_forkchoice_ends_el_sync_with_safe_and_finalized_at_the_tip():
    """op-node TestInsertUnsafePayload_ELSync_offsetDerived, offset 0: unsafe, safe and finalized at the synced tip;
    the engine takes that forkchoice next, and the driver is told once to restart derivation."""
    eng = Engine(finalized=0, holds=0)
    ctrl = make(eng)
    eng.new_payload_status = eng.fcu_status = "SYNCING"
    assert await ctrl.el_sync_to(env(40))
    assert not await ctrl.sync_forkchoice() and ctrl.el_syncing and ctrl.el_status is ELSyncStatus.STARTED
    eng.holds, eng.fcu_status = 40, "VALID"
    assert await ctrl.sync_forkchoice()
    assert ctrl.el_status is ELSyncStatus.FINISHED and not ctrl.initial_el_syncing
    h = ctrl.heads
    assert (h.unsafe, h.pending_safe, h.local_safe, h.safe, h.finalized) == (ref(40),) * 5
    assert eng.fcus == [(40, 0, 0), (40, 0, 0), (40, 40, 40)]
    assert ctrl.take_el_sync_finished() and not ctrl.take_el_sync_finished()


@pytest.mark.parametrize("offset, want", [(0, 40), (5, 37), (6, 37), (7, 36), (10**6, 0)])
async def test_offset_el_safe_puts_safe_and_finalized_behind_the_synced_tip(offset, want):
    """ceil(offset / block time) blocks behind the tip (2 s blocks), clamped at genesis (op-node OffsetBlockNum)."""
    eng = Engine(finalized=0, holds=40)
    ctrl = make(eng, offset=offset)
    assert await ctrl.el_sync_to(env(40))  # the engine already holds it: newPayload VALID ends EL sync at once
    h = ctrl.heads
    assert (h.unsafe, h.safe, h.finalized) == (ref(40), ref(want), ref(want))
    assert await ctrl.sync_forkchoice() and eng.fcus[-1] == (40, want, want)


async def test_ending_el_sync_never_moves_safe_or_finalized_back():
    """With post-finalization EL sync a node may have safe/finalized already: the offset head does not retract them
    (op-node engine_controller.go "Never retract finalized or safe behind their prior values")."""
    eng = Engine(finalized=30, holds=40)
    ctrl = make(eng, kind="reth", offset=20, heads=30)  # offset head: 40 - 10 = 30
    ctrl.heads = Heads(unsafe=ref(34), cross_unsafe=ref(34), pending_safe=ref(34), local_safe=ref(34), safe=ref(34),
                       finalized=ref(28))
    assert await ctrl.el_sync_to(env(40))
    assert (ctrl.unsafe, ctrl.safe, ctrl.finalized) == (ref(40), ref(34), ref(30))


async def test_a_payload_on_the_unsafe_head_starts_and_ends_el_sync_when_the_engine_takes_it():
    """op-node's ELSync hands every payload to insertUnsafePayload: on a fresh engine the next block, VALID, ends the
    initial EL sync at once."""
    eng = Engine(finalized=None, holds=0)
    ctrl = make(eng, offset=2)
    assert await ctrl.insert_unsafe(env(1))
    assert ctrl.el_status is ELSyncStatus.FINISHED and (ctrl.unsafe, ctrl.safe) == (ref(1), ref(0))
    assert await ctrl.insert_unsafe(env(2))  # after EL sync: a plain unsafe insert, safe stays
    assert (ctrl.unsafe, ctrl.safe, ctrl.finalized) == (ref(2), ref(0), ref(0))


async def test_a_geth_payload_on_the_unsafe_head_with_finality_is_dropped_once_then_inserted():
    eng = Engine(finalized=3, holds=5)
    ctrl = make(eng, kind="geth", heads=5)
    assert not await ctrl.insert_unsafe(env(6)) and eng.new_payloads == []
    assert await ctrl.insert_unsafe(env(6)) and eng.new_payloads == [6]
    assert (ctrl.unsafe, ctrl.safe) == (ref(6), ref(5))


@pytest.mark.parametrize("kind, finalized, skips", [("geth", 9, True), ("geth", 0, False), ("geth", None, False),
                                                     ("reth", 9, False), ("erigon", 9, False)])
async def test_start_up_skips_el_sync_only_for_geth_with_a_finalized_block(kind, finalized, skips):
    """op-node TestMaybeSkipELSyncIfEngineAlreadySynced."""
    eng = Engine(finalized=finalized, holds=9)
    ctrl = make(eng, kind=kind, heads=9)
    await ctrl.maybe_skip_el_sync()
    assert ctrl.el_status is (ELSyncStatus.FINISHED if skips else ELSyncStatus.WILL_START)
    assert ctrl.initial_el_syncing is not skips


async def test_without_el_sync_nothing_is_asked_of_the_engine():
    eng = Engine(finalized=9, holds=9)
    ctrl = make(eng, kind="geth", enabled=False, heads=9)
    await ctrl.maybe_skip_el_sync()
    eng.new_payload_status = "SYNCING"
    assert await ctrl.el_sync_to(env(50))  # a light node's gap: handed to the engine as before
    assert ctrl.el_status is ELSyncStatus.CL and eng.label_reads == 0 and not ctrl.initial_el_syncing
    assert (ctrl.unsafe, ctrl.safe) == (ref(50), ref(9))


async def test_an_offset_head_the_engine_cannot_serve_yet_is_asked_again():
    """op-node: "EL sync offset-derived head at block N" is a temporary error; EL sync ends on the next try."""
    eng = Engine(finalized=0, holds=0)
    ctrl = make(eng, offset=4)
    eng.new_payload_status = "SYNCING"
    assert await ctrl.el_sync_to(env(40))
    with pytest.raises(TemporaryError, match="offset-derived head at block 38"):
        await ctrl.sync_forkchoice()  # VALID, but block 38 is not readable from the engine yet
    assert ctrl.el_status is ELSyncStatus.STARTED and ctrl.initial_el_syncing
    eng.holds = 40
    assert await ctrl.sync_forkchoice()
    assert (ctrl.el_status, ctrl.unsafe, ctrl.safe, ctrl.finalized) == (ELSyncStatus.FINISHED, ref(40), ref(38), ref(38))
