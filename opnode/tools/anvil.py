"""A real L1 node for tests, the bench and the devnet: anvil (installed from npm into ``.tools/`` by
``scripts/install-npm-deps.sh``), on 127.0.0.1 and a free port.

The process gets its own log file (anvil logs every request; a pipe nobody reads would block it), is told by the
kernel to exit if this process dies (PR_SET_PDEATHSIG, so no orphan survives a crashed test run), and is stopped
with SIGTERM, then SIGKILL if it lingers.
"""

from __future__ import annotations

import ctypes
import glob
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from opnode.jsonrpc.client import SyncRpcClient

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_MNEMONIC = "test test test test test test test test test test test junk"
# anvil's first dev accounts for DEV_MNEMONIC (public, well-known test keys).
DEV_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
)
_LISTENING = re.compile(rb"Listening on 127\.0\.0\.1:(\d+)")


class AnvilError(RuntimeError):
    pass


def find_anvil() -> str:
    """``$OPNODE_ANVIL``, else the binary from the project's npm install, else ``anvil`` on PATH."""
    env = os.environ.get("OPNODE_ANVIL")
    if env:
        return env
    # The platform package holds the real binary; the wrapper in .bin/ is a node script that would sit in between.
    for path in sorted(glob.glob(str(REPO_ROOT / ".tools/node_modules/@foundry-rs/anvil-*/bin/anvil"))):
        if os.access(path, os.X_OK):
            return path
    path = shutil.which("anvil")
    if path:
        return path
    raise AnvilError("anvil not found: run scripts/install-npm-deps.sh (or make install)")


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Anvil:
    """One anvil process. ``block_time=None`` mines a block per transaction (and on ``evm_mine``/``anvil_mine``);
    those blocks are then stamped exactly one second apart (``anvil_setBlockTimestampInterval``), because anvil
    would otherwise give blocks mined within one second the same timestamp, and a beacon slot (the beacon shim,
    derivation's L1 origin rules) needs one block per timestamp."""

    def __init__(self, *, block_time: float | None = None, hardfork: str | None = None, chain_id: int = 900,
                 extra_args: tuple[str, ...] = (), binary: str | None = None):
        self.block_time = block_time
        self.hardfork = hardfork
        self.chain_id = chain_id
        self.extra_args = extra_args
        self.binary = binary
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self._logdir: tempfile.TemporaryDirectory | None = None
        self._rpc: SyncRpcClient | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise AnvilError("anvil is not running")
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return Path(self._logdir.name) / "anvil.log"

    def start(self, timeout: float = 30.0) -> Anvil:
        args = [self.binary or find_anvil(), "--host", "127.0.0.1", "--port", "0", "--chain-id", str(self.chain_id),
                "--mnemonic", DEV_MNEMONIC, "--accounts", str(len(DEV_KEYS))]
        if self.block_time is not None:
            args += ["--block-time", str(self.block_time)]
        if self.hardfork:
            args += ["--hardfork", self.hardfork]
        args += list(self.extra_args)
        self._logdir = tempfile.TemporaryDirectory(prefix="opnode-anvil-")
        with open(self.log_path, "wb") as logf:
            # its own session: a Ctrl-C on the terminal is for the devnet, which stops anvil last (after its summary)
            self.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         preexec_fn=_die_with_parent, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = _LISTENING.search(self.log_path.read_bytes())
            if m:
                self.port = int(m.group(1))
                if self.block_time is None:
                    self.rpc("anvil_setBlockTimestampInterval", 1)
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        tail = self.log_path.read_bytes()[-2000:].decode(errors="replace")
        self.stop()
        raise AnvilError(f"anvil did not start: {tail}")

    def stop(self) -> None:
        if self._rpc is not None:
            self._rpc.close()
            self._rpc = None
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.port = None
        if self._logdir is not None:
            self._logdir.cleanup()
            self._logdir = None

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def rpc(self, method: str, *params):
        """A synchronous JSON-RPC call (set-up code and test traffic, not the node): the result, or
        :class:`~opnode.jsonrpc.errors.RpcError` / :class:`~opnode.jsonrpc.errors.TransportError`."""
        if self._rpc is None:
            self._rpc = SyncRpcClient(self.url, timeout=30)
        return self._rpc.call(method, *params)
