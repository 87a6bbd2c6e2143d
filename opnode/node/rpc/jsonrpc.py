"""JSON-RPC 2.0 over HTTP POST as go-ethereum's ``rpc`` package serves it (op-node registers its APIs there), so
clients see the same codes and messages:

- body not JSON → ``-32700`` "parse error"; not a request object, bad ``jsonrpc``/``method``/``id`` → ``-32600``
  "invalid request"; ``[]`` → ``-32600`` "empty batch";
- unknown method (admin methods without ``--rpc.enable-admin`` included) → ``-32601`` "the method X does not
  exist/is not available";
- wrong parameters → ``-32602`` ("missing value for required argument 0", "too many arguments, want at most 1",
  "invalid argument 0: …");
- an error a handler reports (:class:`RPCError`, e.g. "not found", "safe head database not enabled") → its code,
  ``-32000`` by default; any other exception is a bug: ``-32603`` "internal error", logged with its traceback, never
  sent;
- a batch above ``max_batch`` items → one ``-32600`` "batch too large" carrying the first call's id (geth
  ``respondWithBatchTooLarge``); once a batch's responses exceed ``max_batch_response_bytes``, the remaining calls
  get ``-32003`` "response too large";
- notifications (no ``id``) get no response.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import trio

from derivation.protocol.jsonutil import loads_bounded

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000  # go-ethereum errcodeDefault: what a handler's plain error becomes
TIMEOUT_ERROR = -32002
RESPONSE_TOO_LARGE = -32003

log = logging.getLogger("opnode.node.rpc")


class RPCError(Exception):
    """An error a handler returns to the caller (message and code are sent as they are)."""

    def __init__(self, message: str, code: int = SERVER_ERROR, data=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.data = data

    def to_json(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.data is not None:
            out["data"] = self.data
        return out


class InvalidParams(RPCError):
    def __init__(self, message: str):
        super().__init__(message, INVALID_PARAMS)


@dataclass(frozen=True, slots=True)
class Method:
    """A handler and its parameter count: ``required`` positional parameters and up to ``optional`` more.
    ``fn`` receives the raw JSON values and decodes them (raising :class:`InvalidParams`)."""

    fn: Callable[..., Awaitable]
    required: int = 0
    optional: int = 0


@dataclass(frozen=True, slots=True)
class Limits:
    max_body_bytes: int = 5 * 1024 * 1024  # go-ethereum defaultBodyLimit
    max_batch: int = 1000  # go-ethereum node.DefaultConfig BatchRequestLimit
    max_batch_response_bytes: int = 25 * 1000 * 1000  # BatchResponseMaxSize
    handler_timeout: float = 30.0


def _error(rid, code: int, message: str) -> dict:
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}


def _valid_id(rid) -> bool:
    return rid is None or (isinstance(rid, (str, int, float)) and not isinstance(rid, bool))


class Dispatcher:
    """Decodes a request body, runs the handlers, encodes the response. ``on_call(method, seconds)`` is told about
    every call of a registered method (the ``rpc_server_*`` metrics; unknown names are not recorded, so garbage
    cannot grow the label set)."""

    def __init__(self, methods: dict[str, Method], limits: Limits = Limits(),
                 on_call: Callable[[str, float], None] | None = None):
        self.methods = methods
        self.limits = limits
        self.on_call = on_call

    async def handle_body(self, body: bytes) -> bytes | None:
        """The response body for a request body (None when there is nothing to send: only notifications)."""
        try:
            msg = loads_bounded(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return _dump(_error(None, PARSE_ERROR, "parse error"))
        if isinstance(msg, list):
            return await self._batch(msg)
        out = await self.handle(msg)
        return None if out is None else _encode(out)

    async def _batch(self, msgs: list) -> bytes | None:
        if not msgs:
            return _dump(_error(None, INVALID_REQUEST, "empty batch"))
        if len(msgs) > self.limits.max_batch:
            first = next((m.get("id") for m in msgs if isinstance(m, dict) and "id" in m and _valid_id(m["id"])),
                         None)
            return _dump([_error(first, INVALID_REQUEST, "batch too large")])
        parts: list[bytes] = []
        size = 0
        for m in msgs:
            if size > self.limits.max_batch_response_bytes:
                if isinstance(m, dict) and "id" in m:
                    parts.append(_dump(_error(m["id"] if _valid_id(m["id"]) else None, RESPONSE_TOO_LARGE,
                                              "response too large")))
                continue
            out = await self.handle(m)
            if out is not None:
                encoded = _encode(out)
                size += len(encoded)
                parts.append(encoded)
        if not parts:
            return None
        return b"[" + b",".join(parts) + b"]"

    async def handle(self, req) -> dict | None:
        """One request object → its response object (None for a notification)."""
        if not isinstance(req, dict):
            return _error(None, INVALID_REQUEST, "invalid request")
        rid = req.get("id")
        notification = "id" not in req
        if (req.get("jsonrpc") != "2.0" or not isinstance(req.get("method"), str) or not _valid_id(rid)):
            return _error(rid if _valid_id(rid) else None, INVALID_REQUEST, "invalid request")
        name = req["method"]
        method = self.methods.get(name)
        if method is None:
            out = _error(rid, METHOD_NOT_FOUND, f"the method {name} does not exist/is not available")
            return None if notification else out
        started = time.monotonic()
        try:
            params = req.get("params")
            if params is None:
                params = []
            if not isinstance(params, list):
                raise InvalidParams("non-array args")
            if len(params) > method.required + method.optional:
                raise InvalidParams(f"too many arguments, want at most {method.required + method.optional}")
            if len(params) < method.required:
                raise InvalidParams(f"missing value for required argument {len(params)}")
            with trio.move_on_after(self.limits.handler_timeout) as scope:
                result = await method.fn(*params)
            if scope.cancelled_caught:
                raise RPCError("request timed out", TIMEOUT_ERROR)
            out = {"jsonrpc": "2.0", "id": rid, "result": result}
        except RPCError as e:
            out = {"jsonrpc": "2.0", "id": rid, "error": e.to_json()}
        except Exception:  # a bug: the caller gets a code, the log gets the traceback
            log.exception("internal error in %s", name)
            out = _error(rid, INTERNAL_ERROR, "internal error")
        finally:
            if self.on_call is not None:
                self.on_call(name, time.monotonic() - started)
        return None if notification else out


def _dump(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _encode(out: dict) -> bytes:
    try:
        return _dump(out)
    except (TypeError, ValueError):  # a handler returned something JSON cannot hold: a bug
        log.exception("cannot encode the response to request id %r", out.get("id"))
        return _dump(_error(out.get("id"), INTERNAL_ERROR, "internal error"))
