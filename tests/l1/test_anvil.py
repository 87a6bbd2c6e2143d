"""The anvil helper: starts on a free loopback port, stops cleanly, and leaves no orphan when its parent dies."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from opnode.tools.anvil import Anvil


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:  # a zombie is dead for our purpose
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_start_and_stop():
    a = Anvil().start()
    pid, url = a.proc.pid, a.url
    assert url.startswith("http://127.0.0.1:")
    assert a.rpc("eth_chainId") == hex(900)
    a.stop()
    assert not _alive(pid)
    try:
        httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=2)
        raise AssertionError("anvil still answers after stop")
    except httpx.HTTPError:
        pass


def test_no_orphan_when_the_parent_dies():
    code = ("import os, sys; from opnode.tools.anvil import Anvil; a = Anvil().start(); "
            "print(a.proc.pid, flush=True); os._exit(0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    pid = int(out.stdout.split()[0])
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
