"""One async JSON-RPC client for every endpoint the project calls (L1, the engine's Engine API and eth RPC, source
nodes, peers, the batcher): batching, bounded concurrency, rate limiting, timeouts, jittered retries, an optional
JWT per request, op-node's ``rpc_client_*`` metrics and bounded responses.

What op-node does (op-service/client/rpc.go ``BaseRPCClient``/``InstrumentedRPCClient``, op-service/sources/batching,
op-service/metrics/rpc_metrics.go; ethereum-optimism/optimism develop, read 2026-12-05), in one small object:

- ``batch`` splits calls into HTTP requests of at most ``max_batch_size`` calls and sends them concurrently, at most
  ``max_concurrency`` HTTP requests in flight.
- ``rate_limit`` (calls per second, burst ``max_batch_size``, as op-node's rate-limited client) paces calls.
- Transport failures are retried with exponential backoff and full jitter (``retry``; one attempt means none):
  connection errors, timeouts, HTTP 5xx and 429, bodies that are not complete JSON, and batch answers that lack
  some of the calls. A JSON-RPC error object is the server's answer: :class:`~opnode.jsonrpc.errors.RpcError`, not
  retried. Any other HTTP status (401 for a refused JWT) is a :class:`~opnode.jsonrpc.errors.TransportError` at once.
- ``jwt_secret`` sends ``Authorization: Bearer <HS256 token>`` (renewed every 30 s), as op-node to the Engine API.
- Every HTTP request is counted in :class:`RpcStats` and in the ``metrics`` sink (``record_rpc_client(method,
  seconds, error)``) with op-node's labels: an HTTP batch has method ``<batch>``; the error label is ``<nil>``
  (None), ``rpc_<code>`` for a single call answered with an error, ``http_<status>`` or ``<unknown>``.

Responses are read with a size bound so that a hostile or broken server cannot exhaust memory.

The URL picks the transport (:mod:`opnode.jsonrpc.transport`): ``http(s)://`` posts each request, ``ws(s)://`` sends
it over one websocket (:mod:`opnode.jsonrpc.ws`) that also carries :meth:`RpcClient.subscribe` (``eth_subscribe``),
as op-node's client does for a websocket URL. Everything above (batches, retries, limits, metrics, bounds) is the
same for both; "HTTP request" below means one request body on either.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import httpx
import trio

from derivation.protocol.jsonutil import loads_bounded
from opnode.jsonrpc.errors import RpcError, TransportError
from opnode.jsonrpc.jwt import BearerToken
from opnode.jsonrpc.transport import HttpTransport, Reply, Retryable, Transport, is_websocket
from opnode.jsonrpc.ws import Subscription, WsTransport

BATCH_METHOD = "<batch>"  # op-node's method label of an HTTP batch
MAX_RESPONSE_BYTES = 256 * 1024 * 1024
T = TypeVar("T")


class MetricsSink(Protocol):
    def record_rpc_client(self, method: str, seconds: float, error: str | None) -> None: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Transient failures (connection errors, timeouts, HTTP 5xx/429, unreadable bodies) are retried with
    exponential backoff and full jitter: attempt n waits ``uniform(0, min(max_delay, base_delay * 2**n))``."""

    attempts: int = 5
    base_delay: float = 0.1
    max_delay: float = 5.0


NO_RETRY = RetryPolicy(attempts=1)


@dataclass(slots=True)
class RpcStats:
    """What this client cost the provider: HTTP requests, bytes each way, calls by method, retries."""

    http_requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    retries: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # total latency of the HTTP requests carrying each method
    bytes_by_method: Counter[str] = field(default_factory=Counter)  # bytes of requests that carried only that method

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


class _TokenBucket:
    """Calls per second with a burst, like golang.org/x/time/rate as op-node uses it (tokens = calls)."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, max(1, burst)
        self.tokens = float(self.burst)
        self.stamp = trio.current_time()
        self.lock = trio.Lock()

    async def take(self, n: int) -> None:
        n = min(n, self.burst)
        async with self.lock:
            while True:
                now = trio.current_time()
                self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= n:
                    self.tokens -= n
                    return
                await trio.sleep((n - self.tokens) / self.rate)


@dataclass(slots=True)
class _Attempt:
    label: str | None = None  # op-node's error label of the request
    size: int = 0  # the answer's size


class RpcClient:
    """A JSON-RPC client for one HTTP(S) or websocket endpoint. Create and use it inside a trio run; close with
    ``aclose``. ``transport`` replaces httpx's transport of an HTTP endpoint (tests)."""

    def __init__(self, url: str, *, max_batch_size: int = 20, max_concurrency: int = 10, rate_limit: float = 0.0,
                 timeout: float = 10.0, retry: RetryPolicy | None = None, metrics: MetricsSink | None = None,
                 headers: tuple[tuple[str, str], ...] = (), max_response_bytes: int = MAX_RESPONSE_BYTES,
                 jwt_secret: bytes | None = None, rng: random.Random | None = None,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.url = url
        self.max_batch_size = max(1, max_batch_size)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.metrics = metrics
        self.max_response_bytes = max_response_bytes
        self.stats = RpcStats()
        self._limiter = trio.Semaphore(max(1, max_concurrency))
        self._bucket = _TokenBucket(rate_limit, self.max_batch_size) if rate_limit > 0 else None
        self._rng = rng or random.Random()
        self._next_id = 1
        bearer = BearerToken(jwt_secret) if jwt_secret is not None else None
        self._transport: Transport
        if is_websocket(url):
            self._transport = WsTransport(url, timeout=timeout, max_message_bytes=max_response_bytes,
                                          headers=headers, bearer=bearer)
        else:
            self._transport = HttpTransport(url, timeout=timeout, max_response_bytes=max_response_bytes,
                                            headers=headers, bearer=bearer, max_connections=max_concurrency,
                                            transport=transport)

    @property
    def subscriptions(self) -> bool:
        """Whether :meth:`subscribe` works here (a websocket endpoint)."""
        return isinstance(self._transport, WsTransport)

    @property
    def websocket(self) -> WsTransport | None:
        return self._transport if isinstance(self._transport, WsTransport) else None

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> RpcClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------------------------------------ public API

    async def call(self, method: str, *params: Any) -> Any:
        """One call; returns its ``result`` or raises RpcError (server's answer) / TransportError."""
        (res,) = await self.batch([(method, list(params))])
        if isinstance(res, RpcError):
            raise res
        return res

    async def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Many calls, in order. Each element is the call's ``result`` or an RpcError; TransportError if any HTTP
        request fails after its retries."""
        if not calls:
            return []
        results: list[Any] = [None] * len(calls)
        chunks = [range(i, min(i + self.max_batch_size, len(calls))) for i in range(0, len(calls), self.max_batch_size)]
        if len(chunks) == 1:
            await self._send_chunk(calls, chunks[0], results)
            return results
        async with trio.open_nursery() as nursery:
            for chunk in chunks:
                nursery.start_soon(self._send_chunk, calls, chunk, results)
        return results

    async def subscribe(self, kind: str, *params: Any) -> Subscription:
        """``eth_subscribe(kind, *params)`` on a websocket endpoint (retried, metered and rate-limited as a call);
        RpcError when the server refuses it, TransportError on an HTTP endpoint or when the endpoint is down. The
        subscription ends (its ``next`` raises TransportError) when the connection drops: subscribe again."""
        ws = self.websocket
        if ws is None:
            raise TransportError(f"{self.url}: subscriptions need a ws:// or wss:// endpoint")
        (rid,) = self._new_ids(1)
        body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": "eth_subscribe", "params": [kind, *params]},
                          separators=(",", ":")).encode()
        method = "eth_subscribe"

        async def once() -> Subscription:
            async with self._request(body, method, [method]) as attempt:
                reply, sub = await ws.subscribe(body, rid)
                attempt.size = reply.size
                if sub is not None:
                    sub.on_close(lambda: self._unsubscribe(sub))
                    return sub
                item = reply.doc if isinstance(reply.doc, dict) else {}
                if item.get("error") is not None:
                    attempt.label = _rpc_label(item)
                    raise RpcError.from_json(item["error"], method)
                raise Retryable("eth_subscribe answered no subscription id")

        return await self._with_retries(method, once)

    async def _unsubscribe(self, sub: Subscription) -> None:
        await self.call("eth_unsubscribe", sub.id)

    # ------------------------------------------------------------------------------------------------ internals

    def _new_ids(self, n: int) -> list[int]:
        ids = list(range(self._next_id, self._next_id + n))
        self._next_id += n
        return ids

    async def _send_chunk(self, calls: list[tuple[str, list[Any]]], idx: range, results: list[Any]) -> None:
        ids = self._new_ids(len(idx))
        methods = [calls[i][0] for i in idx]
        reqs = [{"jsonrpc": "2.0", "id": rid, "method": calls[i][0], "params": calls[i][1]}
                for rid, i in zip(ids, idx, strict=True)]
        single = len(reqs) == 1
        body = json.dumps(reqs[0] if single else reqs, separators=(",", ":")).encode()
        label_method = methods[0] if single else BATCH_METHOD
        answer = await self._post_with_retries(body, label_method, methods, ids, single)
        for rid, i in zip(ids, idx, strict=True):
            item = answer[rid]
            if item.get("error") is not None:
                results[i] = RpcError.from_json(item["error"], calls[i][0])
            else:
                results[i] = item.get("result")

    async def _with_retries(self, label_method: str, attempt: Callable[[], Awaitable[T]]) -> T:
        n = 0
        while True:
            try:
                return await attempt()
            except Retryable as e:
                n += 1
                if n >= self.retry.attempts:
                    tries = f" failed after {n} attempts" if n > 1 else ""
                    raise TransportError(f"{self.url}: {label_method}{tries}: {e}", e.label, e.status) from None
                self.stats.retries += 1
                cap = min(self.retry.max_delay, self.retry.base_delay * (2 ** (n - 1)))
                await trio.sleep(self._rng.uniform(0, cap))

    async def _post_with_retries(self, body: bytes, label_method: str, methods: list[str], ids: list[int],
                                 single: bool) -> dict[int, dict[str, Any]]:
        async def once() -> dict[int, dict[str, Any]]:
            async with self._request(body, label_method, methods) as attempt:
                reply = await self._transport.exchange(body, ids)
                attempt.size = reply.size
                answer = self._index(reply, ids, single)
                if single:
                    attempt.label = _rpc_label(answer[ids[0]])
                return answer

        return await self._with_retries(label_method, once)

    @asynccontextmanager
    async def _request(self, body: bytes, label_method: str, methods: list[str]) -> AsyncIterator[_Attempt]:
        """One request on the transport: rate limit, concurrency bound, stats and op-node's metrics around it."""
        if self._bucket is not None:
            await self._bucket.take(len(methods))
        async with self._limiter:
            start = trio.current_time()
            attempt = _Attempt()
            try:
                yield attempt
            except (Retryable, TransportError) as e:
                attempt.label = e.label
                raise
            finally:
                elapsed = trio.current_time() - start
                self.stats.http_requests += 1
                self.stats.bytes_sent += len(body)
                self.stats.bytes_received = self._transport.bytes_received
                if attempt.size and len(set(methods)) == 1:
                    self.stats.bytes_by_method[methods[0]] += attempt.size + len(body)
                for m in methods:
                    self.stats.calls[m] += 1
                    self.stats.seconds[m] += elapsed
                if self.metrics is not None:
                    self.metrics.record_rpc_client(label_method, elapsed, attempt.label)

    @staticmethod
    def _index(reply: Reply, ids: list[int], single: bool) -> dict[int, dict[str, Any]]:
        doc = reply.doc
        items = [doc] if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise Retryable("response is neither a JSON-RPC object nor a batch")
        by_id: dict[Any, dict[str, Any]] = {}
        for item in items:
            if isinstance(item, dict) and "id" in item:
                by_id[item["id"]] = item
        if single and isinstance(doc, dict):
            # geth's HTTP client reads a single call's answer without matching the id (servers answer a request
            # they could not parse with id null)
            by_id = {ids[0]: doc}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise Retryable(f"answer lacks {len(missing)} of {len(ids)} calls")
        return by_id


def _rpc_label(item: dict[str, Any]) -> str | None:
    """op-node's error label of one answered call: ``rpc_<code>`` for an error object, None for a result."""
    err = item.get("error")
    return None if err is None else f"rpc_{RpcError.from_json(err).code}"


class SyncRpcClient:
    """A small blocking client for set-up code and tools (anvil, the devnet's summary): one endpoint, calls and
    chunked batches, the same errors and the same response bound; no retries."""

    def __init__(self, url: str, *, timeout: float = 30.0, max_response_bytes: int = MAX_RESPONSE_BYTES):
        self.url = url
        self.max_response_bytes = max_response_bytes
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SyncRpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, *params: Any) -> Any:
        """One call's ``result``; RpcError (the server's answer) or TransportError."""
        item = self._post({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, method)
        if not isinstance(item, dict) or "error" not in item and "result" not in item:
            raise TransportError(f"{self.url}: {method}: not a JSON-RPC response")
        if item.get("error") is not None:
            raise RpcError.from_json(item["error"], method)
        return item.get("result")

    def batch(self, calls: list[tuple[str, list[Any]]], chunk: int = 100) -> list[Any]:
        """The results of many calls, in order, ``chunk`` calls per HTTP request; the first error is raised."""
        out: list[Any] = []
        for start in range(0, len(calls), chunk):
            part = calls[start:start + chunk]
            doc = self._post([{"jsonrpc": "2.0", "id": j, "method": m, "params": list(p)}
                              for j, (m, p) in enumerate(part)], BATCH_METHOD)
            by_id = {r.get("id"): r for r in doc if isinstance(r, dict)} if isinstance(doc, list) else {}
            for j, (m, _) in enumerate(part):
                if j not in by_id:
                    raise TransportError(f"{self.url}: batch answer lacks the call of {m}")
                if by_id[j].get("error") is not None:
                    raise RpcError.from_json(by_id[j]["error"], m)
                out.append(by_id[j].get("result"))
        return out

    def _post(self, doc: Any, what: str) -> Any:
        body = json.dumps(doc, separators=(",", ":")).encode()
        try:
            with self._http.stream("POST", self.url, content=body,
                                   headers={"content-type": "application/json"}) as resp:
                raw = bytearray()
                for piece in resp.iter_bytes():
                    raw += piece
                    if len(raw) > self.max_response_bytes:
                        raise TransportError(f"{self.url}: {what}: response larger than {self.max_response_bytes} "
                                             "bytes")
                status = resp.status_code
        except httpx.HTTPError as e:
            raise TransportError(f"{self.url}: {what}: {type(e).__name__}: {e}") from None
        if status != 200:
            raise TransportError(f"{self.url}: {what}: HTTP {status}", f"http_{status}", status)
        try:
            return loads_bounded(bytes(raw))
        except ValueError as e:
            raise TransportError(f"{self.url}: {what}: response is not JSON ({e})") from None
