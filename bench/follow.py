"""Light node next to a source node (real processes): follow lag — the time from the source's safe head changing
to the light node showing it — as p50/p99, and the L1 economy: L1 calls per minute of each node, counted per call
(also inside JSON-RPC batches) at a proxy in front of anvil, with the ratio light/source (and the bytes anvil
answered with). Issue 18's target: a light node makes at most half the L1 calls of a source node.

Two cadences, each in its own devnet run (:data:`DEVNET`, :data:`REAL`):
- the devnet's: 1 s L1 blocks, 2 s L2 blocks, the L1 head polled every second and the safe/finalized heads every
  two, the same for both nodes, so head tracking is a large share of either node's calls;
- a real network's (12 s L1 blocks, 2 s L2 blocks, op-node's default ``--l1.http-poll-interval`` 12 s and
  ``--l1.epoch-poll-interval`` 6m24s, the follow poll at 2 × the block time), run at twice the speed: every period
  halved (6 s, 1 s, 6 s, 3m12s), so the calls per L1 block, and the ratio, are those of the real cadence.
The per-method lines tell head tracking from the light node's canonical checks and the source's derivation reads.
Both nodes are sampled back to back every ``SAMPLE`` seconds: each lag carries up to that much sampling error.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.timing import header
from opnode.testing.l1_proxy import DERIVATION_METHODS, LABELS, L1Proxy
from opnode.tools.devnet.stack import Stack

DURATION, BLOCK_TIME, SAMPLE = 60.0, 2, 0.1
TARGET_RATIO = 0.5  # issue 18: a light node's L1 calls at most half a source node's


@dataclass(frozen=True)
class Cadence:
    name: str
    l1_block_time: float  # s
    block_time: int  # L2, s
    l1_poll: float  # --l1.http-poll-interval, s
    epoch_poll: float  # --l1.epoch-poll-interval, s
    duration: float  # s measured


DEVNET = Cadence("devnet", 1, BLOCK_TIME, 1, 2, DURATION)
REAL = Cadence("real network (12 s L1, 2 s L2, op-node's poll intervals) at 2x speed", 6, 1, 6, 192, 120.0)


def first_seen(history: list[tuple[float, int]]) -> dict[int, float]:
    """When each safe-head number was first shown (a jump from 10 to 12 shows 11 and 12 at once)."""
    out: dict[int, float] = {}
    top = None
    for t, n in history:
        if top is None:
            top = n
            continue
        for k in range(top + 1, n + 1):
            out.setdefault(k, t)
        top = max(top, n)
    return out


def lags(source: dict[int, float], light: dict[int, float]) -> list[float]:
    """Per safe-head number the source reached while watched: how much later the light node showed it."""
    return [light[n] - t for n, t in sorted(source.items()) if n in light]


def percentile(xs: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def follow_run(cadence: Cadence = DEVNET, workdir: Path | None = None) -> dict:
    duration, block_time = cadence.duration, cadence.block_time
    with tempfile.TemporaryDirectory() as tmp, L1Proxy("http://127.0.0.1:1") as proxy:
        def l1_url_for(anvil_url: str, node: str) -> str:
            proxy.upstream = anvil_url
            return proxy.url_for(anvil_url, node)

        # the stack starts on 1 s L1 blocks (its contracts deploy fast) and takes the cadence's L1 block time after
        with Stack(workdir or Path(tmp), sources=1, light_nodes=1, block_time=block_time, l1_url_for=l1_url_for,
                   batcher_args=["--da", "calldata", "--max-channel-duration", "1"],
                   l1_poll_interval=cadence.l1_poll, l1_epoch_poll_interval=cadence.epoch_poll) as stack:
            if cadence.l1_block_time != 1:
                stack.l1_rpc("evm_setIntervalMining", cadence.l1_block_time)
            src, light = stack.node("source-A"), stack.node("light-1")

            def safe(node) -> int:
                return stack.sync_status(node)["safe_l2"]["number"]

            deadline = time.monotonic() + 180
            while safe(light) == 0:  # warm-up: the light node has followed once
                if time.monotonic() > deadline:
                    raise RuntimeError("the light node never followed its source")
                time.sleep(0.5)
            start = time.monotonic()
            hist: dict[str, list[tuple[float, int]]] = {"source": [], "light": []}
            while time.monotonic() - start < duration:
                t = time.monotonic()
                hist["source"].append((time.monotonic(), safe(src)))
                hist["light"].append((time.monotonic(), safe(light)))
                time.sleep(max(0.0, SAMPLE - (time.monotonic() - t)))
            # let the light node show what the source reached last
            settle = time.monotonic() + 2 * block_time + 5
            target = hist["source"][-1][1]
            while time.monotonic() < settle and hist["light"][-1][1] < target:
                hist["light"].append((time.monotonic(), safe(light)))
                time.sleep(SAMPLE)
            end = start + duration
            counts = {"source": proxy.counts(src.name, start, end), "light": proxy.counts(light.name, start, end)}
            nbytes = {"source": proxy.response_bytes(src.name, start, end),
                      "light": proxy.response_bytes(light.name, start, end)}
    minutes = duration / 60
    ls = lags(first_seen(hist["source"]), first_seen(hist["light"]))
    per_min = {k: sum(c.values()) / minutes for k, c in counts.items()}
    return {
        "cadence": cadence.name, "l1_blocks": duration / cadence.l1_block_time,
        "duration_s": duration, "block_time": block_time, "poll_s": 2 * block_time, "changes": len(ls),
        "lag_p50_s": percentile(ls, 50) if ls else math.nan, "lag_p99_s": percentile(ls, 99) if ls else math.nan,
        "lag_max_s": max(ls) if ls else math.nan,
        "requests_per_min": per_min, "ratio": per_min["light"] / per_min["source"] if per_min["source"] else math.nan,
        "methods": {k: dict(c) for k, c in counts.items()},
        "kb_per_min": {k: b / 1024 / minutes for k, b in nbytes.items()},
        "light_derivation_calls": sum(n for m, n in counts["light"].items() if m in DERIVATION_METHODS),
    }


def run() -> dict:
    header(f"follow: a light node next to a source node, L1 calls on two cadences (target light/source <= "
           f"{TARGET_RATIO} on a real network's cadence)")
    out = {}
    for key, cadence in (("devnet", DEVNET), ("real", REAL)):
        r = out[key] = follow_run(cadence)
        print(f"  [{cadence.name}: L1 block {cadence.l1_block_time} s, L2 block {cadence.block_time} s, L1 head "
              f"poll {cadence.l1_poll} s, labels {cadence.epoch_poll} s, follow poll {2 * cadence.block_time} s; "
              f"{cadence.duration:.0f} s]")
        _report(r)
    for key in ("devnet", "real"):
        r = out[key]
        per_block = {who: sum(r["methods"][who].values()) / r["l1_blocks"] for who in ("source", "light")}
        # issue 18's target is for a real network's cadence; on the devnet's, both nodes poll the L1 head every
        # second and the labels every two, the same calls for both, which bound the ratio from below (shown only)
        verdict = ("met" if r["ratio"] <= TARGET_RATIO else "NOT met") if key == "real" else "for information"
        print(f"  L1 economy, {r['cadence']}: light/source {r['ratio']:.2f} "
              f"({per_block['light']:.2f} vs {per_block['source']:.2f} calls per L1 block): {verdict}")
    return out


def _report(r: dict) -> None:
    print(f"  follow lag (source safe head change -> light node shows it), {r['changes']} changes: "
          f"p50 {r['lag_p50_s']:.2f} s  p99 {r['lag_p99_s']:.2f} s  max {r['lag_max_s']:.2f} s")
    rpm = r["requests_per_min"]
    print(f"  L1 calls/min: source {rpm['source']:.1f}  light {rpm['light']:.1f}  "
          f"ratio light/source {r['ratio']:.2f}")
    rest = {who: sum(n for m, n in r["methods"][who].items() if m.split("/")[-1] not in LABELS)
            / (r["duration_s"] / 60) for who in ("source", "light")}
    print(f"  without head tracking (the same for both): light {rest['light']:.1f}/min (canonical checks), "
          f"source {rest['source']:.1f}/min (derivation), ratio {rest['light'] / rest['source']:.2f}")
    kb = r["kb_per_min"]
    print(f"  L1 response KiB/min: source {kb['source']:.1f}  light {kb['light']:.1f}  "
          f"ratio light/source {kb['light'] / kb['source']:.2f}")
    for who in ("source", "light"):
        methods = ", ".join(f"{m} {n / (r['duration_s'] / 60):.1f}" for m, n in sorted(r["methods"][who].items()))
        print(f"    {who}: {methods}")
    print(f"  light node derivation calls (receipts, full blocks, blobs): {r['light_derivation_calls']}")
