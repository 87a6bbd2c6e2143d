"""A websocket JSON-RPC proxy for tests: in front of an upstream websocket endpoint (anvil serves one on its HTTP
port), it forwards every message both ways, counts the calls the client makes
(:func:`~opnode.testing.l1_proxy.method_key`: ``eth_getBlockByNumber/latest`` is a head read), and breaks things
on demand:

- :meth:`WsProxy.drop`: every open connection's TCP stream is closed at once, without a close frame (a dying
  load balancer or network does that);
- ``down = True``: new connections are refused (HTTP 503 to the handshake) until it is cleared;
- ``mute = True``: subscription notifications (``eth_subscription``) are swallowed, as a provider that loses some;
- ``stall = True``: the client's requests are counted and swallowed: no answer comes (a hung backend);
- ``refuse``: methods answered with go-ethereum's "method not found" error instead of forwarded (a provider
  without ``eth_subscribe``).

Runs in the test's trio run: ``await nursery.start(proxy.serve)``.
"""

from __future__ import annotations

import json
import ssl
from collections import Counter

import trio
from trio_websocket import (
    ConnectionClosed,
    HandshakeError,
    WebSocketConnection,
    WebSocketRequest,
    open_websocket_url,
    serve_websocket,
)

from opnode.jsonrpc.errors import METHOD_NOT_FOUND, method_not_found
from opnode.testing.l1_proxy import method_key

MAX_MESSAGE = 256 * 1024 * 1024


class WsProxy:
    def __init__(self, upstream: str, ssl_context: ssl.SSLContext | None = None):
        self.upstream = upstream
        self.ssl_context = ssl_context  # serve wss://
        self.port: int | None = None
        self.counts: Counter[str] = Counter()
        self.connections = 0  # accepted
        self.refused = 0
        self.muted = 0  # notifications swallowed
        self.down = False
        self.mute = False
        self.stall = False
        self.refuse: set[str] = set()
        self._open: dict[WebSocketConnection, trio.CancelScope] = {}

    @property
    def url(self) -> str:
        return f"{'ws' if self.ssl_context is None else 'wss'}://127.0.0.1:{self.port}"

    async def serve(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            server = await nursery.start(lambda task_status: serve_websocket(
                self._handle, "127.0.0.1", 0, self.ssl_context, max_message_size=MAX_MESSAGE, task_status=task_status))
            self.port = server.port
            task_status.started(self)

    async def drop(self) -> int:
        """Close every open connection's TCP stream now; how many there were."""
        links = list(self._open.items())
        for client, scope in links:
            await client._stream.aclose()  # trio-websocket keeps the stream private; no close frame is sent
            scope.cancel()
        return len(links)

    async def _handle(self, request: WebSocketRequest) -> None:
        if self.down:
            self.refused += 1
            await request.reject(503)
            return
        client = await request.accept()
        self.connections += 1
        try:
            async with open_websocket_url(self.upstream, max_message_size=MAX_MESSAGE) as upstream:
                with trio.CancelScope() as scope:
                    self._open[client] = scope
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(self._pump, client, upstream, True, nursery.cancel_scope)
                        nursery.start_soon(self._pump, upstream, client, False, nursery.cancel_scope)
        except (HandshakeError, ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            self._open.pop(client, None)

    async def _pump(self, src: WebSocketConnection, dst: WebSocketConnection, calls: bool,
                    done: trio.CancelScope) -> None:
        try:
            while True:
                message = await src.get_message()
                if calls:
                    self._count(message)
                    if self.stall:
                        continue
                    refusal = self._refusal(message)
                    if refusal is not None:
                        await src.send_message(refusal)
                        continue
                elif self.mute and _is_notification(message):
                    self.muted += 1
                    continue
                await dst.send_message(message)
        except (ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError):
            done.cancel()

    def _refusal(self, message: str | bytes) -> str | None:
        try:
            doc = json.loads(message)
        except ValueError:
            return None
        if not isinstance(doc, dict) or doc.get("method") not in self.refuse:
            return None
        return json.dumps({"jsonrpc": "2.0", "id": doc.get("id"), "error": {
            "code": METHOD_NOT_FOUND, "message": method_not_found(doc["method"])}})

    def _count(self, message: str | bytes) -> None:
        try:
            doc = json.loads(message)
        except ValueError:
            self.counts["?"] += 1
            return
        for call in doc if isinstance(doc, list) else [doc]:
            self.counts[method_key(call)] += 1


def _is_notification(message: str | bytes) -> bool:
    try:
        doc = json.loads(message)
    except ValueError:
        return False
    return isinstance(doc, dict) and doc.get("method") == "eth_subscription"
