"""Light node next to a source node, in one devnet run (real processes): follow lag — the time from the source's
safe head changing to the light node showing it — as p50/p99, and L1 requests per minute of each node, counted at
a proxy in front of anvil, with the ratio light/source (and the bytes anvil answered with).

The devnet polls the L1 head every second and the safe/finalized heads every two (``Stack``'s settings; op-node's
defaults are 12 s and 6m24s), the same for both nodes, so head tracking is a large share of either node's calls;
the per-method lines tell it apart from the light node's canonical checks and the source's derivation reads. Both
nodes are sampled back to back every ``SAMPLE`` seconds: each lag carries up to that much sampling error.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

from bench.timing import header
from opnode.testing.l1_proxy import DERIVATION_METHODS, LABELS, L1Proxy
from opnode.tools.devnet.stack import Stack

DURATION, BLOCK_TIME, SAMPLE = 60.0, 2, 0.1


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


def follow_run(duration: float = DURATION, block_time: int = BLOCK_TIME, workdir: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp, L1Proxy("http://127.0.0.1:1") as proxy:
        def l1_url_for(anvil_url: str, node: str) -> str:
            proxy.upstream = anvil_url
            return proxy.url_for(anvil_url, node)

        with Stack(workdir or Path(tmp), sources=1, light_nodes=1, block_time=block_time, l1_url_for=l1_url_for,
                   batcher_args=["--da", "calldata", "--max-channel-duration", "1"]) as stack:
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
        "duration_s": duration, "block_time": block_time, "poll_s": 2 * block_time, "changes": len(ls),
        "lag_p50_s": percentile(ls, 50) if ls else math.nan, "lag_p99_s": percentile(ls, 99) if ls else math.nan,
        "lag_max_s": max(ls) if ls else math.nan,
        "requests_per_min": per_min, "ratio": per_min["light"] / per_min["source"] if per_min["source"] else math.nan,
        "methods": {k: dict(c) for k, c in counts.items()},
        "kb_per_min": {k: b / 1024 / minutes for k, b in nbytes.items()},
        "light_derivation_calls": sum(n for m, n in counts["light"].items() if m in DERIVATION_METHODS),
    }


def run() -> None:
    header(f"follow: a light node next to a source node ({DURATION:.0f} s, block time {BLOCK_TIME} s, "
           f"poll every {2 * BLOCK_TIME} s, L1 every 1 s)")
    r = follow_run()
    print(f"  follow lag (source safe head change -> light node shows it), {r['changes']} changes: "
          f"p50 {r['lag_p50_s']:.2f} s  p99 {r['lag_p99_s']:.2f} s  max {r['lag_max_s']:.2f} s")
    rpm = r["requests_per_min"]
    print(f"  L1 requests/min: source {rpm['source']:.1f}  light {rpm['light']:.1f}  "
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
