"""JSON-RPC over HTTP for trio: batching, bounded concurrency, rate limiting, timeouts and jittered retries.

What op-node does (op-service/client, op-service/sources/batching), in one small object:

- ``batch`` splits calls into HTTP requests of at most ``max_batch_size`` calls and sends them concurrently, at most
  ``max_concurrency`` HTTP requests in flight.
- ``rate_limit`` (calls per second, burst ``max_batch_size``, as op-node's rate-limited client) paces calls.
- Transport failures are retried with exponential backoff and full jitter: connection errors, timeouts, HTTP 5xx and
  429, bodies that are not complete JSON, and batch answers that lack some of the calls. A JSON-RPC error object is
  the server's answer and is returned, not retried.
- Every HTTP request is counted in :class:`RpcStats` (requests, bytes on the wire, calls per method) and in the
  ``rpc_client_*`` metrics (an HTTP batch has method ``<batch>``, as in op-node).

Responses are read with a size bound so that a hostile or broken server cannot exhaust memory.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import trio

from derivation.protocol.errors import TemporaryError
from derivation.protocol.jsonutil import loads_bounded
from opnode.node.l1.config import RetryPolicy
from opnode.node.metrics import BATCH_METHOD, Metrics

MAX_RESPONSE_BYTES = 256 * 1024 * 1024


class RpcError(Exception):
    """A JSON-RPC error object returned by the server for one call."""

    def __init__(self, method: str, code: int, message: str, data: Any = None):
        super().__init__(f"{method}: RPC error {code}: {message}")
        self.method, self.code, self.message, self.data = method, code, message, data


class TransportError(TemporaryError):
    """The endpoint could not be reached or answered garbage, after all retries."""

    def __init__(self, message: str, label: str = "<unknown>"):
        super().__init__(message)
        self.label = label  # op-node's error label for rpc_client_responses_total


class _Retryable(Exception):
    def __init__(self, message: str, label: str = "<unknown>"):
        super().__init__(message)
        self.label = label


@dataclass(slots=True)
class RpcStats:
    """What this client cost the provider: HTTP requests, bytes each way, calls by method, retries."""

    http_requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    retries: int = 0
    calls: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)  # total latency of the HTTP requests carrying each method
    bytes_by_method: Counter = field(default_factory=Counter)  # bytes of requests that carried only that method

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
                 timeout: float = 10.0, retry: RetryPolicy | None = None, metrics: Metrics | None = None,
                 headers: tuple[tuple[str, str], ...] = (), max_response_bytes: int = MAX_RESPONSE_BYTES,
                 rng: random.Random | None = None):
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
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout), headers=dict(headers),
                                       limits=httpx.Limits(max_connections=max(1, max_concurrency)))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.aclose()

    # ------------------------------------------------------------------------------------------------ public API

    async def call(self, method: str, *params) -> Any:
        """One call; returns its ``result`` or raises RpcError (server's answer) / TransportError."""
        (res,) = await self.batch([(method, list(params))])
        if isinstance(res, RpcError):
            raise res
        return res

    async def batch(self, calls: list[tuple[str, list]]) -> list[Any]:
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

    async def _send_chunk(self, calls, idx: range, results: list) -> None:
        ids = []
        for _ in idx:
            ids.append(self._next_id)
            self._next_id += 1
        reqs = [{"jsonrpc": "2.0", "id": rid, "method": calls[i][0], "params": calls[i][1]} for rid, i in zip(ids, idx, strict=True)]
        single = len(reqs) == 1
        body = json.dumps(reqs[0] if single else reqs, separators=(",", ":")).encode()
        label_method = reqs[0]["method"] if single else BATCH_METHOD
        answer = await self._post_with_retries(body, label_method, [r["method"] for r in reqs], ids, single)
        for rid, i in zip(ids, idx, strict=True):
            item = answer[rid]
            if "error" in item and item["error"] is not None:
                err = item["error"] if isinstance(item["error"], dict) else {"message": str(item["error"])}
                code = err.get("code", 0)
                results[i] = RpcError(calls[i][0], code if isinstance(code, int) else 0, str(err.get("message", "")),
                                      err.get("data"))
            else:
                results[i] = item.get("result")

    async def _post_with_retries(self, body: bytes, label_method: str, methods: list[str], ids: list[int],
                                 single: bool) -> dict[int, dict]:
        attempt = 0
        while True:
            try:
                return await self._post_once(body, label_method, methods, ids, single)
            except _Retryable as e:
                attempt += 1
                if attempt >= self.retry.attempts:
                    raise TransportError(f"{self.url}: {label_method} failed after {attempt} attempts: {e}",
                                         e.label) from None
                self.stats.retries += 1
                cap = min(self.retry.max_delay, self.retry.base_delay * (2 ** (attempt - 1)))
                await trio.sleep(self._rng.uniform(0, cap))

    async def _post_once(self, body: bytes, label_method: str, methods: list[str], ids: list[int],
                         single: bool) -> dict[int, dict]:
        if self._bucket is not None:
            await self._bucket.take(len(ids))
        async with self._limiter:
            start = trio.current_time()
            label = None
            try:
                raw = await self._http_post(body)
                if len(set(methods)) == 1:
                    self.stats.bytes_by_method[methods[0]] += len(raw) + len(body)
                return self._parse(raw, ids, single)
            except _Retryable as e:
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
        try:
            with trio.fail_after(self.timeout):
                async with self._http.stream("POST", self.url, content=body,
                                             headers={"content-type": "application/json"}) as resp:
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
        except httpx.HTTPError as e:
            raise _Retryable(f"{type(e).__name__}: {e}") from None
        if status >= 500 or status == 429:
            raise _Retryable(f"HTTP {status}", f"http_{status}")
        if status != 200:
            raise TransportError(f"{self.url}: HTTP {status}: {raw[:200]!r}", f"http_{status}")
        return raw

    def _parse(self, raw: bytes, ids: list[int], single: bool) -> dict[int, dict]:
        try:
            doc = loads_bounded(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise _Retryable(f"response is not JSON ({e}; {len(raw)} bytes)") from None
        items = [doc] if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise _Retryable("response is neither a JSON-RPC object nor a batch")
        by_id = {}
        for item in items:
            if isinstance(item, dict) and "id" in item:
                by_id[item["id"]] = item
        if single and len(items) == 1 and isinstance(items[0], dict) and "error" in items[0] and items[0].get("id") is None:
            by_id[ids[0]] = items[0]  # servers answer a request they could not parse with id null
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise _Retryable(f"answer lacks {len(missing)} of {len(ids)} calls")
        return by_id
