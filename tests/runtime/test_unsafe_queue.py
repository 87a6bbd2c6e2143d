"""An unsafe payload the engine cannot take yet stays queued (regression: a light node's engine answered SYNCING
while it caught up to the head the follow source set, the payload was dropped, and gossip never extended the
unsafe chain again until the next follow update; raising it out of the loop would also hold back the follow
source's updates behind the driver's back-off)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import trio

from derivation.protocol.errors import TemporaryError
from derivation.protocol.rollup_config import Fork
from derivation.protocol.types import ZERO_L1_REF, L2BlockRef
from engine.execution.service import EngineService
from opnode.node.runtime.driver import Driver
from opnode.node.runtime.unsafe import UNSAFE_RETRY
from opnode.testing.runtime import SECRET, Node, make_world
from tests.runtime.test_driver_engines import _sequence


@dataclass(frozen=True)
class Env:
    number: int

    @property
    def block_hash(self) -> bytes:
        return bytes([self.number]) * 32

    @property
    def parent_hash(self) -> bytes:
        return bytes([self.number - 1]) * 32

    @property
    def payload(self):  # the gas the "Inserted new L2 unsafe block" line reports
        return SimpleNamespace(gas_used=21_000)


def _ref(n: int) -> L2BlockRef:
    return L2BlockRef(bytes([n]) * 32, n, bytes([n - 1]) * 32, n, ZERO_L1_REF.id, 0)


class Ctrl:
    """The engine answers SYNCING (a temporary error) to the first payload, then takes everything."""

    def __init__(self):
        self.unsafe = _ref(5)
        self.safe = _ref(5)
        self.syncing = True
        self.inserted: list[int] = []

    async def insert_unsafe(self, env: Env) -> bool:
        if self.syncing:
            raise TemporaryError(f"engine answered SYNCING to payload {env.number}")
        self.inserted.append(env.number)
        self.unsafe = _ref(env.number)
        return True

    async def sync_forkchoice(self) -> bool:
        return True


class L2:
    def forget_numbers(self, *a) -> None:
        pass


async def test_payload_refused_while_syncing_is_kept_and_inserted_later():
    ctrl = Ctrl()
    d = Driver(None, pipeline=None, ctrl=ctrl, l1=None, l2=L2(), l1_finalized=lambda: None)
    for n in (6, 7, 8):
        d.submit_unsafe(Env(n))
    await d.unsafe.insert()  # no error out of the driver's loop: the rest of the iteration goes on
    assert Env(6).block_hash in d.unsafe.queue and ctrl.inserted == []  # not lost
    ctrl.syncing = False
    await d.unsafe.insert()  # not offered again at once (no newPayload per loop iteration while it syncs)
    assert ctrl.inserted == []
    await trio.sleep(UNSAFE_RETRY)
    await d.unsafe.insert()
    assert ctrl.inserted == [6, 7, 8] and not d.unsafe.queue


async def test_el_sync_fills_a_gap_in_gossiped_blocks_from_the_engines_peers(nursery):
    """A node that missed blocks 1-4 gets 5-8 by gossip: with ``--syncmode execution-layer`` its engine fetches
    1-4 from its sync peer and the unsafe head reaches 8; in consensus-layer mode the gap waits for derivation."""
    w, genesis = make_world({Fork.HOLOCENE: 0})
    pa = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0).run)
    peers = [f"http://127.0.0.1:{pa.http}"]
    pb = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0, sync_peers=peers).run)
    pc = await nursery.start(EngineService(genesis, SECRET, http_port=0, auth_port=0, sync_peers=peers).run)
    seq = Node(w, f"http://127.0.0.1:{pa.auth}", derive=False)
    el = Node(w, f"http://127.0.0.1:{pb.auth}", derive=False)
    cl = Node(w, f"http://127.0.0.1:{pc.auth}", derive=False)
    el.driver.unsafe.el_sync = True
    for n in (seq, el, cl):
        await nursery.start(n.driver.run)
    w.l1.mine()
    built = await _sequence(w, seq, 8, 1, [0])
    for _, _, env in built[4:]:
        el.driver.submit_unsafe(env)
        cl.driver.submit_unsafe(env)
    head = built[-1][2]
    with trio.fail_after(30):
        while (el.ctrl.unsafe.hash != head.block_hash or el.ctrl.el_syncing
               or (await el.ctrl.block_ref("latest")).hash != head.block_hash):
            el.driver.wake()
            await trio.sleep(0.05)
    for _, _, env in built:
        assert (await el.client.block(env.number))["hash"] == "0x" + env.block_hash.hex()
    cl.driver.wake()
    await trio.sleep(0.2)
    assert cl.ctrl.unsafe.number == 0 and len(cl.driver.unsafe.queue) == 4
