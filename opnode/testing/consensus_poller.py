"""A proxyd-like consensus poller for tests: what proxyd's ``consensus_aware_consensus_layer`` routing strategy
reads from a group of op-node / supernode backends of one chain, and the rules by which it bans one.

Followed: ethereum-optimism/infra ``proxyd/consensus_poller_cl.go`` and ``consensus_poller.go`` (HEAD c367a360,
2026-08-20; CL mode from #597 0ad43f8 2026-04-14, #645 bbb0542 genesis with a real hash, #646 f803573 halt on an
output-root split), as summarised in the project's reference ``supernode.md`` §3:

- per backend, every interval: ``optimism_syncStatus``; ``unsafe_l2``, ``safe_l2``, ``local_safe_l2``,
  ``finalized_l2``, ``current_l1`` as ``{number, hash}`` with JSON-integer numbers, ``head_l1`` with a timestamp;
  a block with number 0 and an empty or zero hash is an error; in sync when ``head_l1 - current_l1 <= 10`` L1 blocks;
- **ban** when ``safe_l2 > local_safe_l2``, when not ``finalized <= safe <= unsafe``, or when safe or finalized went
  down (the drift thresholds default to 0: any decrease bans, an L1-reorg rewind of cross-safe included);
- per group: the candidates (in sync, not banned) answer ``optimism_outputAtBlock(lowest safe)``; a strict
  majority root bans the dissenters; no majority halts the group (nobody banned).

Not modelled: the peer count (``consensus_skip_peer_count``: a supernode runs no P2P), the health bans (error rate,
latency: a killed backend is unhealthy, which is operations, not inconsistency; errors are counted instead), the
5-minute ban period (every ban is recorded, and the backend's numbers are reset as proxyd resets them).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass, field

import httpx

CL_SYNC_THRESHOLD = 10  # consensus_cl_sync_threshold, L1 blocks
LABELS = ("unsafe_l2", "safe_l2", "local_safe_l2", "finalized_l2", "current_l1")
ZERO_HASHES = ("", "0x", "0x" + "00" * 32)


class BadStatus(ValueError):
    """A syncStatus proxyd would refuse to parse (an error for the backend, not a ban)."""


@dataclass(frozen=True)
class Ban:
    backend: str
    rule: str
    detail: str


@dataclass
class Backend:
    name: str
    url: str
    last: dict[str, int] | None = None  # the numbers of the last accepted syncStatus
    errors: int = 0
    polls: int = 0


def parse_status(st: object) -> tuple[dict[str, int], int, bool]:
    """The numbers proxyd reads, the safe block's number, and whether the backend is in sync; BadStatus otherwise."""
    if not isinstance(st, dict):
        raise BadStatus("syncStatus is not an object")
    nums: dict[str, int] = {}
    for label in (*LABELS, "head_l1"):
        ref = st.get(label)
        if not isinstance(ref, dict) or type(ref.get("number")) is not int or not isinstance(ref.get("hash"), str):
            raise BadStatus(f"{label}: not a block reference with a JSON-integer number")
        if ref["number"] == 0 and ref["hash"] in ZERO_HASHES:
            raise BadStatus(f"{label}: block 0 with an empty hash")
        nums[label] = ref["number"]
    head_ts = st["head_l1"].get("timestamp")
    if type(head_ts) is not int or head_ts == 0:
        raise BadStatus("head_l1.timestamp is missing or zero")
    in_sync = nums["head_l1"] - nums["current_l1"] <= CL_SYNC_THRESHOLD
    return nums, nums["safe_l2"], in_sync


def ban_rules(prev: dict[str, int] | None, now: dict[str, int]) -> list[tuple[str, str]]:
    """proxyd's per-backend ban rules over two consecutive accepted syncStatus answers."""
    out = []
    if now["safe_l2"] > now["local_safe_l2"]:
        out.append(("safe > local_safe", f"safe {now['safe_l2']} > local_safe {now['local_safe_l2']}"))
    if not now["finalized_l2"] <= now["safe_l2"] <= now["unsafe_l2"]:
        out.append(("ordering", f"finalized {now['finalized_l2']} safe {now['safe_l2']} unsafe {now['unsafe_l2']}"))
    if prev is not None:
        for label in ("safe_l2", "finalized_l2"):
            if now[label] < prev[label]:
                out.append((f"{label} went down", f"{prev[label]} -> {now[label]}"))
    return out


@dataclass
class ConsensusPoller:
    """Polls one chain's group of backends (``name -> URL`` of their op-node API, e.g. ``supernode/<chainID>``)
    every ``interval`` seconds in a thread between :meth:`start` and :meth:`stop`; :attr:`bans` and :attr:`halts`
    say what proxyd would have done."""

    backends: dict[str, str]
    interval: float = 1.0
    bans: list[Ban] = field(default_factory=list)
    halts: int = 0
    rounds: int = 0
    output_checks: int = 0

    def __post_init__(self) -> None:
        self._backends = [Backend(n, u) for n, u in self.backends.items()]
        self._http = httpx.Client(timeout=5)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _rpc(self, url: str, method: str, *params: object) -> object:
        r = self._http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        body = r.json()
        if "error" in body:
            raise BadStatus(f"{method}: {body['error']}")
        return body["result"]

    def poll_once(self) -> None:
        candidates: list[tuple[Backend, int]] = []
        for b in self._backends:
            b.polls += 1
            try:
                nums, safe, in_sync = parse_status(self._rpc(b.url, "optimism_syncStatus"))
            except (httpx.HTTPError, ValueError):  # unreachable, not JSON, or a BadStatus
                b.errors += 1
                continue
            broken = ban_rules(b.last, nums)
            for rule, detail in broken:
                self.bans.append(Ban(b.name, rule, detail))
            b.last = None if broken else nums  # proxyd resets a banned backend's numbers
            if not broken and in_sync:
                candidates.append((b, safe))
        if len(candidates) > 1:
            self._check_outputs(candidates)
        self.rounds += 1

    def _check_outputs(self, candidates: list[tuple[Backend, int]]) -> None:
        lowest = min(safe for _, safe in candidates)
        roots: dict[str, str] = {}
        for b, _ in candidates:
            try:
                out = self._rpc(b.url, "optimism_outputAtBlock", hex(lowest))
            except (httpx.HTTPError, ValueError):
                b.errors += 1
                continue
            if isinstance(out, dict) and isinstance(out.get("outputRoot"), str):
                roots[b.name] = out["outputRoot"]
        if len(roots) < 2:
            return
        self.output_checks += 1
        (root, votes), *rest = Counter(roots.values()).most_common()
        if rest and rest[0][1] == votes:
            self.halts += 1  # no strict majority: proxyd freezes the group, bans nobody (#646)
            return
        for name, r in roots.items():
            if r != root:
                self.bans.append(Ban(name, "output root dissent", f"block {lowest}: {r} vs majority {root}"))

    def start(self) -> ConsensusPoller:
        def loop() -> None:
            while not self._stop.wait(self.interval):
                self.poll_once()

        self._thread = threading.Thread(target=loop, name="consensus-poller", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._http.close()

    def summary(self) -> dict[str, object]:
        return {"rounds": self.rounds, "output_checks": self.output_checks, "halts": self.halts,
                "bans": [asdict(b) for b in self.bans],
                "errors": {b.name: b.errors for b in self._backends}, "polls": {b.name: b.polls for b in self._backends}}
