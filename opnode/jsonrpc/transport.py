"""How :class:`~opnode.jsonrpc.client.RpcClient` moves one JSON-RPC request body and gets its answer: over HTTP(S)
(:class:`HttpTransport`, one POST per request) or over a websocket (:class:`~opnode.jsonrpc.ws.WsTransport`, which
also carries ``eth_subscribe`` notifications). The client keeps batching, retries, rate limits, metrics and the
matching of answers to calls; a transport only sends a body and returns the decoded answer, with the same failure
kinds: :class:`Retryable` for what may go better on another attempt (unreachable, timeout, HTTP 5xx/429, an answer
too large or not JSON), :class:`~opnode.jsonrpc.errors.TransportError` for a refusal (any other HTTP status).

op-service/client/rpc.go (ethereum-optimism/optimism, 2026 file index) picks the transport by the URL the same way:
go-ethereum's ``rpc.DialOptions`` dials ``http(s)://`` or ``ws(s)://``, and only an ``http(s)`` URL gets the polling
``newHeads`` client (``NewRPCWithClient``: ``httpRegex``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import trio

from derivation.protocol.jsonutil import loads_bounded
from opnode.jsonrpc.errors import TransportError
from opnode.jsonrpc.jwt import BearerToken

HTTP_SCHEMES = ("http", "https")
WS_SCHEMES = ("ws", "wss")


class Retryable(Exception):
    """A failed attempt that another attempt may get past; ``label`` is op-node's error label of the request."""

    def __init__(self, message: str, label: str = "<unknown>", status: int | None = None):
        super().__init__(message)
        self.label = label
        self.status = status


@dataclass(frozen=True, slots=True)
class Reply:
    """A decoded answer: the JSON document and its size as read (after any decompression)."""

    doc: Any
    size: int


class Transport(Protocol):
    bytes_received: int  # on the wire, answers and failed attempts alike

    async def exchange(self, body: bytes, ids: list[int]) -> Reply: ...

    async def aclose(self) -> None: ...


def is_websocket(url: str) -> bool:
    return urlsplit(url).scheme.lower() in WS_SCHEMES


def check_url(url: str, *, websocket: bool = True) -> str:
    """``url``'s scheme (``http``, ``https``, ``ws``, ``wss``), or ValueError saying what is wrong with it."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number in 0-65535
    except ValueError as e:
        raise ValueError(f"{url!r} is not a valid URL: {e}") from None
    schemes = HTTP_SCHEMES + WS_SCHEMES if websocket else HTTP_SCHEMES
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise ValueError(f"{url!r} is not a JSON-RPC URL: the scheme must be one of {', '.join(schemes)}")
    if not parts.hostname:
        raise ValueError(f"{url!r} has no host")
    del port
    return scheme


def decode(raw: bytes | str) -> Any:
    """A JSON answer, or :class:`Retryable` when it is not JSON."""
    try:
        return loads_bounded(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise Retryable(f"response is not JSON ({e}; {len(raw)} bytes)") from None


class HttpTransport:
    """One POST per request body; the answer is read with a size bound (after decompression)."""

    def __init__(self, url: str, *, timeout: float, max_response_bytes: int, headers: tuple[tuple[str, str], ...],
                 bearer: BearerToken | None, max_connections: int,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.url = url
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self._bearer = bearer
        self.bytes_received = 0
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout), headers=dict(headers), transport=transport,
                                       limits=httpx.Limits(max_connections=max(1, max_connections)))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def exchange(self, body: bytes, ids: list[int]) -> Reply:
        headers = {"content-type": "application/json"}
        if self._bearer is not None:
            headers["authorization"] = self._bearer.header()
        try:
            with trio.fail_after(self.timeout):
                async with self._http.stream("POST", self.url, content=body, headers=headers) as resp:
                    chunks, size = [], 0
                    try:
                        async for chunk in resp.aiter_bytes():  # decompressed; the bound applies after decoding
                            size += len(chunk)
                            if size > self.max_response_bytes:
                                raise Retryable(f"response larger than {self.max_response_bytes} bytes")
                            chunks.append(chunk)
                    finally:
                        self.bytes_received += resp.num_bytes_downloaded
                    raw = b"".join(chunks)
                    status = resp.status_code
        except trio.TooSlowError:
            raise Retryable(f"no answer within {self.timeout}s") from None
        except httpx.HTTPError as e:  # httpx timeouts have an empty message: the class names them
            raise Retryable(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__) from None
        if status >= 500 or status == 429:
            raise Retryable(f"HTTP {status}", f"http_{status}", status)
        if status != 200:
            text = raw[:200].decode("utf-8", "replace").strip()
            raise TransportError(f"{self.url}: HTTP {status}: {text}", f"http_{status}", status)
        return Reply(decode(raw), len(raw))
