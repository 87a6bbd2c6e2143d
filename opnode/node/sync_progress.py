"""op-node's ``Sync progress`` log line, which runbooks grep for derivation progress, and its periodic form while the
node catches up.

Followed: op-node/rollup/engine/engine_controller.go ``logSyncProgressMaybe`` (okx/optimism@7573e762, 2026-06-30,
the newest op-node in the file index): after a head change, ``Info "Sync progress"`` with ``reason`` (the first of
"finalized block", "derived safe block from L1" when safe was at unsafe before, else "consolidated block with L1",
"new chain head block", "pending new safe block", "new backup unsafe block") and the heads ``l2_finalized``,
``l2_safe``, ``l2_pending_safe``, ``l2_unsafe``, ``l2_backup_unsafe`` (block refs) and ``l2_time``.

op-node logs one line per forkchoice change, which is thousands a minute while a node catches up. Here, while the
unsafe head's time is more than ``catchup_lag`` seconds behind the wall clock, the line is printed at most once
per ``interval`` seconds, with the latest heads, ``updates`` (head changes since the last line) and ``l2_lag``
(seconds behind); at the tip it is printed per change as op-node does.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from derivation.protocol.types import ZERO_L2_REF

# "Catching up": the newest block is older than this. The devnets' and live chains' block times are 1-2 s, so a
# node this far behind is replaying history rather than following the tip.
CATCHUP_LAG = 60.0
INTERVAL = 10.0


def progress_reason(old, new) -> str | None:
    """The ``reason`` op-node gives for a change from heads ``old`` to ``new`` (None: nothing it logs changed)."""
    if old.finalized != new.finalized:
        return "finalized block"
    if old.safe != new.safe:
        return "derived safe block from L1" if old.safe == old.unsafe else "consolidated block with L1"
    if old.unsafe != new.unsafe:
        return "new chain head block"
    if old.pending_safe != new.pending_safe:
        return "pending new safe block"
    if old.backup_unsafe != new.backup_unsafe:
        return "new backup unsafe block"
    return None


class SyncProgressLog:
    """Feeds ``log.info("Sync progress", …)`` from head changes; ``clock`` is wall time, ``monotonic`` paces lines."""

    def __init__(self, log, *, catchup_lag: float = CATCHUP_LAG, interval: float = INTERVAL,
                 clock: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic):
        self.log = log
        self.catchup_lag = catchup_lag
        self.interval = interval
        self.clock = clock
        self.monotonic = monotonic
        self._updates = 0
        self._last: float | None = None

    def on_heads(self, old, new) -> None:
        reason = progress_reason(old, new)
        if reason is None:
            return
        self._updates += 1
        lag = self.clock() - new.unsafe.time
        extra: dict[str, object] = {}
        if lag > self.catchup_lag:
            now = self.monotonic()
            if self._last is not None and now - self._last < self.interval:
                return
            self._last = now
            extra = {"updates": self._updates, "l2_lag": int(lag)}
        else:
            self._last = None
        self._updates = 0
        self.log.info("Sync progress", reason=reason, l2_finalized=new.finalized, l2_safe=new.safe,
                      l2_pending_safe=new.pending_safe, l2_unsafe=new.unsafe,
                      l2_backup_unsafe=new.backup_unsafe or ZERO_L2_REF, l2_time=new.unsafe.time, **extra)
