"""An unsafe payload the engine cannot take yet stays queued (regression: a light node's engine answered SYNCING
while it caught up to the head the follow source set, the payload was dropped, and gossip never extended the
unsafe chain again until the next follow update; raising it out of the loop would also hold back the follow
source's updates behind the driver's back-off)."""

from __future__ import annotations

from dataclasses import dataclass

from derivation.errors import TemporaryError
from derivation.types import ZERO_L1_REF, L2BlockRef
from opnode.runtime.driver import Driver


@dataclass(frozen=True)
class Env:
    number: int

    @property
    def block_hash(self) -> bytes:
        return bytes([self.number]) * 32

    @property
    def parent_hash(self) -> bytes:
        return bytes([self.number - 1]) * 32


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
    await d._insert_unsafe()  # no error out of the driver's loop: the rest of the iteration goes on
    assert Env(6).block_hash in d.unsafe_queue and ctrl.inserted == []  # not lost
    ctrl.syncing = False
    await d._insert_unsafe()
    assert ctrl.inserted == [6, 7, 8] and not d.unsafe_queue
