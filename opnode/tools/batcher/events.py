"""What the batcher did, for people and for the devnet summary: one JSON object per line (``--log.events FILE``)
and counters (``batcher_status`` on the admin RPC).

Every line has ``t`` (unix seconds), ``event`` and the event's fields. Events: ``started``, ``channel`` (a channel
built: blocks, frames, DA, compression, batch type, fault), ``fault`` (one per faulty channel: kind, channel,
expected drop reasons), ``tx_sent``, ``tx_included``, ``tx_resubmitted``, ``rewind`` (blocks posted again, with
the reason: ``l1_reorg``, ``channel_timed_out``, ``not_batcher``, ``tx_dropped``, ``fault_repost``), ``l2_reorg``,
``safe_reorg``, ``batcher_changed``, ``stopped``/``resumed``.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, deque
from pathlib import Path

log = logging.getLogger("opnode.tools.batcher")


class EventLog:
    def __init__(self, path: str | Path | None = None, clock=time.time):
        self.path = Path(path) if path else None
        self.clock = clock
        self.counters: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.rewinds: Counter[str] = Counter()
        self.txs_by_da: Counter[str] = Counter()
        self.recent: deque[dict] = deque(maxlen=2000)  # the latest events, as written
        self._file = open(self.path, "a", buffering=1) if self.path else None  # noqa: SIM115 (closed in close())

    def emit(self, event: str, **fields) -> None:
        self.counters[event] += 1
        self.recent.append({"event": event, **fields})
        if event == "fault":
            self.faults[fields["kind"]] += 1
        elif event == "rewind":
            self.rewinds[fields["reason"]] += 1
        elif event == "tx_included" and not fields.get("garbage"):
            self.txs_by_da[fields["da"]] += 1
        if self._file is not None:
            self._file.write(json.dumps({"t": round(self.clock(), 3), "event": event, **fields},
                                        separators=(",", ":"), default=_json_default) + "\n")

    def snapshot(self) -> dict:
        return {"events": dict(self.counters), "faults": dict(self.faults), "rewinds": dict(self.rewinds),
                "txs_included_by_da": dict(self.txs_by_da)}

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _json_default(v):
    if isinstance(v, bytes):
        return "0x" + v.hex()
    if isinstance(v, (set, frozenset, tuple)):
        return sorted(v) if isinstance(v, (set, frozenset)) else list(v)
    return str(v)


def read_events(path: str | Path) -> list[dict]:
    """The events of a batcher's ``--log.events`` file (for the devnet summary and tests)."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
