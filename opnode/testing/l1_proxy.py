"""A counting JSON-RPC proxy in front of anvil, for the e2e tests and the follow benchmark.

Each node gets its own URL (``http://127.0.0.1:<port>/<node name>``, see :meth:`L1Proxy.url_for`, the shape of
``Stack(l1_url_for=...)``); every call it makes is forwarded to anvil unchanged and counted under the node's name,
one count per call, also inside JSON-RPC batches. Block fetches are told apart by their second parameter:
``eth_getBlockByNumber/full`` asks for whole transactions (what derivation reads), ``eth_getBlockByNumber/latest``
(``/safe``, ``/finalized``) for a head's header (head tracking), ``eth_getBlockByNumber`` for the header at a number
(canonical checks, resets).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

LABELS = ("latest", "safe", "finalized")
FULL_BLOCK_METHODS = {"eth_getBlockByNumber", "eth_getBlockByHash"}
# What a deriving node reads and a light node never should: receipts, whole blocks, blob transactions.
DERIVATION_METHODS = frozenset({
    "eth_getBlockReceipts", "eth_getTransactionReceipt", "eth_getBlockByNumber/full", "eth_getBlockByHash/full",
    "eth_getRawTransactionByHash", "eth_getTransactionByHash", "alchemy_getTransactionReceipts",
    "debug_getRawReceipts", "erigon_getBlockReceiptsByBlockHash", "parity_getBlockReceipts",
})


def method_key(call: object) -> str:
    """The counted name of one JSON-RPC call object (``?`` when it is not one)."""
    if not isinstance(call, dict) or not isinstance(call.get("method"), str):
        return "?"
    m = call["method"]
    params = call.get("params")
    if m in FULL_BLOCK_METHODS and isinstance(params, list) and len(params) > 1 and params[1] is True:
        return m + "/full"
    if m == "eth_getBlockByNumber" and isinstance(params, list) and params and params[0] in LABELS:
        return f"{m}/{params[0]}"
    return m


class L1Proxy:
    """Start with ``with L1Proxy(anvil_url) as proxy:``; read counts with :meth:`counts` / :meth:`calls_since`."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self._lock = threading.Lock()
        self._log: dict[str, list[tuple[float, str]]] = {}  # node -> [(monotonic time, method key)]
        self._bytes: dict[str, list[tuple[float, int]]] = {}  # node -> [(monotonic time, response bytes)]
        self._local = threading.local()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------------------------ lifecycle

    def __enter__(self) -> L1Proxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> L1Proxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the node's client reuses connections

            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, answer = proxy._forward(self.path.strip("/") or "-", body)
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the node was killed mid-request (the tests' kill -9)

            def log_message(self, *args):
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="l1-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url_for(self, anvil_url: str, node: str) -> str:
        """``Stack(l1_url_for=proxy.url_for)``: every node's L1 goes through the proxy, counted under its name."""
        return f"{self.url}/{node}"

    # ------------------------------------------------------------------------------------------------ forwarding

    def _http(self) -> httpx.Client:
        c = getattr(self._local, "client", None)
        if c is None:
            c = self._local.client = httpx.Client(timeout=30)
        return c

    def _forward(self, node: str, body: bytes) -> tuple[int, bytes]:
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        keys = [method_key(c) for c in doc] if isinstance(doc, list) else [method_key(doc)]
        now = time.monotonic()
        with self._lock:
            self._log.setdefault(node, []).extend((now, k) for k in keys)
        try:
            r = self._http().post(self.upstream, content=body, headers={"content-type": "application/json"})
        except httpx.HTTPError as e:
            return 502, json.dumps({"jsonrpc": "2.0", "id": None,
                                    "error": {"code": -32603, "message": f"proxy: {e}"}}).encode()
        with self._lock:
            self._bytes.setdefault(node, []).append((now, len(r.content)))
        return r.status_code, r.content

    # ------------------------------------------------------------------------------------------------ counts

    def counts(self, node: str, since: float = 0.0, until: float | None = None) -> Counter:
        """Calls per method key made by ``node`` in the monotonic-time window [since, until)."""
        with self._lock:
            entries = list(self._log.get(node, ()))
        return Counter(k for t, k in entries if t >= since and (until is None or t < until))

    def response_bytes(self, node: str, since: float = 0.0, until: float | None = None) -> int:
        """Bytes of the answers anvil sent ``node`` in the window (what an L1 provider bills by, besides calls)."""
        with self._lock:
            entries = list(self._bytes.get(node, ()))
        return sum(b for t, b in entries if t >= since and (until is None or t < until))

    def derivation_calls(self, node: str, since: float = 0.0) -> Counter:
        return Counter({k: n for k, n in self.counts(node, since).items() if k in DERIVATION_METHODS})


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A node killed mid-request (the tests' kill -9) resets its connection: not an error of the proxy."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)
