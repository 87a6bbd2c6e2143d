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
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import trio

from derivation.protocol.jsonutil import loads_bounded
from opnode.jsonrpc.errors import RpcError, TransportError
from opnode.jsonrpc.jwt import BearerToken

BATCH_METHOD = "<batch>"  # op-node's method label of an HTTP batch
MAX_RESPONSE_BYTES = 256 * 1024 * 1024


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


class _Retryable(Exception):
    def __init__(self, message: str, label: str = "<unknown>", status: int | None = None):
        super().__init__(message)
        self.label = label
        self.status = status


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


class RpcClient:
    """A JSON-RPC client for one HTTP endpoint. Create and use it inside a trio run; close with ``aclose``."""

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
        self._bearer = BearerToken(jwt_secret) if jwt_secret is not None else None
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout), headers=dict(headers), transport=transport,
                                       limits=httpx.Limits(max_connections=max(1, max_concurrency)))

    async def aclose(self) -> None:
        await self._http.aclose()

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

    # ------------------------------------------------------------------------------------------------ internals

    async def _send_chunk(self, calls: list[tuple[str, list[Any]]], idx: range, results: list[Any]) -> None:
        ids = []
        for _ in idx:
            ids.append(self._next_id)
            self._next_id += 1
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

    async def _post_with_retries(self, body: bytes, label_method: str, methods: list[str], ids: list[int],
                                 single: bool) -> dict[int, dict[str, Any]]:
        attempt = 0
        while True:
            try:
                return await self._post_once(body, label_method, methods, ids, single)
            except _Retryable as e:
                attempt += 1
                if attempt >= self.retry.attempts:
                    tries = f" failed after {attempt} attempts" if attempt > 1 else ""
                    raise TransportError(f"{self.url}: {label_method}{tries}: {e}", e.label, e.status) from None
                self.stats.retries += 1
                cap = min(self.retry.max_delay, self.retry.base_delay * (2 ** (attempt - 1)))
                await trio.sleep(self._rng.uniform(0, cap))

    async def _post_once(self, body: bytes, label_method: str, methods: list[str], ids: list[int],
                         single: bool) -> dict[int, dict[str, Any]]:
        if self._bucket is not None:
            await self._bucket.take(len(ids))
        async with self._limiter:
            start = trio.current_time()
            label = None
            try:
                raw = await self._http_post(body)
                if len(set(methods)) == 1:
                    self.stats.bytes_by_method[methods[0]] += len(raw) + len(body)
                answer = self._parse(raw, ids, single)
                if single:
                    label = _rpc_label(answer[ids[0]])
                return answer
            except (_Retryable, TransportError) as e:
                label = e.label
                raise
            finally:
                elapsed = trio.current_time() - start
                self.stats.http_requests += 1
                self.stats.bytes_sent += len(body)
                for m in methods:
                    self.stats.calls[m] += 1
                    self.stats.seconds[m] += elapsed
                if self.metrics is not None:
                    self.metrics.record_rpc_client(label_method, elapsed, label)

    async def _http_post(self, body: bytes) -> bytes:
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
                                raise _Retryable(f"response larger than {self.max_response_bytes} bytes")
                            chunks.append(chunk)
                    finally:
                        self.stats.bytes_received += resp.num_bytes_downloaded
                    raw = b"".join(chunks)
                    status = resp.status_code
        except trio.TooSlowError:
            raise _Retryable(f"no answer within {self.timeout}s") from None
        except httpx.HTTPError as e:  # httpx timeouts have an empty message: the class names them
            raise _Retryable(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__) from None
        if status >= 500 or status == 429:
            raise _Retryable(f"HTTP {status}", f"http_{status}", status)
        if status != 200:
            text = raw[:200].decode("utf-8", "replace").strip()
            raise TransportError(f"{self.url}: HTTP {status}: {text}", f"http_{status}", status)
        return raw

    def _parse(self, raw: bytes, ids: list[int], single: bool) -> dict[int, dict[str, Any]]:
        try:
            doc = loads_bounded(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise _Retryable(f"response is not JSON ({e}; {len(raw)} bytes)") from None
        items = [doc] if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise _Retryable("response is neither a JSON-RPC object nor a batch")
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
            raise _Retryable(f"answer lacks {len(missing)} of {len(ids)} calls")
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
