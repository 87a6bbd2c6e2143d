"""Hostile clients for the abuse suite: raw HTTP over a socket (bytes httpx would refuse to send), slow clients that
trickle a request and never finish it (slowloris), many connections at once, and the memory the process retains
(tracemalloc, measured after a garbage collection, so the figure is what stays, not what a request used)."""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections.abc import Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import trio


def host_port(url: str) -> tuple[str, int, str]:
    u = urlsplit(url)
    return u.hostname or "127.0.0.1", u.port or 80, u.path or "/"


async def raw(url: str, request: bytes) -> tuple[int, bytes]:
    """Send ``request`` (a whole HTTP/1.1 request, any bytes) and read the answer: (status, body)."""
    host, port, _ = host_port(url)
    stream = await trio.open_tcp_stream(host, port)
    async with stream:
        await stream.send_all(request)
        data = b""
        with trio.fail_after(30):
            while True:
                chunk = await stream.receive_some(65536)
                if not chunk:
                    break
                data += chunk
                head, sep, body = data.partition(b"\r\n\r\n")
                if sep:
                    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                                   if line.lower().startswith(b"content-length:")), None)
                    if length is not None and len(body) >= length:
                        break
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data.partition(b"\r\n\r\n")[2]


def post_request(url: str, body: bytes, headers: dict[str, str] | None = None, *, path: bytes | None = None,
                 extra: bytes = b"") -> bytes:
    host, port, p = host_port(url)
    lines = [b"POST " + (path if path is not None else p.encode()) + b" HTTP/1.1", f"Host: {host}:{port}".encode(),
             b"Content-Type: application/json", f"Content-Length: {len(body)}".encode(), b"Connection: close"]
    lines += [f"{k}: {v}".encode() for k, v in (headers or {}).items()]
    return b"\r\n".join(lines) + b"\r\n" + extra + b"\r\n" + body


@asynccontextmanager
async def slow_clients(url: str, n: int):
    """``n`` connections that each sent the start of a request line and headers and then stop (a slowloris client
    that never finishes); they stay open inside the block."""
    host, port, path = host_port(url)
    streams = []
    try:
        for _ in range(n):
            s = await trio.open_tcp_stream(host, port)
            await s.send_all(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 1000000\r\nX-A: ".encode())
            streams.append(s)
        yield streams
    finally:
        for s in streams:
            await s.aclose()


async def concurrently(n: int, call: Callable) -> list:
    """``call()`` n times at once, each on its own connection; the results in order."""
    out: list = [None] * n

    async def one(i):
        out[i] = await call()

    async with trio.open_nursery() as nursery:
        for i in range(n):
            nursery.start_soon(one, i)
    return out


def request(method: str, params=None, rid=1) -> dict:
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": [] if params is None else params}


def error_code(body: bytes) -> int | None:
    doc = json.loads(body)
    return doc["error"]["code"] if isinstance(doc, dict) and "error" in doc else None


class RetainedMemory:
    """Python memory the process holds after a garbage collection, traced from :meth:`start` on."""

    def start(self) -> None:
        gc.collect()
        tracemalloc.start()
        self.before = tracemalloc.get_traced_memory()[0]

    def growth(self) -> int:
        gc.collect()
        now = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return now - self.before
