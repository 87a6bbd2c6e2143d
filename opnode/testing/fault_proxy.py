"""A fault-injecting proxy for the chaos suite: JSON-RPC (L1, Engine API) and the beacon HTTP API, per node, with
faults switched on and off by the test while real processes talk through it.

URLs: ``http://127.0.0.1:<port>/<api>/<node>`` (see :meth:`FaultProxy.url`), ``api`` one of the upstreams given
with :meth:`FaultProxy.route` (``l1``, ``beacon``, ``engine``...); an upstream is routed for one node
(``route("engine", url, node="source-A")``) or for every node. A beacon request keeps its path after the node's name
(``/beacon/source-A/eth/v1/beacon/blobs/12`` → ``<beacon>/eth/v1/beacon/blobs/12``), as the node's beacon client
appends its routes to the configured URL.

Faults (:class:`Fault`), one per ``(api, node)``, ``node="*"`` for all; each answer it changes is counted
(:meth:`FaultProxy.hits`), so that a test can show its fault was really met:
- ``status``: an HTTP error (default 503) with an empty body;
- ``hang``: no answer until the fault is cleared or ``seconds`` pass, then the connection is closed;
- ``truncate``: the real answer's first half, then the connection drops (Content-Length announces all of it);
- ``garbage``: HTTP 200 with bytes that are not the answer: not JSON, or JSON of the wrong shape, in turn;
- ``lag`` (JSON-RPC): the backend answers as of ``blocks`` blocks ago: head numbers and labels are capped at the real
  head minus ``blocks``, and blocks, receipts and logs above that are unknown (``null``, filtered out);
- ``disagree`` (JSON-RPC): two backends behind one URL that disagree on L1 block ``block``: every other answer
  naming that block carries another hash (and its child another parent hash);
- ``syncing`` (Engine API): ``engine_newPayload*`` and ``engine_forkchoiceUpdated*`` answer SYNCING without
  asking the engine, as an execution client that is catching up does (execution-apis paris.md).

``methods`` restricts a fault to some JSON-RPC method keys (:func:`opnode.testing.l1_proxy.method_key`) or beacon
path prefixes. Calls in a JSON-RPC batch are forwarded together, and a fault applies to the whole batch.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from derivation.protocol.crypto import keccak256
from opnode.testing.l1_proxy import method_key

KINDS = ("status", "hang", "truncate", "garbage", "lag", "disagree", "syncing")
GARBAGE = (b"\x00\xffnot json at all <html>502 Bad Gateway</html>", b'{"jsonrpc":"2.0","id":1,"result":{"numb',
           None)  # None: well-formed JSON-RPC whose result has the wrong shape (built per request)
_LABELS = ("latest", "pending", "safe", "finalized")
_SYNCING_METHODS = ("engine_newPayload", "engine_forkchoiceUpdated")


@dataclass(frozen=True)
class Fault:
    kind: str
    methods: frozenset[str] | None = None  # JSON-RPC method keys or beacon path prefixes; None: every request
    status: int = 503  # status
    seconds: float = 60.0  # hang: the longest a request is held
    blocks: int = 0  # lag
    block: int | None = None  # disagree

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r} (one of {', '.join(KINDS)})")
        if self.kind == "disagree" and self.block is None:
            raise ValueError("a disagree fault names its block")


def _other_hash(h: str) -> str:
    return "0x" + keccak256(b"disagreeing backend" + bytes.fromhex(h[2:])).hex()


def _number(doc) -> int | None:
    if isinstance(doc, dict):
        v = doc.get("number", doc.get("blockNumber"))
        if isinstance(v, str):
            try:
                return int(v, 16)
            except ValueError:
                return None
    return None


class FaultProxy:
    """``with FaultProxy() as p: p.route("l1", anvil_url)``; give a node ``p.url("l1", name)``; then
    ``with p.fault("l1", name, Fault("status")): ...`` or :meth:`set` / :meth:`clear`."""

    def __init__(self):
        self._upstreams: dict[tuple[str, str], str] = {}
        self._faults: dict[tuple[str, str], Fault] = {}
        self._released: dict[tuple[str, str], threading.Event] = {}
        self._lock = threading.Lock()
        self._hits: Counter = Counter()
        self._requests: Counter = Counter()
        self._flip = itertools.count()
        self._head_cache: dict[str, tuple[float, int]] = {}
        self._local = threading.local()
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------------------------------------ lifecycle

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                proxy._serve(self, "POST", body)

            def do_GET(self):  # noqa: N802
                proxy._serve(self, "GET", b"")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True).start()
        return self

    def stop(self) -> None:
        self.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ------------------------------------------------------------------------------------------------ control

    def route(self, api: str, upstream: str, node: str = "*") -> None:
        with self._lock:
            self._upstreams[(api, node)] = upstream.rstrip("/")

    def url(self, api: str, node: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{api}/{node}"

    def set(self, api: str, node: str, fault: Fault) -> None:
        with self._lock:
            self._faults[(api, node)] = fault
            self._released[(api, node)] = threading.Event()

    def clear(self, api: str | None = None, node: str | None = None) -> None:
        """Switch faults off (all of them by default); requests held by a ``hang`` are let go at once."""
        with self._lock:
            for key in list(self._faults):
                if (api is None or key[0] == api) and (node is None or key[1] == node):
                    del self._faults[key]
                    self._released.pop(key).set()

    @contextmanager
    def fault(self, api: str, node: str, fault: Fault):
        self.set(api, node, fault)
        try:
            yield self
        finally:
            self.clear(api, node)

    def hits(self, api: str, node: str, kind: str | None = None) -> int:
        """Answers changed by a fault for ``node`` (of ``kind``, or of any)."""
        with self._lock:
            return sum(n for (a, nd, k), n in self._hits.items() if a == api and nd == node and kind in (None, k))

    def requests(self, api: str, node: str) -> int:
        with self._lock:
            return self._requests[(api, node)]

    # ------------------------------------------------------------------------------------------------ serving

    def _http(self) -> httpx.Client:
        c = getattr(self._local, "client", None)
        if c is None:
            c = self._local.client = httpx.Client(timeout=30)
        return c

    @staticmethod
    def _route(path: str) -> tuple[str, str, str]:
        """``/<api>/<node>/<rest>?query`` → (api, node, the upstream path with its query)."""
        parts = path.split("?", 1)
        segs = parts[0].strip("/").split("/", 2)
        api, node = segs[0], (segs[1] if len(segs) > 1 else "-")
        rest = "/" + segs[2] if len(segs) > 2 else ""
        if len(parts) > 1:
            rest += "?" + parts[1]
        return api, node, rest

    def _serve(self, h: BaseHTTPRequestHandler, method: str, body: bytes) -> None:
        api, node, rest = self._route(h.path)
        with self._lock:
            upstream = self._upstreams.get((api, node)) or self._upstreams.get((api, "*"))
            fault = self._faults.get((api, node)) or self._faults.get((api, "*"))
            released = self._released.get((api, node)) or self._released.get((api, "*"))
            self._requests[(api, node)] += 1
        if upstream is None:
            return self._send(h, 404, b'{"error":"no upstream for this path"}')
        doc = None
        if method == "POST":
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
        if fault is not None and not self._applies(fault, doc, rest):
            fault = None
        kind = fault.kind if fault else None
        if kind in ("status", "hang", "garbage", "syncing"):
            self._count(api, node, kind)
            if kind == "status":
                return self._send(h, fault.status, b"")
            if kind == "hang":
                released.wait(fault.seconds)
                h.close_connection = True
                return None
            if kind == "syncing":
                return self._send(h, 200, json.dumps(_syncing(doc)).encode())
            return self._send(h, 200, self._garbage(doc))
        if kind == "lag" and isinstance(doc, (dict, list)):
            answer = self._lagged(upstream, doc, fault.blocks)
            self._count(api, node, kind)
            return self._send(h, 200, json.dumps(answer).encode())
        try:
            r = self._forward(h, method, upstream + rest, body)
        except httpx.HTTPError as e:
            return self._send(h, 502, json.dumps({"jsonrpc": "2.0", "id": None,
                                                   "error": {"code": -32603, "message": f"proxy: {e}"}}).encode())
        content = r.content
        if kind == "disagree" and isinstance(doc, (dict, list)):
            changed, content = self._disagree(doc, content, fault.block)
            if changed:
                self._count(api, node, kind)
        if kind == "truncate":
            self._count(api, node, kind)
            return self._send_truncated(h, r.status_code, content, r.headers.get("content-type", "application/json"))
        return self._send(h, r.status_code, content, r.headers.get("content-type", "application/json"))

    def _forward(self, h: BaseHTTPRequestHandler, method: str, url: str, body: bytes) -> httpx.Response:
        if method == "POST":
            return self._http().post(url, content=body, headers={k: v for k, v in h.headers.items()
                                                                 if k.lower() in ("content-type", "authorization")})
        return self._http().get(url, headers={"accept": h.headers.get("accept", "*/*")})

    @staticmethod
    def _send_truncated(h: BaseHTTPRequestHandler, status: int, content: bytes, ctype: str) -> None:
        """The headers promise the whole body; half of it comes and the connection closes."""
        h.send_response(status)
        h.send_header("content-type", ctype)
        h.send_header("content-length", str(len(content)))
        h.end_headers()
        h.wfile.write(content[: len(content) // 2])
        h.wfile.flush()
        h.close_connection = True

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str = "application/json") -> None:
        try:
            h.send_response(status)
            h.send_header("content-type", ctype)
            h.send_header("content-length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        except OSError:
            h.close_connection = True  # the client gave up waiting

    def _count(self, api: str, node: str, kind: str) -> None:
        with self._lock:
            self._hits[(api, node, kind)] += 1

    @staticmethod
    def _applies(fault: Fault, doc, path: str) -> bool:
        if fault.kind == "syncing":
            calls = doc if isinstance(doc, list) else [doc]
            return any(method_key(c).startswith(_SYNCING_METHODS) for c in calls)
        if fault.methods is None:
            return True
        if doc is None:
            return any(path.startswith(p) for p in fault.methods)
        calls = doc if isinstance(doc, list) else [doc]
        return any(method_key(c) in fault.methods for c in calls)

    def _garbage(self, doc) -> bytes:
        g = GARBAGE[next(self._flip) % len(GARBAGE)]
        if g is not None:
            return g
        calls = doc if isinstance(doc, list) else [doc]
        wrong = [{"jsonrpc": "2.0", "id": c.get("id") if isinstance(c, dict) else None,
                  "result": {"hash": 7, "number": ["0xzz"], "transactions": "none"}} for c in calls]
        return json.dumps(wrong if isinstance(doc, list) else wrong[0]).encode()

    # ------------------------------------------------------------------------------------------------ lag

    def _call(self, upstream: str, method: str, *params):
        r = self._http().post(upstream, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        return r.json().get("result")

    def _lagged(self, upstream: str, doc, blocks: int):
        head = int(self._call(upstream, "eth_blockNumber"), 16) - blocks
        calls = doc if isinstance(doc, list) else [doc]
        out = [self._lagged_call(upstream, c, max(head, 0)) for c in calls]
        return out if isinstance(doc, list) else out[0]

    def _lagged_call(self, upstream: str, call, head: int) -> dict:
        if not isinstance(call, dict):
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}
        m, params = call.get("method"), list(call.get("params") or [])
        answer = {"jsonrpc": "2.0", "id": call.get("id")}
        if m == "eth_blockNumber":
            return {**answer, "result": hex(head)}
        if m == "eth_getBlockByNumber" and params and params[0] in _LABELS:
            if params[0] in ("latest", "pending"):
                params[0] = hex(head)
            else:
                label = self._call(upstream, m, params[0], False)
                if (_number(label) or 0) > head:
                    params[0] = hex(head)
        try:
            r = self._http().post(upstream, json={**call, "params": params}).json()
        except (httpx.HTTPError, ValueError) as e:
            return {**answer, "error": {"code": -32603, "message": f"proxy: {e}"}}
        res = r.get("result")
        if isinstance(res, list) and m == "eth_getLogs":
            r["result"] = [lg for lg in res if (_number(lg) or 0) <= head]
        elif isinstance(res, list) and res and (_number(res[0]) or 0) > head:
            r["result"] = None
        elif (_number(res) or 0) > head:
            r["result"] = None
        return r

    # ------------------------------------------------------------------------------------------------ disagree

    def _disagree(self, doc, content: bytes, block: int) -> tuple[bool, bytes]:
        """Every other answer comes from "the other backend", whose block ``block`` has another hash."""
        if next(self._flip) % 2 == 0:
            return False, content
        try:
            answer = json.loads(content)
        except ValueError:
            return False, content
        changed = False
        for a in answer if isinstance(answer, list) else [answer]:
            res = a.get("result") if isinstance(a, dict) else None
            n = _number(res)
            if n == block and isinstance(res.get("hash"), str):
                res["hash"] = _other_hash(res["hash"])
                changed = True
            elif n == block + 1 and isinstance(res.get("parentHash"), str):
                res["parentHash"] = _other_hash(res["parentHash"])
                changed = True
        return changed, json.dumps(answer).encode() if changed else content


def _syncing(doc):
    """What an execution client that is still syncing answers (execution-apis paris.md: SYNCING, no payload id)."""
    calls = doc if isinstance(doc, list) else [doc]
    out = []
    for c in calls:
        m = c.get("method", "") if isinstance(c, dict) else ""
        status = {"status": "SYNCING", "latestValidHash": None, "validationError": None}
        result = {"payloadStatus": status, "payloadId": None} if m.startswith("engine_forkchoiceUpdated") else status
        out.append({"jsonrpc": "2.0", "id": c.get("id") if isinstance(c, dict) else None, "result": result})
    return out if isinstance(doc, list) else out[0]


def wait_hits(proxy: FaultProxy, api: str, node: str, at_least: int, timeout: float) -> int:
    """Wait until a fault changed ``at_least`` answers for ``node``; AssertionError when it did not in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = proxy.hits(api, node)
        if n >= at_least:
            return n
        time.sleep(0.1)
    raise AssertionError(f"{api} fault for {node} met {proxy.hits(api, node)} times, not {at_least}, in {timeout} s")
