"""The README's example commands, exactly as printed, stay true: every ``opnode …`` line of its ``sh`` blocks
(backslash continuations joined, ``$VARIABLES`` given values, the files they name created in a scratch directory)
goes through the real CLI. Node command lines start (up to the node's start, tests/deploy/conftest.py); the other
commands parse with their command's options (no unknown flag, nothing required missing). The devnet example runs
as printed until every node it announces answers, then is stopped (slow)."""

from __future__ import annotations

import json
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import pytest

from opnode.cli import _register_optional_commands, cli, route
from opnode.node.networks import network_json

ROOT = Path(__file__).resolve().parents[2]
VARS = {"L1_RPC": "http://l1.example:8545", "BEACON": "http://beacon.example:5052", "L2_RPC": "http://l2.example:8545",
        "L2_DATADIR": "engine-datadir"}


def readme_commands() -> list[str]:
    """Every command line starting with ``opnode`` in the README's sh blocks, continuations joined, comments cut."""
    text = (ROOT / "README.md").read_text()
    out = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line.startswith("opnode "):
                out.append(line)
    return out


COMMANDS = readme_commands()


def _argv(line: str) -> list[str]:
    return shlex.split(os.path.expandvars(line))[1:]


def _is_node(argv: list[str]) -> bool:
    return route(argv)[0] == "node"


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """The files the examples name, in the working directory: a JWT secret, chain 901/902 rollup configs (the
    examples' own files: op-sepolia's without Lagoon's schedule, which would need the dependency set), depset."""
    monkeypatch.chdir(tmp_path)
    for k, v in VARS.items():
        monkeypatch.setenv(k, v)
    (tmp_path / "jwt.txt").write_text("0x" + "ab" * 32)
    rollup = {k: v for k, v in network_json("op-sepolia").items() if k != "lagoon_time"}
    for chain in ("901", "902"):
        (tmp_path / f"{chain}.json").write_text(json.dumps(rollup))
    (tmp_path / "depset.json").write_text(json.dumps({"dependencies": {"901": {}, "902": {}}}))
    (tmp_path / "range.opreplay").write_bytes(b"")
    (tmp_path / "witness.tar.zst").write_bytes(b"")
    (tmp_path / "sn").mkdir()
    return tmp_path


def test_the_readme_has_the_examples_this_test_runs():
    kinds = [route(_argv(c))[0] for c in COMMANDS]
    assert kinds.count("node") >= 3 and {"supernode", "replay", "devnet"} <= set(kinds), COMMANDS


@pytest.mark.parametrize("line", [c for c in COMMANDS if _is_node(_argv(c))])
def test_readme_node_command_starts(line, scratch, start):
    s = start(_argv(line))
    assert s.code == 0 and s.config is not None, s.err
    assert s.warnings == [], s.warnings
    if "--l2.follow.source" in line:
        assert s.config.follow_source is not None


@pytest.mark.parametrize("line", [c for c in COMMANDS if not _is_node(_argv(c))])
def test_readme_command_parses(line, scratch):
    _register_optional_commands()
    argv = route(_argv(line))
    cmd: click.Command = cli
    ctx = None
    while isinstance(cmd, click.Group) and argv and argv[0] in cmd.commands:
        name, argv = argv[0], argv[1:]
        cmd = cmd.commands[name]
        ctx = click.Context(cmd, info_name=name, parent=ctx)
    try:
        cmd.make_context(cmd.name, list(argv), parent=ctx)  # parses every option and argument; runs nothing
    except click.UsageError as e:
        pytest.fail(f"{line!r}: {e.format_message()}")


@pytest.mark.slow
def test_readme_devnet_example_runs_as_printed(tmp_path):
    """``opnode devnet --sources 2 --light-nodes 3 …`` as printed, in a scratch directory: READY lists the two sources
    and three light nodes following them, each node answers optimism_syncStatus; SIGTERM stops it cleanly."""
    (line,) = [c for c in COMMANDS if c.startswith("opnode devnet --sources")]
    proc = subprocess.Popen([sys.executable, "-m", "opnode", *_argv(line)], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=open(tmp_path / "stderr", "wb"), stdin=subprocess.DEVNULL,  # noqa: SIM115
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        ready = _read_ready(proc, timeout=300)
        roles = [n["role"] for n in ready["nodes"]]
        assert roles.count("source") == 2 and roles.count("light") == 3, roles
        sources = {n["name"] for n in ready["nodes"] if n["role"] == "source"}
        assert all(n["follows"] in sources for n in ready["nodes"] if n["role"] == "light")
        for n in ready["nodes"]:
            r = httpx.post(n["rpc"], json={"jsonrpc": "2.0", "id": 1, "method": "optimism_syncStatus", "params": []},
                           timeout=10)
            assert "unsafe_l2" in r.json()["result"], n
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    err = (tmp_path / "stderr").read_text(errors="replace")
    assert "Traceback" not in err, err[-3000:]
    assert (tmp_path / "summary.json").is_file(), err[-3000:]


def _read_ready(proc: subprocess.Popen, timeout: float) -> dict:
    deadline, buf = time.monotonic() + timeout, b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([proc.stdout], [], [], 0.5)
        if r:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            for ln in buf.split(b"\n")[:-1]:
                if ln.startswith(b"READY "):
                    return json.loads(ln[len(b"READY "):])
        elif proc.poll() is not None:
            break
    raise AssertionError(f"no READY line within {timeout} s (exit {proc.poll()})")
