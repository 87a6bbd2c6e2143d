"""Unsafe payloads waiting to extend the unsafe chain (from gossip or ``admin_postUnsafePayload``; op-node keeps
them in the engine controller's unsafe payload queue and inserts the one that builds on the unsafe head, CL sync).

A payload the engine cannot take yet (SYNCING while it catches up to a head the follow source set) stays queued and
is offered again after :data:`UNSAFE_RETRY`, as op-node's CL sync keeps it. With ``--syncmode execution-layer`` the
lowest payload past a gap is handed to the engine, which fills the gap from its peers; without it the gap waits for
derivation (no req-resp sync here).

Each payload inserted is logged as op-node's engine does (op-node/rollup/engine/payload_success.go, okx/optimism@
7573e762): ``Inserted new L2 unsafe block`` with hash, number, insert_time, mgas and mgasps.
"""

from __future__ import annotations

import time

import trio

from derivation.protocol.errors import TemporaryError
from derivation.protocol.payload import ExecutionPayloadEnvelope
from opnode.node.logs import get_logger

log = get_logger("opnode.driver")

MAX_QUEUED_UNSAFE = 512
UNSAFE_RETRY = 0.5  # seconds before offering the engine a payload it could not take yet


class UnsafePayloads:
    def __init__(self, ctrl, *, el_sync: bool = False):
        self.ctrl = ctrl  # the engine controller: it alone moves the unsafe head
        self.el_sync = el_sync
        self.queue: dict[bytes, ExecutionPayloadEnvelope] = {}
        self._retry_at = 0.0

    def submit(self, env: ExecutionPayloadEnvelope) -> bool:
        """Queue ``env``; False if the queue is full of lower payloads (then ``env`` is dropped)."""
        if len(self.queue) >= MAX_QUEUED_UNSAFE:
            lowest = min(self.queue.values(), key=lambda e: e.number)
            if env.number >= lowest.number:
                return False
            del self.queue[lowest.block_hash]
        self.queue[env.block_hash] = env
        return True

    async def insert(self) -> None:
        """Insert the queued payloads that build on the unsafe head, in order (one driver step)."""
        if trio.current_time() < self._retry_at:
            return
        while True:
            safe, unsafe = self.ctrl.safe, self.ctrl.unsafe
            for h, env in list(self.queue.items()):
                if env.number <= safe.number:
                    del self.queue[h]
            nxt = [e for e in self.queue.values() if e.parent_hash == unsafe.hash]
            if not nxt:
                await self._el_sync_over_gap(unsafe)
                break
            env = nxt[0]
            started = time.monotonic()
            try:
                inserted = await self.ctrl.insert_unsafe(env)
            except TemporaryError as e:
                log.info("Unsafe payload not inserted yet", number=env.number, err=str(e))
                self._retry_at = trio.current_time() + UNSAFE_RETRY
                return
            self.queue.pop(env.block_hash, None)
            if inserted:
                await self.ctrl.sync_forkchoice()
                took = time.monotonic() - started
                mgas = env.payload.gas_used / 1e6
                log.info("Inserted new L2 unsafe block", hash=env.block_hash, number=env.number,
                         insert_time=f"{took * 1e3:.3f}ms", mgas=mgas, mgasps=mgas / took if took > 0 else 0.0)

    async def _el_sync_over_gap(self, unsafe) -> None:
        ahead = [e for e in self.queue.values() if e.number > unsafe.number + 1]
        if not self.el_sync or not ahead or self.ctrl.el_syncing:
            return
        env = min(ahead, key=lambda e: e.number)
        if await self.ctrl.el_sync_to(env):
            log.info("Unsafe payload past the unsafe head: the engine syncs the gap", number=env.number,
                     unsafe=unsafe)
        self.queue.pop(env.block_hash, None)
        await self.ctrl.sync_forkchoice()
