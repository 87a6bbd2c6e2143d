"""JSON-RPC over a websocket (``ws://``, ``wss://``): the transport of :class:`~opnode.jsonrpc.client.RpcClient` for
such a URL, and its ``eth_subscribe`` notifications (:class:`Subscription`).

What go-ethereum's websocket client does, which op-node dials for ``--l1=ws://…`` (op-service/client/rpc.go
``dialRPCClientWithBackoff`` → ``rpc.DialOptions``; go-ethereum rpc/websocket.go, rpc/subscription.go; 2026 file
index), and this transport does too:

- one connection carries every call and batch; answers are matched to requests by id, notifications
  (``eth_subscription``) go to their subscription by its id;
- a connection that drops fails the calls waiting on it (retried by the client, which dials again) and ends its
  subscriptions with :class:`~opnode.jsonrpc.errors.TransportError` (geth's ``sub.Err()``): their owner subscribes
  again (op-node/node/node.go ``initL1``: ``event.ResubscribeErr``);
- a ping every 30 s; a ping or a call that gets no answer in time closes the connection, so that a silently dead
  socket is noticed and the next call dials again;
- messages are bounded (``max_message_bytes``: the client's response bound; a larger one closes the connection
  with 1009, which the waiting calls see as a retryable failure, as the HTTP transport's bound is);
- failed dials back off: the next dial waits ``min(max_delay, base_delay * 2**failures)``.

The connection lives in a trio system task (``trio.lowlevel.spawn_system_task``: it belongs to the transport, not
to whichever caller dialled), which never raises; :meth:`WsTransport.aclose` ends it.
"""

from __future__ import annotations

import logging
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    HandshakeError,
    WebSocketConnection,
    wrap_client_stream,
)
from wsproto.utilities import LocalProtocolError

from opnode.jsonrpc.errors import TransportError
from opnode.jsonrpc.jwt import BearerToken
from opnode.jsonrpc.transport import Reply, Retryable, decode

log = logging.getLogger("opnode.jsonrpc.ws")

PING_INTERVAL = 30.0  # go-ethereum rpc/websocket.go wsPingInterval
NOTIFICATION_BUFFER = 256  # notifications kept per subscription for a slow reader (the oldest are dropped)
RECEIVE_BUFFER = 64 * 1024


class Subscription:
    """One ``eth_subscribe`` on one connection: its notifications (each one's ``result``) in order, until the
    connection ends or :meth:`aclose`; then :meth:`next` raises :class:`~opnode.jsonrpc.errors.TransportError`.
    A reader that falls ``NOTIFICATION_BUFFER`` behind loses the oldest ones (``dropped`` counts them)."""

    def __init__(self, sub_id: str, conn: _Conn, buffer: int = NOTIFICATION_BUFFER):
        self.id = sub_id
        self.dropped = 0
        self._conn = conn
        self._items: deque[Any] = deque(maxlen=max(1, buffer))
        self._wake = trio.Event()
        self._ended: TransportError | None = None
        self._unsubscribe: Callable[[], Awaitable[None]] | None = None

    @property
    def active(self) -> bool:
        return self._ended is None

    async def next(self) -> Any:
        while not self._items:
            if self._ended is not None:
                raise TransportError(str(self._ended))
            await self._wake.wait()
            self._wake = trio.Event()
        return self._items.popleft()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Any:
        return await self.next()

    def on_close(self, unsubscribe: Callable[[], Awaitable[None]]) -> None:
        """What :meth:`aclose` calls while the connection is up (the client's ``eth_unsubscribe`` call)."""
        self._unsubscribe = unsubscribe

    async def aclose(self) -> None:
        """Stop: ``eth_unsubscribe`` when the connection is still up (best effort), then :meth:`next` ends."""
        if self._ended is not None:
            return
        self._end("unsubscribed")
        if self._unsubscribe is not None and not self._conn.dead:
            with trio.move_on_after(2):
                try:
                    await self._unsubscribe()
                except Exception as e:  # noqa: BLE001 - the subscription is gone on our side either way
                    log.debug("eth_unsubscribe %s failed: %s", self.id, e)

    def _push(self, item: Any) -> None:
        if self._ended is not None:
            return
        if len(self._items) == self._items.maxlen:
            self.dropped += 1
        self._items.append(item)
        self._wake.set()

    def _end(self, reason: str) -> None:
        if self._ended is None:
            self._ended = TransportError(f"subscription {self.id} ended: {reason}")
            self._conn.subs.pop(self.id, None)
            self._wake.set()


class _Waiter:
    __slots__ = ("ids", "subscribe", "done", "reply", "error", "subscription")

    def __init__(self, ids: list[int], subscribe: bool):
        self.ids = ids
        self.subscribe = subscribe  # an eth_subscribe: a result is a subscription id, registered as it is read
        self.done = trio.Event()
        self.reply: Reply | None = None
        self.error: Exception | None = None
        self.subscription: Subscription | None = None


class _Conn:
    """One websocket connection: the calls waiting on it, its subscriptions, its state."""

    def __init__(self) -> None:
        self.ws: WebSocketConnection | None = None
        self.ready = trio.Event()  # the dial finished, one way or the other
        self.error: Retryable | TransportError | None = None  # why the dial failed
        self.dead = False
        self.scope = trio.CancelScope()
        self.finished = trio.Event()
        self.waiters: dict[int, _Waiter] = {}
        self.subs: dict[str, Subscription] = {}

    def close(self) -> None:
        self.dead = True
        self.scope.cancel()


def _copy(e: Retryable | TransportError) -> Retryable | TransportError:
    return type(e)(str(e), e.label, e.status)


class WsTransport:
    """JSON-RPC requests and subscriptions over one (re-dialled) websocket connection."""

    def __init__(self, url: str, *, timeout: float, max_message_bytes: int,
                 headers: tuple[tuple[str, str], ...] = (), bearer: BearerToken | None = None,
                 base_delay: float = 0.1, max_delay: float = 10.0, ping_interval: float = PING_INTERVAL):
        self.url = url
        self.timeout = timeout
        self.max_message_bytes = max_message_bytes
        self.ping_interval = ping_interval
        self.base_delay, self.max_delay = base_delay, max_delay
        self.bytes_received = 0
        self.dials = 0  # connections attempted
        self._headers = headers
        self._bearer = bearer
        self._conn: _Conn | None = None
        self._lock = trio.Lock()
        self._failures = 0
        self._next_dial = 0.0
        self._closed = False

    # ---------------------------------------------------------------------------------------------- public API

    async def exchange(self, body: bytes, ids: list[int]) -> Reply:
        waiter = await self._roundtrip(body, ids, subscribe=False)
        assert waiter.reply is not None
        return waiter.reply

    async def subscribe(self, body: bytes, request_id: int) -> tuple[Reply, Subscription | None]:
        """Send an ``eth_subscribe`` request; the subscription is registered the moment its answer is read, so that
        no notification that follows it on the connection is lost. None when the answer is not a subscription id
        (an error object, which the caller raises)."""
        waiter = await self._roundtrip(body, [request_id], subscribe=True)
        assert waiter.reply is not None
        return waiter.reply, waiter.subscription

    def drop_connection(self) -> None:
        """Close the current connection (its calls fail, its subscriptions end); the next call dials again."""
        if self._conn is not None:
            self._conn.close()

    async def aclose(self) -> None:
        self._closed = True
        conn = self._conn
        if conn is not None:
            conn.close()
            # shielded: an owner that closes its clients while being cancelled must not lose its own exception
            with trio.move_on_after(2) as bounded:
                bounded.shield = True
                await conn.finished.wait()

    # ---------------------------------------------------------------------------------------------- requests

    async def _roundtrip(self, body: bytes, ids: list[int], *, subscribe: bool) -> _Waiter:
        waiter = _Waiter(ids, subscribe)
        conn: _Conn | None = None
        try:
            with trio.fail_after(self.timeout):
                conn = await self._connection()
                for i in ids:
                    conn.waiters[i] = waiter
                if conn.dead:  # it ended between the dial and now: nobody would answer
                    raise Retryable("connection closed")
                try:
                    assert conn.ws is not None
                    await conn.ws.send_message(body.decode())
                except ConnectionClosed as e:
                    raise Retryable(f"connection closed while sending ({_reason(e)})") from None
                except LocalProtocolError as e:  # the connection is closing: wsproto refuses to send
                    raise Retryable(f"connection closing: {e}") from None
                await waiter.done.wait()
        except trio.TooSlowError:
            if conn is not None and not conn.dead:
                log.warning("%s: no answer within %ss, closing the connection", self.url, self.timeout)
                conn.close()  # a socket that went quiet is not trusted with the next call
            raise Retryable(f"no answer within {self.timeout}s") from None
        finally:
            if conn is not None:
                for i in ids:
                    if conn.waiters.get(i) is waiter:
                        del conn.waiters[i]
        if waiter.error is not None:
            raise waiter.error
        return waiter

    async def _connection(self) -> _Conn:
        async with self._lock:
            if self._closed:
                raise TransportError(f"{self.url}: client closed")
            conn = self._conn
            if conn is None or conn.dead:
                await trio.sleep_until(self._next_dial)
                conn = self._conn = _Conn()
                self.dials += 1
                trio.lowlevel.spawn_system_task(self._run, conn, name=f"websocket {self.url}")
            await conn.ready.wait()
        if conn.error is not None:
            raise _copy(conn.error)
        return conn

    # ---------------------------------------------------------------------------------------------- the connection

    async def _run(self, conn: _Conn) -> None:
        """The connection's life: dial, read and dispatch messages, ping; never raises (a system task)."""
        reason = "closed"
        try:
            with conn.scope:
                async with trio.open_nursery() as nursery:
                    ws = await self._dial(nursery)
                    conn.ws = ws
                    conn.ready.set()
                    nursery.start_soon(self._ping, conn, ws)
                    reason = await self._read(conn, ws)
                    with trio.move_on_after(1) as cleanup:
                        cleanup.shield = True
                        await ws.aclose()
                    nursery.cancel_scope.cancel()
        except Exception as e:  # noqa: BLE001 - a system task must not raise; the connection is just gone
            if not conn.ready.is_set():  # the dial failed (trio-websocket raises a refusal from its reader task)
                conn.error = self._dial_error(_leaf(e))
                self._failures += 1
                delay = min(self.max_delay, self.base_delay * 2 ** (self._failures - 1))
                self._next_dial = trio.current_time() + delay
                log.debug("%s: dial failed (%s), next dial in %.1fs", self.url, conn.error, delay)
                reason = str(conn.error)
            else:
                reason = _describe(e)
                log.warning("%s: websocket connection failed: %s", self.url, reason)
                log.debug("%s: websocket connection failed", self.url, exc_info=True)
        finally:
            self._finish(conn, reason)

    async def _dial(self, nursery: trio.Nursery) -> WebSocketConnection:
        """TCP, then TLS for ``wss`` (its handshake done here, so that a certificate that fails verification is
        reported as such: trio-websocket would wait for its websocket handshake for ever), then the websocket."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        tls = parts.scheme.lower() == "wss"
        port = parts.port or (443 if tls else 80)
        resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        named = f"[{host}]" if ":" in host else host
        headers = [(k.encode(), v.encode()) for k, v in self._headers]
        if self._bearer is not None:
            headers.append((b"authorization", self._bearer.header().encode()))
        with trio.fail_after(self.timeout):
            stream: trio.abc.Stream
            if tls:
                stream = await trio.open_ssl_over_tcp_stream(host, port, ssl_context=ssl.create_default_context(),
                                                             https_compatible=True)
            else:
                stream = await trio.open_tcp_stream(host, port)
            try:
                if isinstance(stream, trio.SSLStream):
                    await stream.do_handshake()
                return await wrap_client_stream(nursery, stream, named if port in (80, 443) else f"{named}:{port}",
                                                resource, extra_headers=headers,
                                                max_message_size=self.max_message_bytes,
                                                receive_buffer_size=RECEIVE_BUFFER)
            except BaseException:
                await trio.aclose_forcefully(stream)
                raise

    def _dial_error(self, e: BaseException) -> Retryable | TransportError:
        if isinstance(e, trio.TooSlowError):
            return Retryable(f"websocket handshake took longer than {self.timeout}s")
        if isinstance(e, ConnectionRejected):
            status = e.status_code
            if status >= 500 or status == 429:
                return Retryable(f"websocket handshake refused: HTTP {status}", f"http_{status}", status)
            return TransportError(f"{self.url}: websocket handshake refused: HTTP {status}", f"http_{status}", status)
        cause = e.__cause__ if isinstance(e, (HandshakeError, trio.BrokenResourceError)) and e.__cause__ else e
        return Retryable(f"cannot connect: {_describe(cause)}")

    async def _read(self, conn: _Conn, ws: WebSocketConnection) -> str:
        try:
            while True:
                message = await ws.get_message()
                self.bytes_received += len(message)
                self._dispatch(conn, message)
        except ConnectionClosed as e:
            return _reason(e)

    async def _ping(self, conn: _Conn, ws: WebSocketConnection) -> None:
        while True:
            await trio.sleep(self.ping_interval)
            with trio.move_on_after(self.timeout) as waited:
                try:
                    await ws.ping()
                except (ConnectionClosed, LocalProtocolError):
                    return
            if waited.cancelled_caught:
                log.warning("%s: no pong within %ss, closing the connection", self.url, self.timeout)
                conn.close()
                return

    def _dispatch(self, conn: _Conn, message: str | bytes) -> None:
        try:
            doc = decode(message)
        except Retryable as e:
            log.warning("%s: dropped a websocket message: %s", self.url, e)
            return
        if isinstance(doc, dict) and doc.get("method") == "eth_subscription":
            params = doc.get("params")
            if isinstance(params, dict):
                sub = conn.subs.get(str(params.get("subscription")))
                if sub is not None:
                    sub._push(params.get("result"))
            return
        items = doc if isinstance(doc, list) else [doc]
        waiter = None
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), int):
                waiter = conn.waiters.get(item["id"])
                if waiter is not None:
                    break
        if waiter is None or waiter.done.is_set():
            return  # an answer nobody waits for any more (its call timed out)
        self._failures = 0  # the connection works: the next dial after it is not held back
        waiter.reply = Reply(doc, len(message))
        if waiter.subscribe and isinstance(doc, dict) and isinstance(doc.get("result"), str):
            sub = Subscription(doc["result"], conn)
            conn.subs[sub.id] = sub
            waiter.subscription = sub
        waiter.done.set()

    def _finish(self, conn: _Conn, reason: str) -> None:
        conn.dead = True
        if conn.error is None and not conn.ready.is_set():
            conn.error = Retryable(f"cannot connect: {reason}")
        conn.ready.set()
        for waiter in set(conn.waiters.values()):
            if not waiter.done.is_set():
                waiter.error = Retryable(f"connection closed ({reason})")
                waiter.done.set()
        conn.waiters.clear()
        for sub in list(conn.subs.values()):
            sub._end(f"connection closed ({reason})")
        conn.finished.set()


def _leaf(e: BaseException) -> BaseException:
    """The first exception in ``e`` that is not a group (nor a Cancelled, when there is another)."""
    while isinstance(e, BaseExceptionGroup):
        rest = [x for x in e.exceptions if not isinstance(x, trio.Cancelled)]
        e = (rest or list(e.exceptions))[0]
    return e


def _describe(e: BaseException) -> str:
    """An exception, or the leaves of an exception group, as one line."""
    if isinstance(e, BaseExceptionGroup):
        return "; ".join(_describe(x) for x in e.exceptions)
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _reason(e: ConnectionClosed) -> str:
    r = e.reason
    if r is None:
        return "connection lost"
    return f"{r.code} {r.name}" + (f": {r.reason}" if r.reason else "")
