"""The fuzz harness inside ``make test`` (fuzz/README.md): the whole saved corpus and every seed replayed through
every target, every saved crasher replayed (fixed ones must keep the contract, open ones must still break it), a
short seeded mutation campaign per target, and the watchdog's own bounds.

The contract (fuzz/contract.py): only the decoder's own error types leave it, at most 1 s of CPU and 256 MiB of
resident growth per input. Long coverage-guided campaigns are ``make fuzz``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from fuzz import findings
from fuzz.contract import Checker
from fuzz.mutate import mutate
from fuzz.targets import Target, load

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
TARGETS = load()
CAMPAIGN_INPUTS = 400  # per target; seeded, so a failure reproduces with the same FUZZ_TEST_SEED
SLOW_TARGETS: dict[str, int] = {}  # targets whose inputs cost more get fewer (none at present)
SEED = int(os.environ.get("FUZZ_TEST_SEED", "18"))


@pytest.fixture(scope="module")
def checker():
    c = Checker()
    yield c
    c.close()


def _inputs(t: Target) -> list[bytes]:
    d = CORPUS / t.name
    return [p.read_bytes() for p in sorted(d.glob("*"))] if d.is_dir() else []


def _report(found) -> str:
    return "\n\n".join(f"{f.signature} on input {f.data[:64].hex()}…:\n{f.traceback[-1500:]}" for f in found)


def test_every_decoder_has_a_target_with_seeds():
    assert len(TARGETS) >= 22
    for t in TARGETS.values():
        assert list(t.seeds()), f"target {t.name} has no seeds"


@pytest.mark.parametrize("name", list(TARGETS))
def test_corpus_and_seeds_keep_the_contract(checker, name):
    t = TARGETS[name]
    found = [f for data in [*_inputs(t), *t.seeds()] if (f := checker.run(t, data)) is not None]
    assert not found, _report(found)


@pytest.mark.parametrize("name", list(TARGETS))
def test_short_campaign_keeps_the_contract(checker, name):
    t = TARGETS[name]
    rng = random.Random(f"{SEED}:{name}")
    pool = _inputs(t) + [s[: t.max_len] for s in t.seeds()]
    found = {}
    for _ in range(SLOW_TARGETS.get(name, CAMPAIGN_INPUTS)):
        data = mutate(rng, rng.choice(pool), pool, t.tokens, t.max_len)
        f = checker.run(t, data)
        if f is not None and (f.target, f.signature) not in findings.known_signatures():
            found.setdefault(f.signature, f)
    assert not found, _report(found.values())


def _replay(target: str, paths: list[Path]) -> dict[str, dict | None]:
    """Crashers run in a subprocess: one that kills the interpreter must fail the test, not end the test run."""
    p = subprocess.run([sys.executable, "-m", "fuzz.replay", target, *map(str, paths)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"replaying {target} crashers killed the interpreter (exit {p.returncode}):\n" \
                              f"{p.stderr[-3000:]}"
    return {Path(r["file"]).name: r["finding"] for r in map(json.loads, p.stdout.splitlines())}


_BY_TARGET: dict[str, list[dict]] = {}
for _e in findings.load_index():
    _BY_TARGET.setdefault(_e["target"], []).append(_e)


@pytest.mark.parametrize("name", sorted(_BY_TARGET))
def test_crashers(name):
    entries = _BY_TARGET[name]
    results = _replay(name, [findings.input_path(e) for e in entries])
    for e in entries:
        got = results[f"{e['id']}.bin"]
        if e["status"] == "fixed":
            assert got is None, f"fixed crasher {e['id']} ({e['signature']}) breaks the contract again: {got}"
        else:
            assert got is not None, (f"open crasher {e['id']} ({e['signature']}) keeps the contract now: the "
                                     "defect is fixed, set its status to fixed in fuzz/crashers/index.json")
            assert got["kind"] == e["kind"], got


def _zero_bomb(claimed: int, written: int) -> bytes:
    """A zlib channel whose one RLP string claims ``claimed`` bytes, followed by ``written`` zero bytes."""
    from derivation.protocol import rlp

    z = zlib.compressobj(9)
    out = [z.compress(rlp._length_prefix(claimed, 0x80) + b"\x01")]
    chunk = bytes(1 << 20)
    out += [z.compress(chunk) for _ in range(written >> 20)]
    return b"".join(out) + z.flush()


def test_decompression_bombs_stay_refused(checker):
    """A 200 KB channel claiming a 200 MB batch is refused at its header; one whose batch stays just under the
    100 MB RLP limit is read within the memory and time budget."""
    t = TARGETS["channel"]
    assert checker.run(t, _zero_bomb(200_000_000, 200_000_000)) is None
    assert checker.run(t, _zero_bomb(99_000_000, 99_000_000)) is None


# ------------------------------------------------------------------------------------------------ the watchdog


@pytest.fixture(scope="module")
def quick():
    """The same watchdog with a 0.2 s limit, so that its own tests cost little."""
    c = Checker(cpu_limit=0.2)
    yield c
    c.close()


def _spin(data: bytes) -> None:
    while True:
        pass


def _hog(data: bytes) -> None:
    chunks = []
    while True:
        chunks.append(bytearray(b"\x01" * (16 << 20)))


def _swallows(data: bytes) -> None:
    try:
        _spin(data)
    except Exception:  # a decoder that turns every failure into a drop must not swallow the watchdog
        pass


def _target(fn) -> Target:
    return Target(fn.__name__, fn, (ValueError,), lambda: [b""])


def test_watchdog_stops_an_endless_input(quick):
    f = quick.run(_target(_spin), b"x")
    assert f is not None and f.kind == "slow" and "_spin" in f.signature


def test_watchdog_cannot_be_swallowed_by_except_exception(quick):
    f = quick.run(_target(_swallows), b"x")
    assert f is not None and f.kind == "slow"


def test_watchdog_stops_an_input_that_eats_memory():
    c = Checker(cpu_limit=30)  # the memory bound must trip before the time bound
    try:
        f = c.run(_target(_hog), b"x")
    finally:
        c.close()
    assert f is not None and f.kind == "memory"


def test_unexpected_exception_is_a_finding_and_documented_errors_are_not(checker):
    def raises(data):
        raise (ValueError if data == b"ok" else KeyError)("x")

    t = Target("raises", raises, (ValueError,), lambda: [b""])
    assert checker.run(t, b"ok") is None
    f = checker.run(t, b"no")
    assert f is not None and f.kind == "exception" and f.signature.startswith("KeyError at ")


def test_make_fuzz_runs_a_target_under_atheris(tmp_path):
    """``python -m fuzz`` (what ``make fuzz`` runs) fuzzes a target coverage-guided and reports its counts."""
    p = subprocess.run([sys.executable, "-m", "fuzz", "--seconds", "2", "--no-update", "l1_info"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    row = next(line.split() for line in p.stdout.splitlines() if line.startswith("l1_info"))
    inputs, cov = int(row[1]), row[3]
    assert inputs > 1000, p.stdout
    start, end = map(int, cov.split("->"))
    assert end > 0, p.stdout
