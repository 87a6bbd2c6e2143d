"""Child processes of the devnet and of the end-to-end tests: started with their logs in files, ready when their
RPC answers, stopped with SIGTERM (then SIGKILL), killable with SIGKILL on purpose; never left behind (each runs in
its own session and the kernel kills it when its parent dies)."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from opnode.jsonrpc.client import SyncRpcClient
from opnode.jsonrpc.errors import RpcError, TransportError

ROOT = Path(__file__).resolve().parents[3]
_PR_SET_PDEATHSIG = 1


_GIVEN: set[int] = set()


def free_port() -> int:
    """A port free now and never handed out before by this process: the kernel may offer a just-released port
    again, and a port picked ahead (a supernode's, named in its sequencers' flags) was once given to an engine
    started meanwhile (BindError in tests/e2e/test_supernode.py)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


def _die_with_parent() -> None:
    os.setsid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


class Proc:
    """One ``python -m opnode <args>`` child (or any command with ``argv``)."""

    def __init__(self, name: str, args: list[str], logdir: Path, *, argv: list[str] | None = None,
                 env: dict | None = None):
        self.name = name
        self.args = args
        self.argv = argv or [sys.executable, "-m", "opnode", *args]
        self.log_path = logdir / f"{name}.log"
        self.env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def start(self) -> Proc:
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=ROOT, env=self.env, preexec_fn=_die_with_parent)
        logf.close()
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_bytes()[-n:].decode(errors="replace")
        except OSError:
            return ""

    def wait_rpc(self, url: str, method: str, timeout: float = 60.0):
        """Poll ``url`` with a JSON-RPC ``method`` until it answers (the result), or fail with the log tail."""
        deadline = time.monotonic() + timeout
        with SyncRpcClient(url, timeout=2) as rpc:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{self.log_tail()}")
                try:
                    return rpc.call(method)
                except (RpcError, TransportError):
                    pass
                time.sleep(0.1)
        raise TimeoutError(f"{self.name} did not answer {method} at {url} within {timeout} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        p = self.proc
        if p is None or p.poll() is not None:
            return
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout)
        except ProcessLookupError:
            pass

    def kill9(self) -> None:
        p = self.proc
        if p is not None and p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)
