"""Following a source node (``--l2.follow.source``; op-node's Light CL, follow-and-rpc.md §1): no derivation;
safe and finalized come from the source's ``optimism_syncStatus``, checked against this node's own L1.

Every 2 × block time the source is polled in a task of its own (a slow or hung source never blocks the node: the
call is bounded by ``--l2.follow.source.rpc-timeout``). An update is applied only if it is consistent
(safe ≤ local-safe, finalized ≤ safe) and the L1 origins of local-safe, safe and finalized — and the source's
``current_l1`` when set — are canonical on our L1; otherwise the whole update is dropped and counted by reason,
with op-node's metric labels. The URL may carry a path (an op-supernode serves each chain at ``/<chainID>``).
The transport is the project's JSON-RPC client without retries (the next poll is the retry).

Log lines and their keys are op-node's, which the topology runbook greps (op-node/rollup/driver/driver.go
``followUpstream`` and op-node/rollup/engine/engine_controller.go ``FollowSource``, okx/optimism@7573e762,
2026-06-30): ``Follow Upstream`` (eSafe, eLocalSafe, eFinalized, eCurrentL1), its ``Follow Upstream: …`` warnings,
``Follow Source: Process external refs`` (currentUnsafe, currentSafe, externalSafe, externalLocalSafe,
externalFinalized: the heads before the update) and the outcome (``Follow Source: Consolidation``, ``… EL Sync in
progress``, ``… EL Sync: External local safe ahead of current unsafe`` at debug, ``… Reorg. May Trigger EL sync``
at warn, as op-node).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import trio

from derivation.protocol.errors import DerivationError
from derivation.protocol.types import L1BlockRef
from engine.controller import FollowOutcome
from opnode.jsonrpc.client import NO_RETRY, RpcClient
from opnode.jsonrpc.errors import RpcError
from opnode.node.logs import get_logger
from opnode.node.sync_status import SyncStatus, SyncStatusError, SyncStatusTracker

log = get_logger("opnode.follow")

# op-node's line per FollowSource outcome (engine_controller.go), and its level
OUTCOME_LINES = {
    FollowOutcome.AHEAD: ("debug", "Follow Source: EL Sync: External local safe ahead of current unsafe"),
    FollowOutcome.EL_SYNCING: ("debug", "Follow Source: EL Sync in progress"),
    FollowOutcome.CONSOLIDATED: ("debug", "Follow Source: Consolidation"),
    FollowOutcome.REORG: ("warn", "Follow Source: Reorg. May Trigger EL sync"),
}

SUCCESS, FETCH, INVALID, L1_LOOKUP, L1_MISMATCH = ("success", "error_fetch_status", "error_invalid_state",
                                                   "error_l1_lookup", "error_l1_mismatch")


class FollowSource:
    def __init__(self, url: str, *, timeout: float, interval: float, l1_ref_by_number, ctrl, driver,
                 status: SyncStatusTracker | None = None, sequencer: bool = False,
                 count: Callable[[str], None] = lambda result: None, metrics=None):
        self.url = url
        self.metrics = metrics  # MetricsSink of the source's client (op-node: rpc="follow-source-api")
        self.timeout = timeout
        self.interval = interval
        self.l1_ref_by_number = l1_ref_by_number  # async (n) -> L1BlockRef on our own L1
        self.ctrl = ctrl
        self.driver = driver
        self.status = status or SyncStatusTracker()  # told the source's current L1
        self.sequencer = sequencer
        self.count = count
        self._pending: SyncStatus | None = None
        self.last: SyncStatus | None = None  # the last applied source status
        self.results: dict[str, int] = {}

    def _result(self, r: str) -> None:
        self.results[r] = self.results.get(r, 0) + 1
        self.count(r)

    def client(self, transport: httpx.AsyncBaseTransport | None = None) -> RpcClient:
        """The source's JSON-RPC client: one attempt per poll, bounded by the follow timeout."""
        return RpcClient(self.url, timeout=self.timeout, retry=NO_RETRY, transport=transport, metrics=self.metrics)

    async def fetch(self, rpc: RpcClient) -> SyncStatus | None:
        try:
            return SyncStatus.from_json(await rpc.call("optimism_syncStatus"))
        except (DerivationError, RpcError, SyncStatusError, ValueError, AttributeError, TypeError) as e:
            log.warn("Follow Upstream: Failed to fetch status", err=str(e) or type(e).__name__)  # timeouts: ''
            self._result(FETCH)
            return None

    async def validate(self, st: SyncStatus) -> bool:
        log.info("Follow Upstream", eSafe=st.safe_l2, eLocalSafe=st.local_safe_l2, eFinalized=st.finalized_l2,
                 eCurrentL1=st.current_l1)
        if st.safe_l2.number > st.local_safe_l2.number:
            log.warn("Follow Upstream: Invalid external state, safe is ahead of local safe", safe=st.safe_l2.number,
                     localSafe=st.local_safe_l2.number)
            self._result(INVALID)
            return False
        if st.finalized_l2.number > st.safe_l2.number:
            log.warn("Follow Upstream: Invalid external state, finalized is ahead of safe", safe=st.safe_l2.number,
                     finalized=st.finalized_l2.number)
            self._result(INVALID)
            return False
        # op-node's wording per head; one L1 lookup per distinct origin number
        checks: dict[int, tuple[str, object]] = {}
        for name, origin in (("local safe", st.local_safe_l2.l1_origin), ("safe", st.safe_l2.l1_origin),
                             ("finalized", st.finalized_l2.l1_origin)):
            checks.setdefault(origin.number, (name, origin))
        if not st.current_l1.is_zero():
            checks.setdefault(st.current_l1.number, ("currentL1", st.current_l1))
        for number, (name, want) in checks.items():
            try:
                ours: L1BlockRef = await self.l1_ref_by_number(number)
            except (DerivationError, LookupError, httpx.HTTPError) as e:
                what = "external currentL1" if name == "currentL1" else f"L1 origin of external {name} head"
                log.warn(f"Follow Upstream: Failed to look up {what}", err=str(e) or type(e).__name__)
                self._result(L1_LOOKUP)
                return False
            if ours.hash != want.hash:
                if name == "currentL1":
                    msg = "Follow Upstream: Invalid external CurrentL1: L1 head mismatch"
                else:
                    msg = (f"Follow Upstream: Invalid external {name}: L1 origin of external {name} head mismatch")
                log.warn(msg, actual=ours, expected=want)
                self._result(L1_MISMATCH)
                return False
        return True

    async def run(self) -> None:
        async with self.client() as rpc:
            tick = trio.current_time()
            while True:
                st = await self.fetch(rpc)
                if st is not None and await self.validate(st):
                    self._pending = st
                    self.driver.wake()
                # a fixed period, as op-node's ticker: the time a poll takes does not push the next one back
                tick = max(tick + self.interval, trio.current_time())
                await trio.sleep_until(tick)

    async def apply(self) -> None:
        """Driver hook: apply the latest validated update on the driver's loop (the controller has one owner)."""
        st, self._pending = self._pending, None
        if st is None:
            return
        log.info("Follow Source: Process external refs", currentUnsafe=self.ctrl.unsafe, currentSafe=self.ctrl.safe,
                 externalSafe=st.safe_l2, externalLocalSafe=st.local_safe_l2, externalFinalized=st.finalized_l2)
        outcome = await self.ctrl.follow_source(st.safe_l2, st.local_safe_l2, st.finalized_l2, self.sequencer)
        if not st.current_l1.is_zero():
            self.status.on_current_l1(st.current_l1)
        self.last = st
        self._result(SUCCESS)
        level, msg = OUTCOME_LINES[outcome]
        getattr(log, level)(msg, currentUnsafe=self.ctrl.unsafe, currentSafe=self.ctrl.safe,
                            externalSafe=st.safe_l2, externalLocalSafe=st.local_safe_l2,
                            externalFinalized=st.finalized_l2)
