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
from opnode.tools.devnet.procs import free_port
from opnode.tools.devnet.stack import Stack
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


def test_light_node_from_the_wheel_follows_a_devnet_source(fresh, tmp_path):
    """The acceptance as written: the wheel's ``opnode`` (op-node's root flags, no subcommand, no extras) follows a
    devnet's source node, its engine (the devnet's, EL-syncing from the sequencer's) under it; its safe head reaches
    the source's, block hashes equal to the sequencer's. The process gets a clean environment and works outside the
    checkout, so it runs the installed wheel, never this tree."""
    with Stack(tmp_path / "devnet", sources=1, light_nodes=0) as stack:
        seq, src = stack.node("sequencer"), stack.node("source-A")
        engine, eth, auth = stack.start_engine("wheel-light", seq)
        f = stack.files
        log = tmp_path / "wheel-light.log"
        port = free_port()
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
        with open(log, "w") as out:
            proc = subprocess.Popen([fresh / "opnode", "--rollup.config", f.rollup, "--rollup.l1-chain-config",
                                     f.l1_chain_config, "--l1", stack.anvil.url, "--l2", auth, "--l2.jwt-secret",
                                     f.jwt, "--l2.follow.source", src.rpc, "--syncmode", "execution-layer",
                                     "--rpc.addr", "127.0.0.1", "--rpc.port", str(port), "--l1.http-poll-interval",
                                     "1s"], stdout=out, stderr=out, cwd=tmp_path, env=env)
            try:
                target = wait(lambda: (lambda s: s["safe_l2"]["number"] >= 4 and s)(stack.sync_status(src)), 120,
                              "the devnet source's safe head to pass block 4")["safe_l2"]
                url = f"http://127.0.0.1:{port}"

                def caught_up():
                    assert proc.poll() is None, log.read_text()[-3000:]
                    st = stack.rpc(url, "optimism_syncStatus")
                    return st["safe_l2"]["number"] >= target["number"] and st

                st = wait(caught_up, 180, "the wheel's light node to reach the source's safe head", poll=0.5)
                for n in range(1, st["safe_l2"]["number"] + 1):
                    ours = stack.rpc(eth, "eth_getBlockByNumber", hex(n), False)["hash"]
                    assert ours == stack.block_hash(seq, n) and (n != target["number"] or ours == target["hash"]), n
            finally:
                proc.terminate()
                proc.wait(timeout=30)
                engine.stop()
    assert "Traceback" not in log.read_text()


def test_commands_needing_an_extra_name_it(fresh):
    p = subprocess.run([fresh / "opnode", "engine", "--dev"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and p.stderr.strip().splitlines() == [
        "opnode: error: this needs the opnode[devnet] extra (module 'eth' is not installed): "
        "pip install 'opnode[devnet]'"], p.stderr
