"""Serving an ASGI app on hypercorn under trio, on a socket we bind ourselves (so ``port=0`` reports the port it
got, and a port in use is a clear error before the server starts), and the few ASGI helpers every server of the
project shares (lifespan, bounded body, short response)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import trio
from hypercorn.config import Config
from hypercorn.trio import serve

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class BindError(OSError):
    """The address could not be bound (in use, not local, bad host)."""


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(256)
    except OSError as e:
        s.close()
        raise BindError(e.errno, f"cannot listen on {host}:{port}: {e.strerror}") from None
    s.set_inheritable(True)
    return s


async def lifespan(receive: Receive, send: Send) -> None:
    """Answer an ASGI lifespan scope (nothing to set up or tear down)."""
    while True:
        msg = await receive()
        if msg["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif msg["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def http_request(scope: Scope, receive: Receive, send: Send) -> bool:
    """Whether ``scope`` is an HTTP request to answer; a lifespan scope is answered here, any other is ignored."""
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return False
    return bool(scope["type"] == "http")


async def read_body(receive: Receive, limit: int | None = None) -> bytes | None:
    """The whole request body, or None once it grows past ``limit`` bytes (the rest is not read)."""
    body = bytearray()
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if limit is not None and len(body) > limit:
            return None
        if not msg.get("more_body"):
            return bytes(body)


def header_map(scope: Scope) -> dict[str, str]:
    """The request headers, names lower-cased. Decoded as latin-1 (HTTP's own charset), so that any byte a client
    sends is read, not a UnicodeDecodeError."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def send_response(send: Send, status: int, body: bytes, content_type: str = "application/json") -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def serve_asgi(app: App, host: str, port: int, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """Serve ``app`` on ``host:port`` until cancelled; ``task_status.started(port)`` once listening."""
    await serve_socket(app, bind(host, port), task_status=task_status)


async def serve_url(app: App, *, host: str = "127.0.0.1", port: int = 0,
                    task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """As :func:`serve_asgi`, but ``task_status.started`` gets the base URL (``http://host:port``)."""
    sock = bind(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}"
    async with trio.open_nursery() as nursery:
        await nursery.start(serve_socket, app, sock)
        task_status.started(url)


async def serve_socket(app: App, sock: socket.socket, *, task_status: Any = trio.TASK_STATUS_IGNORED,
                       keep_alive: float = 30.0, shutdown: trio.Event | None = None) -> None:
    """Serve ``app`` on a listening socket until cancelled (or, gracefully, until ``shutdown`` is set). Hypercorn
    takes the socket over (and closes it)."""
    port = sock.getsockname()[1]
    fd = sock.detach()  # hypercorn wraps and closes this fd; we must not close it a second time
    config = Config()
    config.bind = [f"fd://{fd}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("opnode.http")
    config.keep_alive_timeout = keep_alive
    config.graceful_timeout = 1
    task_status.started(port)
    await serve(cast(Any, app), config, shutdown_trigger=trio.sleep_forever if shutdown is None else shutdown.wait)
