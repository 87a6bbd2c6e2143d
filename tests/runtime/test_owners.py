"""One owner for every piece of L2 state (issue 15): the engine controller owns the heads and reports what it did;
the pipeline's L2 view and the status tracker behind ``optimism_syncStatus`` only subscribe to it."""

from __future__ import annotations

import dataclasses

import pytest
import trio

from bench.node import make_chain
from derivation.protocol.attributes import AttributesWithParent
from derivation.protocol.rollup_config import Fork
from derivation.protocol.types import ZERO_L1_REF
from derivation.providers import NeedData
from engine.client import ForkchoiceResult, PayloadStatus
from engine.execution.service import EngineService
from engine.heads import DerivedBlock, Heads, HeadsChanged
from opnode.node.runtime.l2_data import NodeL2Source
from opnode.node.safedb import SafeDB
from opnode.testing.runtime import SECRET, Node


def _known(view: NodeL2Source, n: int) -> bytes | None:
    try:
        return view.block_ref_by_number(n).hash
    except NeedData:
        return None


async def test_l2_view_sees_every_head_change_of_the_controller_without_the_driver(nursery):
    """Derived blocks reach the L2 view from the controller's events alone (the driver is never run), with no
    engine read for them; the reset that reading the engine's labels starts drops every number lookup."""
    c = await make_chain(6, 1, 2, forks={Fork.HOLOCENE: 0})
    ports = await nursery.start(EngineService(c.genesis, SECRET, http_port=0, auth_port=0).run)
    node = Node(c.world, f"http://127.0.0.1:{ports.auth}", derive=True)
    ctrl, view = node.ctrl, node.l2
    ctrl.force_heads(await ctrl.engine_heads())
    reads = []
    call = node.client.call

    async def counted(method, *params):
        if method.startswith("eth_"):
            reads.append(method)
        return await call(method, *params)

    node.client.call = counted
    for attrs, env in zip(c.attributes, c.envelopes, strict=True):
        await ctrl.process_attributes(AttributesWithParent(attrs, ctrl.pending_safe, ZERO_L1_REF, True))
        assert _known(view, env.number) == env.block_hash
        assert view.block_ref_by_hash(env.block_hash) == ctrl.safe
    assert reads == []
    await ctrl.engine_heads()
    assert [_known(view, env.number) for env in c.envelopes] == [None] * len(c.envelopes)


async def test_one_invalidation_rule_for_l2_numbers(nursery):
    """A new unsafe head that does not extend the old one drops the number lookups from the lower of the two up,
    exactly those; an extension drops only its own number; a reset drops all."""
    c = await make_chain(6, 1, 2, forks={Fork.HOLOCENE: 0})
    cfg = c.world.cfg
    view = NodeL2Source(cfg, None)
    blocks = [DerivedBlock.from_payload(cfg, env) for env in c.envelopes]  # numbers 1..6
    heads = Heads()
    for b in blocks:
        new = dataclasses.replace(heads, unsafe=b.ref)
        view.on_heads(HeadsChanged(heads, new, b))
        heads = new
    assert [_known(view, b.ref.number) for b in blocks] == [b.ref.hash for b in blocks]
    # a reorg to another block 4 on block 3: 4, 5 and 6 are asked again, 1-3 stand
    other = dataclasses.replace(blocks[3].ref, hash=b"\x44" * 32)
    view.on_heads(HeadsChanged(heads, dataclasses.replace(heads, unsafe=other)))
    assert [_known(view, b.ref.number) for b in blocks] == [b.ref.hash for b in blocks[:3]] + [None] * 3
    # back on the first chain: extending block 5 with block 6 drops number 6 alone
    for blk in blocks[3:]:
        view.add_derived(blk)
    at5 = dataclasses.replace(heads, unsafe=blocks[4].ref)
    view.on_heads(HeadsChanged(at5, heads))
    assert [_known(view, b.ref.number) for b in blocks] == [b.ref.hash for b in blocks[:5]] + [None]
    view.on_heads(HeadsChanged(heads, heads, reset=True))
    assert [_known(view, b.ref.number) for b in blocks] == [None] * 6


class Crash(Exception):
    """The node process dies here."""


async def test_sync_status_and_safe_db_never_go_back_across_a_restart(nursery, tmp_path):
    """The node dies after the controller moved the safe head and before the engine took it in a forkchoice update.
    What the RPC had reported (syncStatus safe/finalized, the safe DB's last row) must not go backwards once a new
    node on the same engine and safe DB has started from the engine's labels."""
    c = await make_chain(10, 1, 2, forks={Fork.HOLOCENE: 0})
    ports = await nursery.start(EngineService(c.genesis, SECRET, http_port=0, auth_port=0).run)
    url = f"http://127.0.0.1:{ports.auth}"
    a = Node(c.world, url, derive=True)
    a.driver.safe_heads.safedb = SafeDB(tmp_path / "safedb")
    # L1 finalizes while the node derives (a new signal is tried at once: op-node finality.Finalizer), so finality
    # moves before derivation has reached the L1 head
    l1_finalized, signal = a.driver.safe_heads.l1_finalized, [None]
    a.driver.safe_heads.l1_finalized = lambda: signal[0]
    await a.driver._reset()
    with trio.fail_after(60):
        while a.ctrl.finalized.number < 2 or a.ctrl.safe.number < 4:
            await a.ctrl.sync_forkchoice()
            if a.ctrl.safe.number >= 4:
                signal[0] = l1_finalized()
            await a.driver.safe_heads.finalize()
            await a.driver._derive()
    await a.ctrl.sync_forkchoice()
    fcu = a.client.forkchoice_updated

    async def dies_before_forkchoice(state, attrs=None):
        if attrs is None:
            raise Crash
        return await fcu(state, attrs)

    a.client.forkchoice_updated = dies_before_forkchoice
    with pytest.raises(Crash), trio.fail_after(60):
        while True:
            await a.driver._derive()
    assert a.ctrl.safe.number > a.status.status().safe_l2.number  # the controller had moved on
    reported = a.status.status()
    rows = a.driver.safe_heads.safedb.entries()
    a.driver.safe_heads.safedb.close()

    b = Node(c.world, url, derive=True)
    b.driver.safe_heads.safedb = db = SafeDB(tmp_path / "safedb")
    await b.driver._reset()
    after = b.status.status()
    assert after.safe_l2.number >= reported.safe_l2.number and after.safe_l2.number > 0
    assert after.finalized_l2.number >= reported.finalized_l2.number
    assert after.local_safe_l2.number >= after.safe_l2.number
    # The safe DB loses no row while the restarted node derives its way back past them (the chaos invariant; the
    # last row's L1 block may still be derived from, so its safe head may only grow).
    assert db.entries() == rows

    def kept() -> bool:
        now = db.entries()
        top = db.safe_head_at(rows[-1].l1.number)
        return now[:len(rows) - 1] == rows[:-1] and top.safe_head.number >= rows[-1].safe_head.number

    with trio.fail_after(60):
        while b.ctrl.safe.number <= rows[-1].safe_head.number:
            await b.ctrl.sync_forkchoice()
            await b.driver.safe_heads.finalize()
            await b.driver._derive()
            assert kept(), (db.entries(), rows)
    db.close()


async def test_a_safe_head_the_engine_answers_syncing_to_is_neither_reported_nor_recorded(nursery, tmp_path):
    """The engine answers SYNCING to the forkchoice updates that would make derived blocks safe (an engine catching
    up, or the chaos suite's syncing fault, which answers without asking it): the engine has not taken those labels,
    so neither ``optimism_syncStatus`` nor the safe DB may show them (op-node emits ``ForkchoiceUpdateEvent`` on a
    VALID answer only, engine_controller.go ``tryUpdateEngineInternal``). A node that dies then and restarts on the
    same engine and safe DB answers no lower than it had."""
    c = await make_chain(10, 1, 2, forks={Fork.HOLOCENE: 0})
    ports = await nursery.start(EngineService(c.genesis, SECRET, http_port=0, auth_port=0).run)
    url = f"http://127.0.0.1:{ports.auth}"
    a = Node(c.world, url, derive=True)
    a.driver.safe_heads.safedb = SafeDB(tmp_path / "safedb")
    await a.driver._reset()
    with trio.fail_after(60):
        while a.ctrl.safe.number < 3:
            await a.ctrl.sync_forkchoice()
            await a.driver._derive()
    await a.ctrl.sync_forkchoice()
    acknowledged = a.ctrl.safe
    assert a.status.status().safe_l2 == acknowledged
    fcu = a.client.forkchoice_updated

    async def syncing(state, attrs=None):
        if attrs is None:
            return ForkchoiceResult(PayloadStatus("SYNCING", None, None), None)
        return await fcu(state, attrs)

    a.client.forkchoice_updated = syncing
    with trio.fail_after(60):
        while a.ctrl.safe.number < acknowledged.number + 3:
            await a.driver._derive()
    assert a.status.status().safe_l2 == acknowledged
    assert a.driver.safe_heads.safedb.latest().safe_head.number == acknowledged.number
    reported = a.status.status()
    a.driver.safe_heads.safedb.close()

    b = Node(c.world, url, derive=True)
    b.driver.safe_heads.safedb = SafeDB(tmp_path / "safedb")
    await b.driver._reset()
    assert b.status.status().safe_l2.number >= reported.safe_l2.number
    b.driver.safe_heads.safedb.close()


async def test_a_supernode_chain_records_its_local_safe_heads_before_they_are_cross_safe(nursery, tmp_path):
    """A supernode's chain (``cross_safe_gate``): derivation moves local-safe only, and its verifier makes a block
    cross-safe (safe) only after reading that block's L1 inclusion from the chain's safe DB. So the rows are the
    local-safe heads the engine holds, written before anything is cross-safe; waiting for safe there deadlocks the
    verifier (the e2e supernode stalled at its activation block after the merges of issue 18)."""
    c = await make_chain(10, 1, 2, forks={Fork.HOLOCENE: 0})
    ports = await nursery.start(EngineService(c.genesis, SECRET, http_port=0, auth_port=0).run)
    a = Node(c.world, f"http://127.0.0.1:{ports.auth}", derive=True, cross_safe_gate=True)
    a.driver.safe_heads.safedb = db = SafeDB(tmp_path / "safedb")
    await a.driver._reset()
    with trio.fail_after(60):
        while a.ctrl.heads.local_safe.number < 4:
            await a.ctrl.sync_forkchoice()
            await a.driver.safe_heads.finalize()
            await a.driver._derive()
    await a.driver.safe_heads.finalize()
    assert a.ctrl.safe.number == 0  # nothing verified yet
    local = a.ctrl.heads.local_safe
    assert db.latest().safe_head == local.id
    for row in db.entries():  # each row's L2 block is the engine's, derived from the row's L1 block
        assert (await a.ctrl.block_ref(row.safe_head.number)).hash == row.safe_head.hash
    db.close()


async def test_a_supernode_chain_restarted_reports_its_verified_head_not_the_walked_back_one(nursery, tmp_path):
    """Sync start walks the restarted chain's safe head back (a sequencing window, or to finalized) for derivation
    to start from; a supernode's chain must still report its last verified (cross-safe) head while the engine has
    it, or safe goes down across a restart and proxyd bans the supernode (found by the e2e's consensus poller:
    79 -> 77 after kill -9)."""
    c = await make_chain(10, 1, 2, forks={Fork.HOLOCENE: 0})
    ports = await nursery.start(EngineService(c.genesis, SECRET, http_port=0, auth_port=0).run)
    url = f"http://127.0.0.1:{ports.auth}"
    a = Node(c.world, url, derive=True, cross_safe_gate=True)
    await a.driver._reset()
    with trio.fail_after(60):
        while a.ctrl.heads.local_safe.number < 8:
            await a.ctrl.sync_forkchoice()
            await a.driver._derive()
    verified = a.ctrl.heads.local_safe
    assert a.ctrl.set_cross_safe(verified)
    await a.ctrl.sync_forkchoice()
    assert a.status.status().safe_l2 == verified

    def restarted(hook):
        b = Node(c.world, url, derive=True, cross_safe_gate=True)
        b.driver.safe_heads.verified_safe = hook
        return b

    b = restarted(None)
    await b.driver._reset()
    assert b.ctrl.safe.number < verified.number  # the walk went below it: what would be reported without the hold
    b = restarted(lambda: verified.id)
    await b.driver._reset()
    st = b.status.status()
    assert st.safe_l2 == verified and st.local_safe_l2.number >= verified.number
    b = restarted(lambda: dataclasses.replace(verified.id, hash=b"\x01" * 32))  # not the engine's block: no hold
    await b.driver._reset()
    assert b.status.status().safe_l2.number < verified.number


@pytest.mark.parametrize("derive", [True, False], ids=["sequencer without a safe DB", "light node"])
async def test_a_node_without_safe_db_answers_no_lower_safe_head_after_a_restart(nursery, derive):
    """Issue 18's kill -9 defect of a sequencer (229 → 225) and a light node (232 → 223): neither keeps a safe DB,
    and the reset every start makes walks the safe head back a sequencing window below the engine's safe label. That
    label is what the node had reported (published only on a VALID forkchoice update), so a node restarted on the
    same engine answers it until its safe head is back there."""
    c = await make_chain(10, 1, 2, forks={Fork.HOLOCENE: 0})
    ports = await nursery.start(EngineService(c.genesis, SECRET, http_port=0, auth_port=0).run)
    url = f"http://127.0.0.1:{ports.auth}"
    a = Node(c.world, url, derive=True)
    await a.driver._reset()
    with trio.fail_after(60):
        while a.ctrl.safe.number < 8:
            await a.ctrl.sync_forkchoice()
            await a.driver.safe_heads.finalize()
            await a.driver._derive()
    await a.ctrl.sync_forkchoice()
    reported = a.status.status()
    assert reported.safe_l2 == a.ctrl.safe  # the engine took it

    b = Node(c.world, url, derive=derive)  # the same command line again: no safe DB
    await b.driver._reset()
    assert b.ctrl.safe.number < reported.safe_l2.number  # the reset walked back: the case this test is about
    after = b.status.status()
    assert after.safe_l2 == reported.safe_l2
    assert after.finalized_l2.number >= reported.finalized_l2.number
    assert after.local_safe_l2.number >= after.safe_l2.number
