"""The chaos suite's invariant monitor: a thread that polls every node of a running :class:`Stack` from outside and
records each broken invariant (the test asserts that none was recorded):

- safe and finalized never go backwards, also across a restart (the first answer after it is ≥ the last before),
  except inside a window in which the test caused a real L1 reorg (:meth:`Monitor.l1_reorg`);
- every safe and finalized block a node reports is on the sequencer's chain, hash by hash (the sequencer engine's
  ``eth_getBlockByNumber``);
- the safe-head DB of each source (``optimism_safeHeadAtL1Block``) loses no record once an L1 block has been derived
  past, and its answers stay ordered (a later L1 block never maps to an earlier L1 record or safe head);
- every process is alive unless the test took it down (:meth:`Monitor.down`), and comes back when restarted;
- no ``Traceback`` in any log.

Answers of processes that are down or busy (timeouts, refused connections) are no samples, not violations.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from opnode.tools.devnet.stack import Stack

HEADS = ("safe_l2", "finalized_l2")


@dataclass
class NodeSeen:
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)  # label -> (number, hash), the last answer
    samples: int = 0
    safedb: dict[int, tuple[int, int]] = field(default_factory=dict)  # L1 number asked -> (L1 record, safe number)


class Monitor:
    def __init__(self, stack: Stack, interval: float = 0.5):
        self.stack = stack
        self.interval = interval
        self.violations: list[str] = []
        self.seen: dict[str, NodeSeen] = {}
        self._down: set[str] = set()  # process names the test took down (node names, "<node>-engine", "batcher")
        self._reorg_depth = 0
        self._reorg_base: int | None = None  # the first L1 block number a declared reorg may have replaced
        self._pending: list[tuple[str, str, int, str]] = []  # (node, label, number, hash) still to check
        self._log_offsets: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._http = httpx.Client(timeout=2)  # a stopped process must not hold up the others' samples
        self._thread = threading.Thread(target=self._run, name="chaos-monitor", daemon=True)

    # ------------------------------------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Monitor:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(30)
        self._http.close()

    def check(self) -> None:
        """One full round now (the thread does the same every ``interval``), then fail on any violation recorded
        since the last check (those are then reported, and the next check starts afresh)."""
        with self._lock:
            self._round()
            found, self.violations = self.violations, []
        assert not found, "invariants broken:\n" + "\n".join(found)

    def forget(self, name: str) -> None:
        """Start afresh for ``name`` (after a test reported a defect there, so that it is not reported again)."""
        with self._lock:
            self.violations = [v for v in self.violations if not v.startswith(f"{name}:")]
            self.seen.pop(name, None)
            self._pending = [p for p in self._pending if p[0] != name]

    # ------------------------------------------------------------------------------------------------ declarations

    @contextmanager
    def down(self, *names: str):
        """Processes the test takes down inside the block; each must be alive again at its end."""
        with self._lock:
            self._down.update(names)
        try:
            yield
        finally:
            with self._lock:
                self._down.difference_update(names)

    @contextmanager
    def l1_reorg(self, base: int):
        """The test replaces L1 blocks from ``base`` on inside the block: heads may go back meanwhile, and safe-head
        DB records from L1 blocks ≥ ``base`` may be dropped."""
        with self._lock:
            self._reorg_depth += 1
            self._reorg_base = base if self._reorg_base is None else min(base, self._reorg_base)
        try:
            yield
        finally:
            with self._lock:
                self._reorg_depth -= 1
                # what derivation reported inside the window starts afresh
                for seen in self.seen.values():
                    seen.heads.clear()

    def samples(self, name: str) -> int:
        with self._lock:
            return self.seen.get(name, NodeSeen()).samples

    # ------------------------------------------------------------------------------------------------ polling

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                self._round()

    def _rpc(self, url: str, method: str, *params):
        """The result, or ``None`` when the process does not answer (down, stopped, busy)."""
        try:
            r = self._http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
            doc = r.json()
        except (httpx.HTTPError, ValueError):
            return None
        if "error" in doc:
            return {"error": doc["error"]}
        return {"result": doc.get("result")}

    def _violate(self, what: str) -> None:
        if what not in self.violations:
            self.violations.append(what)

    def _round(self) -> None:
        seq = self.stack.node("sequencer")
        for node in list(self.stack.nodes):
            self._check_alive(node)
            ans = self._rpc(node.rpc, "optimism_syncStatus")
            if ans is None or "result" not in ans or not isinstance(ans["result"], dict):
                continue
            st = ans["result"]
            seen = self.seen.setdefault(node.name, NodeSeen())
            seen.samples += 1
            for label in HEADS:
                ref = st.get(label) or {}
                n, h = ref.get("number"), ref.get("hash")
                if not isinstance(n, int) or not isinstance(h, str):
                    self._violate(f"{node.name}: malformed {label} {ref!r}")
                    continue
                last = seen.heads.get(label)
                if last is not None and n < last[0] and self._reorg_depth == 0:
                    self._violate(f"{node.name}: {label} went back from {last[0]} to {n} (no L1 reorg declared)")
                seen.heads[label] = (n, h)
                if n > 0 and (last is None or last[1] != h):
                    self._pending.append((node.name, label, n, h))
            if "--safedb.path" in node.args:
                self._check_safedb(node, st, seen)
        self._check_on_sequencer_chain(seq)
        self._check_logs()
        if self.stack.batcher is not None and "batcher" not in self._down and not self.stack.batcher.alive():
            self._violate("batcher: exited without being stopped by the test")

    def _check_alive(self, node) -> None:
        for name, proc in ((node.name, node.proc), (f"{node.name}-engine", node.engine)):
            if proc is not None and name not in self._down and not proc.alive():
                self._violate(f"{name}: exited without being stopped by the test (rc {proc.proc.returncode})")

    def _check_on_sequencer_chain(self, seq) -> None:
        keep = []
        for name, label, n, h in self._pending:
            ans = self._rpc(seq.engine_rpc, "eth_getBlockByNumber", hex(n), False)
            if ans is None:
                keep.append((name, label, n, h))  # the sequencer's engine is down: check later
                continue
            block = ans.get("result")
            if block is None or block.get("hash") != h:
                if self._reorg_depth == 0:
                    self._violate(f"{name}: {label} {n} {h} is not the sequencer's block "
                                  f"({None if block is None else block.get('hash')})")
        self._pending = keep

    def _check_safedb(self, node, st: dict, seen: NodeSeen) -> None:
        """Ask for the L1 block just below the one being derived (its record is final), and again for every L1
        block asked before: each answer must stay what it was, and answers must be ordered by L1 number."""
        cur = (st.get("current_l1") or {}).get("number")
        asks = list(seen.safedb)
        if isinstance(cur, int) and cur > 0 and (cur - 1) not in seen.safedb:
            asks.append(cur - 1)
        for l1 in asks[-8:] + asks[:-8][::7]:  # the recent ones and a spread of the older ones each round
            ans = self._rpc(node.rpc, "optimism_safeHeadAtL1Block", hex(l1))
            if ans is None:
                continue
            res = ans.get("result")
            if not isinstance(res, dict):
                if l1 in seen.safedb and not self._excused(l1):
                    self._violate(f"{node.name}: safe-head DB lost its record for L1 {l1}: {ans}")
                continue
            got = (res["l1Block"]["number"], res["safeHead"]["number"])
            before = seen.safedb.get(l1)
            if before is not None and got != before and not self._excused(l1):
                self._violate(f"{node.name}: safe-head DB at L1 {l1} was {before}, now {got}")
            seen.safedb[l1] = got
        ordered = sorted(seen.safedb.items())
        for (a, ga), (b, gb) in zip(ordered, ordered[1:], strict=False):
            if (gb[0] < ga[0] or gb[1] < ga[1]) and not self._excused(a):
                self._violate(f"{node.name}: safe-head DB out of order: L1 {a} -> {ga}, L1 {b} -> {gb}")

    def _excused(self, l1: int) -> bool:
        return self._reorg_base is not None and l1 >= self._reorg_base

    def _check_logs(self) -> None:
        for path in sorted(self.stack.logs.glob("*.log")):
            off = self._log_offsets.get(path.name, 0)
            try:
                with open(path, "rb") as f:
                    f.seek(off)
                    chunk = f.read()
            except OSError:
                continue
            # a line may be cut at the end of a read: look again from its start next time
            cut = chunk.rfind(b"\n") + 1
            self._log_offsets[path.name] = off + cut
            text = chunk[:cut]
            i = text.find(b"Traceback")
            if i >= 0:
                self._violate(f"{path.name}: Traceback in the log:\n"
                              + text[max(0, i - 300): i + 1500].decode(errors="replace"))


def wait_safe_past(stack: Stack, names, number: int, timeout: float, wait) -> None:
    """Every node in ``names`` reports a safe head above ``number`` (the chain went on after a fault)."""
    for name in names:
        wait(lambda name=name: (stack.sync_status(stack.node(name))["safe_l2"]["number"] > number), timeout,
             f"{name}'s safe head past {number}")


def now() -> float:
    return time.monotonic()
