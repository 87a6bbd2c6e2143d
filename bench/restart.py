"""Source-node restart after kill -9 (real processes on a devnet): how long from spawning the process until its RPC
answers with the safe head it had (the heads are read from the engine and the safe-head DB before the RPC serves,
so the first answer already carries them), and until the safe head moves past it again (derivation resumed where
it stopped). The floor, measured in the same run: a bare interpreter importing the node's modules, which every
start pays before doing anything. The section fails when a first answer after a restart is below the last answer
before the kill.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.timing import header, median
from opnode.tools.devnet.stack import Stack

ROUNDS, WARM_SAFE = 3, 8


def import_floor() -> float:
    """Wall time of a fresh interpreter importing what ``opnode node`` imports, best of three."""
    times = []
    for _ in range(3):
        t = time.monotonic()
        subprocess.run([sys.executable, "-c", "import opnode.cli, opnode.node.runtime.node"], check=True)
        times.append(time.monotonic() - t)
    return min(times)


def _until(fn, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (v := fn()):
            return v
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def restart_run(rounds: int = ROUNDS, workdir: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp, Stack(
            workdir or Path(tmp), sources=1, batcher_args=["--da", "calldata", "--max-channel-duration", "1"]) as st:
        src = st.node("source-A")

        def safe() -> int:
            return st.sync_status(src)["safe_l2"]["number"]

        _until(lambda: safe() >= WARM_SAFE, 180, f"source safe head {WARM_SAFE}")
        out = []
        for _ in range(rounds):
            before = safe()
            src.proc.kill9()
            t0 = time.monotonic()
            st.start_node(src)  # returns once the RPC answers
            t_rpc = time.monotonic() - t0
            resumed = safe()
            _until(lambda r=resumed: safe() > r, 120, "the safe head to advance after the restart")
            out.append({"before": before, "resumed": resumed, "rpc_s": t_rpc, "advance_s": time.monotonic() - t0})
    return {"rounds": out, "floor_s": import_floor()}


def run() -> None:
    header(f"restart: a source node killed with -9 and restarted, {ROUNDS} rounds")
    r = restart_run()
    floor = r["floor_s"]
    for i, x in enumerate(r["rounds"], 1):
        print(f"  round {i}: safe {x['before']} before the kill, first answer safe {x['resumed']}: "
              f"RPC serving after {x['rpc_s']:.2f} s, safe head advancing after {x['advance_s']:.2f} s")
    rpc = median([x["rpc_s"] for x in r["rounds"]])
    adv = median([x["advance_s"] for x in r["rounds"]])
    print(f"  median: serving {rpc:.2f} s, advancing {adv:.2f} s; floor (interpreter + imports) {floor:.2f} s; "
          f"ratio serving/floor {rpc / floor:.2f}x")
    check_no_step_back(r["rounds"])


def check_no_step_back(rounds: list[dict]) -> None:
    """Issue 18: the first safe head a restarted source answers is never below the last it answered before the kill
    (proxyd bans a backend whose safe head decreases)."""
    back = [f"round {i}: {x['before']} -> {x['resumed']}" for i, x in enumerate(rounds, 1) if x["resumed"] < x["before"]]
    if back:
        raise AssertionError("safe head went back across a restart: " + "; ".join(back))
    print("  first safe answer after each restart >= the last before it: met")
