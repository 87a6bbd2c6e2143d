"""A follow source that lies: a JSON-RPC server answering ``optimism_syncStatus`` with whatever the test sets — an
honest relay of a real node, a crafted status, or raw bytes with any HTTP status — and counting the polls it got.

The crafted statuses start from a real source's answer and break one rule of the light node's checks each
(follow-and-rpc.md §1.6); the lied-about heads are far ahead of the real chain, so a light node that applied one
would show it at once.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

LIE_AHEAD = 1000  # blocks: a lied-about head this far ahead cannot be mistaken for the real one
FAKE_HASH = "0x" + "ee" * 32


def _rpc_answer(result) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "result": result}).encode()


class LyingSource:
    def __init__(self):
        self._lock = threading.Lock()
        self._answer = lambda: (503, b"")
        self.polls = 0
        self.paths: set[str] = set()  # the URL paths polled (a supernode serves each chain at /<chainID>)
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> LyingSource:
        source = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's naming)
                self.rfile.read(int(self.headers.get("content-length") or 0))
                with source._lock:
                    answer = source._answer
                    source.polls += 1
                    source.paths.add(self.path)
                status, body = answer()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the node gave up waiting (a hung source)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="lying-source", daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ------------------------------------------------------------------------------------------------ answers

    def _set(self, answer) -> None:
        with self._lock:
            self._answer = answer

    def relay(self, real_url: str) -> None:
        """Answer honestly with the real node's current status."""
        def answer():
            try:
                r = httpx.post(real_url, json={"jsonrpc": "2.0", "id": 1, "method": "optimism_syncStatus",
                                               "params": []}, timeout=5)
                return r.status_code, r.content
            except httpx.HTTPError:
                return 502, b""
        self._set(answer)

    def serve_status(self, status: dict) -> None:
        body = _rpc_answer(status)
        self._set(lambda: (200, body))

    def serve_raw(self, http_status: int, body: bytes) -> None:
        self._set(lambda: (http_status, body))

    def hang(self, seconds: float) -> None:
        """Answer nothing for ``seconds`` (longer than the node's --l2.follow.source.rpc-timeout), then 503."""
        def answer():
            time.sleep(seconds)
            return 503, b""
        self._set(answer)

    def wait_polls(self, n: int, timeout: float) -> None:
        """Wait until ``n`` more polls arrived (each one answered with the current answer)."""
        with self._lock:
            target = self.polls + n
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.polls >= target:
                    return
            time.sleep(0.1)
        raise AssertionError(f"the light node polled {self.polls} times, expected {target} within {timeout}s")


# ---------------------------------------------------------------------------------------------------- lies

def _ahead(ref: dict, by: int = LIE_AHEAD) -> dict:
    out = copy.deepcopy(ref)
    out["number"] += by
    out["timestamp"] += by
    out["hash"] = FAKE_HASH
    return out


def noncanonical_origin(real: dict) -> dict:
    """local_safe and safe ahead, on an L1 origin whose hash is not the canonical block at its number."""
    st = copy.deepcopy(real)
    lie = _ahead(real["local_safe_l2"])
    lie["l1origin"] = {"hash": FAKE_HASH, "number": real["local_safe_l2"]["l1origin"]["number"]}
    st["local_safe_l2"] = st["safe_l2"] = st["unsafe_l2"] = lie
    return st


def unknown_l1_origin(real: dict) -> dict:
    """An L1 origin past our L1 head: the lookup itself fails."""
    st = copy.deepcopy(real)
    lie = _ahead(real["local_safe_l2"])
    lie["l1origin"] = {"hash": FAKE_HASH, "number": real["head_l1"]["number"] + LIE_AHEAD}
    st["local_safe_l2"] = st["safe_l2"] = st["unsafe_l2"] = lie
    return st


def safe_ahead_of_local_safe(real: dict) -> dict:
    st = copy.deepcopy(real)
    st["safe_l2"] = _ahead(real["local_safe_l2"])
    return st


def finalized_ahead_of_safe(real: dict) -> dict:
    st = copy.deepcopy(real)
    st["finalized_l2"] = _ahead(real["safe_l2"])
    return st


GARBAGE_JSON = b'{"jsonrpc":"2.0","id":1,"result":{"safe_l2": [1, 2'
PROXYD_NOT_READY = json.dumps({"jsonrpc": "2.0", "id": 1, "error": {
    "code": -32025, "message": "optimism_syncStatus not available"}}).encode()
