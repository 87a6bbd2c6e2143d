"""One JSON-RPC 2.0 server toolkit: a :class:`Dispatcher` (request validation, batch rules, dispatch to a method
table, error mapping) and :class:`JsonRpcApp` (the HTTP rules, optional JWT), as go-ethereum's ``rpc`` package
serves them (op-geth rpc/json.go, rpc/handler.go, rpc/http.go, node/jwt_handler.go; read 2026-12-05). op-node and
op-geth both serve through that package, so the node and the embedded engine answer every client as they would.

JSON-RPC:
- body not JSON → ``-32700`` "parse error"; not a request object, ``jsonrpc`` not "2.0", no string ``method``, an
  ``id`` that is an object or an array → ``-32600`` "invalid request" (geth ``hasValidID``: any other JSON value is
  an id and is echoed as sent); ``[]`` → ``-32600`` "empty batch";
- unknown method → ``-32601`` "the method X does not exist/is not available";
- parameters: not an array → ``-32602`` "non-array args"; the count is checked against the method's signature with
  geth's texts "missing value for required argument N" / "too many arguments, want at most N" (never Python's
  "takes 2 positional arguments"); a handler's :class:`~opnode.jsonrpc.errors.InvalidParams` → ``-32602``;
- a handler's :class:`~opnode.jsonrpc.errors.RpcError` → its code and message (and ``data``); any other exception
  is a bug: ``-32603`` "internal error", logged with its traceback, never sent; a handler slower than
  ``Limits.handler_timeout`` → ``-32002`` "request timed out";
- a batch above ``max_batch`` items → one ``-32600`` "batch too large" carrying the first call's id (geth
  ``respondWithBatchTooLarge``); once a batch's responses exceed ``max_batch_response_bytes``, the remaining calls
  get ``-32003`` "response too large"; notifications (no ``id``) get no response.

HTTP (:class:`JsonRpcApp`): with a JWT secret every request first needs a valid bearer token (else 401 with
geth's text: "missing token", "stale token", …); ``POST`` on any path with a JSON content type carries JSON-RPC; a
body over the limit → 413 "content length too large (N>M)"; another content type → 415 "invalid content type, only
application/json is supported"; ``PUT``/``DELETE``/other → 405; a bodyless ``GET`` → 200 with an empty body (geth's
health check for load balancers) unless ``get_routes`` names the path. Every answer, even to garbage, is a status
line and a short body: never a traceback.
"""

from __future__ import annotations

import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import trio

from derivation.protocol.jsonutil import loads_bounded
from opnode.jsonrpc.errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    MSG_BATCH_TOO_LARGE,
    MSG_EMPTY_BATCH,
    MSG_INTERNAL,
    MSG_INVALID_REQUEST,
    MSG_NON_ARRAY_ARGS,
    MSG_PARSE_ERROR,
    MSG_RESPONSE_TOO_LARGE,
    MSG_TIMEOUT,
    PARSE_ERROR,
    RESPONSE_TOO_LARGE,
    TIMEOUT_ERROR,
    InvalidParams,
    RpcError,
    method_not_found,
    missing_argument,
    too_many_arguments,
)
from opnode.jsonrpc.http import Receive, Scope, Send, header_map, http_request, send_response
from opnode.jsonrpc.jwt import JWTError, check_authorization

log = logging.getLogger("opnode.jsonrpc")
ACCEPTED_CONTENT_TYPES = ("application/json", "application/json-rpc", "application/jsonrequest")  # geth
TEXT = "text/plain; charset=utf-8"
PARSE_IN_THREAD_BYTES = 256 * 1024  # larger bodies are parsed off the event loop (other requests keep flowing)


@dataclass(frozen=True, slots=True)
class Method:
    """A handler and its parameter count: ``required`` positional parameters and up to ``optional`` more. ``fn``
    (sync or async) receives the raw JSON values and decodes them, raising :class:`InvalidParams`."""

    fn: Callable[..., Any]
    required: int = 0
    optional: int = 0

    @classmethod
    def of(cls, fn: Callable[..., Any]) -> Method:
        """The counts read from ``fn``'s signature: parameters without a default are required."""
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        required = sum(1 for p in params if p.default is p.empty)
        return cls(fn, required, len(params) - required)


def methods_of(table: Mapping[str, Callable[..., Any]]) -> dict[str, Method]:
    """A method table of plain functions, each counted by :meth:`Method.of`."""
    return {name: fn if isinstance(fn, Method) else Method.of(fn) for name, fn in table.items()}


@dataclass(frozen=True, slots=True)
class Limits:
    """geth's defaults for a public endpoint (node.DefaultConfig, rpc defaultBodyLimit)."""

    max_body_bytes: int = 5 * 1024 * 1024
    max_batch: int = 1000
    max_batch_response_bytes: int = 25 * 1000 * 1000
    handler_timeout: float | None = 30.0


# op-geth node/defaults.go: engineAPIBodyLimit, engineAPIBatchItemLimit, engineAPIBatchResponseSizeLimit
ENGINE_LIMITS = Limits(max_body_bytes=128 * 1024 * 1024, max_batch=2000, max_batch_response_bytes=250 * 1000 * 1000,
                       handler_timeout=None)

Runner = Callable[[Callable[..., Any], list[Any]], Awaitable[Any]]


async def run_inline(fn: Callable[..., Any], params: list[Any]) -> Any:
    """Call a handler on the event loop (awaiting it if it is async)."""
    out = fn(*params)
    if inspect.isawaitable(out):
        out = await out
    return out


def _error(rid: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}


def _valid_id(rid: Any) -> bool:
    """geth ``hasValidID``: any JSON value but an object or an array (null included)."""
    return not isinstance(rid, (dict, list))


class Dispatcher:
    """Decodes a request body, runs the handlers, encodes the response. ``run(fn, params)`` runs one handler
    (default: on the event loop; the engine runs them in a worker thread under its lock). ``on_call(method,
    seconds)`` is told about every call of a registered method (``rpc_server_*`` metrics; unknown names are not
    recorded, so garbage cannot grow the label set)."""

    def __init__(self, methods: Mapping[str, Method], limits: Limits = Limits(),
                 on_call: Callable[[str, float], None] | None = None, run: Runner = run_inline):
        self.methods = methods
        self.limits = limits
        self.on_call = on_call
        self.run = run

    async def handle_body(self, body: bytes) -> bytes | None:
        """The response body for a request body (None when there is nothing to send: only notifications)."""
        try:
            if len(body) > PARSE_IN_THREAD_BYTES:
                msg = await trio.to_thread.run_sync(loads_bounded, body)
            else:
                msg = loads_bounded(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return _dump(_error(None, PARSE_ERROR, MSG_PARSE_ERROR))
        if isinstance(msg, list):
            return await self._batch(msg)
        out = await self.handle(msg)
        return None if out is None else _encode(out)

    async def _batch(self, msgs: list[Any]) -> bytes | None:
        if not msgs:
            return _dump(_error(None, INVALID_REQUEST, MSG_EMPTY_BATCH))
        if len(msgs) > self.limits.max_batch:
            first = next((m["id"] for m in msgs if isinstance(m, dict) and "id" in m and _valid_id(m["id"])), None)
            return _dump([_error(first, INVALID_REQUEST, MSG_BATCH_TOO_LARGE)])
        parts: list[bytes] = []
        size = 0
        for m in msgs:
            if size > self.limits.max_batch_response_bytes:
                if isinstance(m, dict) and "id" in m:
                    rid = m["id"] if _valid_id(m["id"]) else None
                    parts.append(_dump(_error(rid, RESPONSE_TOO_LARGE, MSG_RESPONSE_TOO_LARGE)))
                continue
            out = await self.handle(m)
            if out is not None:
                encoded = _encode(out)
                size += len(encoded)
                parts.append(encoded)
        if not parts:
            return None
        return b"[" + b",".join(parts) + b"]"

    async def handle(self, req: Any) -> dict[str, Any] | None:
        """One request object → its response object (None for a notification)."""
        if not isinstance(req, dict):
            return _error(None, INVALID_REQUEST, MSG_INVALID_REQUEST)
        rid = req.get("id")
        if req.get("jsonrpc") != "2.0" or not isinstance(req.get("method"), str) or not _valid_id(rid):
            return _error(rid if _valid_id(rid) else None, INVALID_REQUEST, MSG_INVALID_REQUEST)
        notification = "id" not in req
        name = req["method"]
        method = self.methods.get(name)
        if method is None:
            return None if notification else _error(rid, METHOD_NOT_FOUND, method_not_found(name))
        started = time.monotonic()
        try:
            result = await self._call(method, req.get("params"))
            out = {"jsonrpc": "2.0", "id": rid, "result": result}
        except RpcError as e:
            out = {"jsonrpc": "2.0", "id": rid, "error": e.to_json()}
        except Exception:  # a bug: the caller gets a code, the log gets the traceback
            log.exception("internal error in %s", name)
            out = _error(rid, INTERNAL_ERROR, MSG_INTERNAL)
        finally:
            if self.on_call is not None:
                self.on_call(name, time.monotonic() - started)
        return None if notification else out

    async def _call(self, method: Method, params: Any) -> Any:
        if params is None:
            params = []
        if not isinstance(params, list):
            raise InvalidParams(MSG_NON_ARRAY_ARGS)
        if len(params) > method.required + method.optional:
            raise InvalidParams(too_many_arguments(method.required + method.optional))
        if len(params) < method.required:
            raise InvalidParams(missing_argument(len(params)))
        if self.limits.handler_timeout is None:
            return await self.run(method.fn, params)
        with trio.move_on_after(self.limits.handler_timeout) as scope:
            return await self.run(method.fn, params)
        if scope.cancelled_caught:
            raise RpcError(TIMEOUT_ERROR, MSG_TIMEOUT)


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _encode(out: dict[str, Any]) -> bytes:
    try:
        return _dump(out)
    except (TypeError, ValueError):  # a handler returned something JSON cannot hold: a bug
        log.exception("cannot encode the response to request id %r", out.get("id"))
        return _dump(_error(out.get("id"), INTERNAL_ERROR, MSG_INTERNAL))


class JsonRpcApp:
    """The ASGI application around a :class:`Dispatcher`: HTTP rules of geth's ``rpc.Server.ServeHTTP``, with the
    ``jwt_secret`` check of geth's ``jwtHandler`` in front when given. ``get_routes`` maps a ``GET`` path to a
    fixed ``(body, content type)`` (the node's ``/healthz``)."""

    def __init__(self, dispatcher: Dispatcher, *, jwt_secret: bytes | None = None,
                 get_routes: Mapping[str, tuple[bytes, str]] | None = None):
        self.dispatcher = dispatcher
        self.jwt_secret = jwt_secret
        self.get_routes = dict(get_routes or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await http_request(scope, receive, send):
            return
        headers = header_map(scope)
        if self.jwt_secret is not None:
            try:
                check_authorization(self.jwt_secret, headers.get("authorization"))
            except JWTError as e:
                await send_response(send, 401, f"{e}\n".encode(), TEXT)
                return
        status, body, ctype = self._precheck(scope, headers)
        if status:
            await send_response(send, status, body, ctype)
            return
        read = await self._read_body(receive)
        if read is None:  # the client went away
            return
        if isinstance(read, tuple):
            await send_response(send, *read)
            return
        out = await self.dispatcher.handle_body(read)
        await send_response(send, 200, out if out is not None else b"", "application/json")

    def _precheck(self, scope: Scope, headers: dict[str, str]) -> tuple[int, bytes, str]:
        """An answer before the body is read (status 0: go on)."""
        method = scope["method"]
        if method == "GET" and scope.get("path") in self.get_routes:
            return (200, *self.get_routes[scope["path"]])
        if method == "GET" and not scope.get("query_string") and headers.get("content-length", "0") == "0":
            return 200, b"", TEXT
        if method != "POST":
            return 405, b"method not allowed\n", TEXT
        limit = self.dispatcher.limits.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return 413, f"content length too large ({declared}>{limit})\n".encode(), TEXT
        mime = headers.get("content-type", "").split(";")[0].strip().lower()
        if mime not in ACCEPTED_CONTENT_TYPES:
            return 415, b"invalid content type, only application/json is supported\n", TEXT
        return 0, b"", ""

    async def _read_body(self, receive: Receive) -> bytes | tuple[int, bytes, str] | None:
        """The body, the 413 answer once it grows past the limit, or None if the client disconnected."""
        limit = self.dispatcher.limits.max_body_bytes
        body = bytearray()
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return None
            body += msg.get("body", b"")
            if len(body) > limit:
                size = len(body)
                # read (and drop) a bounded rest, so that a streaming client gets to see the answer
                while msg.get("more_body") and size <= 4 * limit:
                    msg = await receive()
                    size += len(msg.get("body", b""))
                return 413, f"content length too large ({size}>{limit})\n".encode(), TEXT
            if not msg.get("more_body"):
                return bytes(body)
