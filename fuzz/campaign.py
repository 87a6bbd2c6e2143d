"""``make fuzz``: every target for its share of ``FUZZ_SECONDS`` under atheris, one process per target.

Per target: the saved corpus (fuzz/corpus/<target>/) and fresh seeds (spec-vectors and the project's encoders) go
into a work directory; the worker fuzzes it; libFuzzer's merge then keeps the smallest set of inputs that covers
everything the old corpus and the new inputs covered, which replaces the saved corpus. Findings are minimized and
saved as open crashers (fuzz/findings.py); the inputs tried are added to fuzz/ledger.json with the date.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from fuzz import findings
from fuzz.contract import Checker, Finding
from fuzz.minimize import minimize
from fuzz.targets import Target, load

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "corpus"
LEDGER = HERE / "ledger.json"
RSS_BACKSTOP_MB = 4096  # libFuzzer's own limit on the whole process, behind the per-input watchdog
HANG_BACKSTOP_S = 30  # libFuzzer's own timeout, for a hang in C code that the watchdog cannot interrupt


@dataclass
class Result:
    target: str
    inputs: int = 0
    seconds: float = 0.0
    cov_start: int = 0
    cov_end: int = 0
    new_corpus: int = 0
    corpus_before: int = 0
    corpus_after: int = 0
    findings: list[Finding] = field(default_factory=list)  # as the instrumented worker saw them
    confirmed: int = 0  # of those, reproduced by a plain interpreter
    artifacts: int = 0  # instrumentation artifacts (did not reproduce)
    new_findings: list[dict] = field(default_factory=list)


def _dict_file(tokens, path: Path) -> Path | None:
    if not tokens:
        return None
    path.write_text("".join('"' + "".join("\\x" + format(b, "02x") for b in t) + '"\n' for t in tokens))
    return path


def _wrapper(work: Path) -> Path:
    """libFuzzer's merge re-runs argv[0] as a command: make argv[0] a script that starts the worker."""
    w = work / "worker"
    w.write_text(f'#!/bin/sh\ncd "{ROOT}"\nexec "{sys.executable}" -m fuzz.worker "$@"\n')
    w.chmod(0o755)
    return w


def _run_worker(t: Target, args: list[str], work: Path, log: Path) -> tuple[int, str]:
    wrapper = _wrapper(work)
    env = dict(os.environ, FUZZ_TARGET=t.name, FUZZ_FINDINGS=str(work / "findings.jsonl"), FUZZ_ARGV0=str(wrapper),
               PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    with open(log, "w") as out:
        rc = subprocess.run([str(wrapper), *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL).returncode
    return rc, log.read_text(errors="replace")


def _stat(text: str, name: str) -> int:
    m = re.findall(rf"stat::{name}:\s+(\d+)", text)
    return int(m[-1]) if m else 0


def _write_inputs(d: Path, inputs) -> None:
    import hashlib

    d.mkdir(parents=True, exist_ok=True)
    for data in inputs:
        (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def fuzz_target(t: Target, seconds: float, tmp: Path, update: bool) -> Result:
    res = Result(t.name)
    work, seeds, arts = tmp / "corpus", tmp / "seeds", tmp / "artifacts"
    saved = CORPUS / t.name
    saved_files = list(saved.glob("*")) if saved.is_dir() else []
    res.corpus_before = len(saved_files)
    _write_inputs(work, (p.read_bytes() for p in saved_files))
    _write_inputs(seeds, t.seeds())
    arts.mkdir()
    opts = [f"-max_len={t.max_len}", f"-timeout={HANG_BACKSTOP_S}", f"-rss_limit_mb={RSS_BACKSTOP_MB}",
            "-print_final_stats=1", f"-artifact_prefix={arts}/"]
    if (d := _dict_file(t.tokens, tmp / "dict")) is not None:
        opts.append(f"-dict={d}")
    deadline = time.monotonic() + seconds
    restarts = 0
    while True:
        left = int(deadline - time.monotonic())
        if left < 1:
            break
        started = time.monotonic()
        rc, text = _run_worker(t, [f"-max_total_time={left}", *opts, str(work), str(seeds)], tmp,
                               tmp / f"run{restarts}.log")
        res.seconds += time.monotonic() - started
        res.inputs += _stat(text, "number_of_executed_units")
        res.new_corpus += _stat(text, "new_units_added")
        covs = [int(x) for x in re.findall(r"cov: (\d+)", text)]
        if covs:
            res.cov_start = res.cov_start or covs[0]
            res.cov_end = max(res.cov_end, covs[-1])
        if rc == 0:
            break
        # The interpreter itself died (a segfault, libFuzzer's hang or RSS backstop): libFuzzer saved the input.
        for a in sorted(arts.glob("*")):
            res.findings.append(Finding(t.name, "crash", f"process killed ({a.name.split('-')[0]})",
                                        f"the fuzzing process died ({a.name.split('-')[0]}), exit {rc}",
                                        text[-4000:], a.read_bytes()))
            a.unlink()
        restarts += 1
        if restarts >= 3:
            break
    fpath = tmp / "findings.jsonl"
    if fpath.exists():
        for line in fpath.read_text().splitlines():
            f = json.loads(line)
            res.findings.append(Finding(f["target"], f["kind"], f["signature"], f["summary"], f["traceback"],
                                        bytes.fromhex(f["data"])))
    if not update:
        return res
    merged = tmp / "merged"
    merged.mkdir()
    rc, text = _run_worker(t, ["-merge=1", *opts, str(merged), str(work), str(seeds)], tmp, tmp / "merge.log")
    res.corpus_after = len(list(merged.glob("*")))
    if rc == 0 and res.corpus_after:
        shutil.rmtree(saved, ignore_errors=True)
        shutil.copytree(merged, saved)
    elif rc != 0:
        print(f"  {t.name}: corpus merge failed (exit {rc}); the saved corpus is kept as it was", flush=True)
    return res


def _confirm(checker: Checker, target: Target, f: Finding) -> Finding | None:
    """The finding as a plain interpreter sees it, or None: atheris's instrumentation can break a function on its
    own (see fuzz/worker.py), so only what reproduces without it counts. A dead worker is replayed in a subprocess,
    so a real interpreter crash cannot take the campaign down."""
    if f.kind != "crash":
        return checker.run(target, f.data)
    with tempfile.NamedTemporaryFile(suffix=".bin") as tmp:
        Path(tmp.name).write_bytes(f.data)
        p = subprocess.run([sys.executable, "-m", "fuzz.replay", target.name, tmp.name], cwd=ROOT,
                           capture_output=True, text=True)
    if p.returncode < 0:
        return Finding(f.target, "crash", f"interpreter killed by signal {-p.returncode}",
                       f"the interpreter dies (signal {-p.returncode})", p.stderr[-4000:], f.data)
    return checker.run(target, f.data)


def record_findings(res: Result, checker: Checker, target: Target, today: str, update: bool) -> None:
    known = findings.known_signatures()
    for raw in res.findings:
        f = _confirm(checker, target, raw)
        if f is None:
            res.artifacts += 1
            continue
        res.confirmed += 1
        if (f.target, f.signature) in known:
            continue
        known.add((f.target, f.signature))
        small = minimize(checker, target, f) if f.kind != "crash" else f
        entry = {"id": small.input_id, "signature": small.signature, "summary": small.summary, "size": len(small.data)}
        if update:
            entry = findings.save(small, today)
        res.new_findings.append(entry)


def update_ledger(results: list[Result], today: str) -> dict:
    ledger = json.loads(LEDGER.read_text()) if LEDGER.exists() else {"targets": {}}
    for r in results:
        t = ledger["targets"].setdefault(r.target, {"inputs": 0, "seconds": 0, "runs": []})
        t["inputs"] += r.inputs
        t["seconds"] = round(t["seconds"] + r.seconds)
        t["runs"].append({"date": today, "inputs": r.inputs, "seconds": round(r.seconds), "coverage": r.cov_end,
                          "corpus": r.corpus_after, "new_corpus_entries": r.new_corpus,
                          "findings": r.confirmed, "new_findings": len(r.new_findings),
                          "instrumentation_artifacts": r.artifacts})
    ledger["total_inputs"] = sum(t["inputs"] for t in ledger["targets"].values())
    ledger["updated"] = today
    LEDGER.write_text(json.dumps(ledger, indent=1) + "\n")
    return ledger


def run(total_seconds: float, names: list[str] | None = None, update: bool = True) -> list[Result]:
    targets = load()
    chosen = [targets[n] for n in names] if names else list(targets.values())
    share = total_seconds / len(chosen)
    today = dt.date.today().isoformat()
    checker = Checker()
    results = []
    print(f"fuzzing {len(chosen)} targets, {share:.0f} s each", flush=True)
    print(f"{'target':<16}{'inputs':>11}{'exec/s':>9}{'cov':>12}{'corpus':>12}{'new':>6}  findings", flush=True)
    for t in chosen:
        with tempfile.TemporaryDirectory(prefix=f"fuzz-{t.name}-") as tmp:
            r = fuzz_target(t, share, Path(tmp), update)
        record_findings(r, checker, t, today, update)
        results.append(r)
        rate = r.inputs / r.seconds if r.seconds else 0
        found = ", ".join(f"NEW {e['signature']}" for e in r.new_findings) or (
            f"{r.confirmed} known" if r.confirmed else "none")
        if r.artifacts:
            found += f" ({r.artifacts} instrumentation artifacts ignored)"
        print(f"{t.name:<16}{r.inputs:>11}{rate:>9.0f}{f'{r.cov_start}->{r.cov_end}':>12}"
              f"{f'{r.corpus_before}->{r.corpus_after if update else chr(45)}':>12}{r.new_corpus:>6}  {found}",
              flush=True)
    checker.close()
    if update:
        ledger = update_ledger(results, today)
        print(f"ledger: {ledger['total_inputs']} inputs in total across runs (fuzz/ledger.json)")
        findings.write_readme(findings.load_index())
    return results
