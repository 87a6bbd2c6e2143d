"""An HTTP proxy for fault tests: forwards to an upstream (anvil or a beacon shim) and misbehaves on request."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import trio

from opnode.jsonrpc.http import lifespan, read_body, send_response, serve_url


@dataclass
class Fault:
    """``action`` on matching requests, ``times`` times (-1: always).

    match(what) gets the JSON-RPC method names of a POST (list) or the path of a GET (str). Actions: ``status``
    (answer ``status`` with a short body), ``timeout`` (stall), ``truncate`` (cut the JSON in half), ``mutate``
    (``mutate(json) -> json`` on the upstream answer).
    """

    match: Callable[[Any], bool]
    action: str
    times: int = 1
    status: int = 500
    mutate: Callable[[Any], Any] | None = None
    hits: int = 0


class FaultProxy:
    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.faults: list[Fault] = []
        self.url: str | None = None
        self.requests = 0
        self.last_headers: dict[bytes, bytes] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0  # seconds added to every answer
        self._http: httpx.AsyncClient | None = None

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    async def serve(self, *, task_status=trio.TASK_STATUS_IGNORED):
        async with httpx.AsyncClient(timeout=60) as http:
            self._http = http
            async with trio.open_nursery() as nursery:
                self.url = await nursery.start(partial(serve_url, self))
                task_status.started(self.url)

    def _fault_for(self, what) -> Fault | None:
        for f in self.faults:
            if f.times != 0 and f.match(what):
                if f.times > 0:
                    f.times -= 1
                f.hits += 1
                return f
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        body = await read_body(receive)
        self.requests += 1
        self.last_headers = dict(scope.get("headers") or [])
        if scope["method"] == "POST":
            doc = json.loads(body)
            what = [d["method"] for d in doc] if isinstance(doc, list) else [doc["method"]]
        else:
            what = scope["path"]
        fault = self._fault_for(what)
        if fault is not None and fault.action == "status":
            await send_response(send, fault.status, b'{"error":"injected"}')
            return
        if fault is not None and fault.action == "timeout":
            await trio.sleep(30)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self._forward(scope, send, body, fault)
        finally:
            self.in_flight -= 1

    async def _forward(self, scope, send, body, fault):
        if self.delay:
            await trio.sleep(self.delay)
        url = self.upstream + scope["path"]
        qs = scope.get("query_string", b"").decode()
        if qs:
            url += "?" + qs
        r = await self._http.request(scope["method"], url, content=body if body else None,
                                     headers={"content-type": "application/json"})
        out = r.content
        if fault is not None and fault.action == "mutate":
            out = json.dumps(fault.mutate(json.loads(out))).encode()
        if fault is not None and fault.action == "truncate":
            out = out[: len(out) // 2]
        await send_response(send, r.status_code, out)
