"""Issue 17 acceptance: a fresh venv, ``pip install dist/opnode-*.whl`` (no extras, binary wheels only: no apt, npm
or C compiler), then ``opnode --network op-sepolia --l1 … --l2 … --l2.follow.source …`` starts a light node that
answers ``optimism_syncStatus``; what needs an extra says which one, in one line.

The wheel is built from this checkout (``pip wheel --no-deps``); its dependencies come from the package index pip is
configured with (PyPI on CI; pip's cache makes a second run cheap). The node runs against stand-ins of its
endpoints at op-sepolia's genesis (tests/deploy/fake_chain.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import venv
from pathlib import Path

import httpx
import pytest

from opnode.node.networks import load_rollup_config
from tests.deploy.fake_chain import FakeChain
from tests.e2e.waiting import wait

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
# Modules of the extras (opnode/extras.py): none may come with the base install.
EXTRA_DISTRIBUTIONS = {"py-evm", "trie", "eth-account", "eth-abi", "rocksdict", "zstandard", "libp2p", "cramjam",
                       "multiaddr", "fastecdsa", "miniupnpc"}


def _run(*cmd, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert p.returncode == 0, f"{cmd}: {p.stdout[-2000:]}\n{p.stderr[-4000:]}"
    return p


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """A venv holding only the wheel and its base dependencies; returns its bin directory."""
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, ROOT)
    (whl,) = dist.glob("opnode-*.whl")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    _run(bin_dir / "python", "-m", "pip", "install", "-q", "--only-binary", ":all:", whl)
    return bin_dir


def test_base_install_has_no_extras_and_builds_nothing(fresh):
    listed = json.loads(_run(fresh / "python", "-m", "pip", "list", "--format", "json").stdout)
    names = {d["name"].lower() for d in listed}
    assert "opnode" in names
    assert not names & EXTRA_DISTRIBUTIONS, names & EXTRA_DISTRIBUTIONS


def test_light_node_from_the_wheel_answers_sync_status(fresh, tmp_path):
    cfg = load_rollup_config(network="op-sepolia")
    jwt = tmp_path / "jwt.txt"
    jwt.write_text("0x" + "11" * 32)
    log = tmp_path / "node.log"
    with FakeChain(cfg) as chain, open(log, "w") as out:
        # op-node's root flags, no subcommand; --l1.trustrpc: the stand-in L1's headers are not real Sepolia headers
        proc = subprocess.Popen([fresh / "opnode", "--network", "op-sepolia", "--l1", chain.l1, "--l1.trustrpc",
                                 "--l2", chain.engine, "--l2.jwt-secret", jwt, "--l2.follow.source", chain.source,
                                 "--rpc.addr", "127.0.0.1", "--rpc.port", "0"], stdout=out, stderr=out, cwd=tmp_path)
        try:
            port = wait(lambda: re.findall(r'msg="Rollup node started" rpc=http://127\.0\.0\.1:(\d+)',
                                           log.read_text()) or proc.poll() is not None, 60, "the node to start")
            assert proc.poll() is None, log.read_text()[-3000:]
            r = httpx.post(f"http://127.0.0.1:{port[0]}", json={"jsonrpc": "2.0", "id": 1,
                                                                "method": "optimism_syncStatus", "params": []})
            status = r.json()["result"]
            assert status["safe_l2"]["hash"] == "0x" + cfg.genesis.l2.hash.hex()
            wait(lambda: "optimism_syncStatus" in chain.source_server.methods, 30, "a poll of the follow source")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = log.read_text()
    assert 'msg="Safety levels" unsafe=enabled safe=' + chain.source in text
    # gossip needs opnode[p2p]: said once, loudly, and the node runs on
    assert text.count("Block gossip is off: it needs the opnode[p2p] extra") == 1
    assert "Traceback" not in text


def test_commands_needing_an_extra_name_it(fresh):
    p = subprocess.run([fresh / "opnode", "engine", "--dev"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and p.stderr.strip().splitlines() == [
        "opnode: error: this needs the opnode[devnet] extra (module 'eth' is not installed): "
        "pip install 'opnode[devnet]'"], p.stderr
