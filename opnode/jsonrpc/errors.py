"""The errors of JSON-RPC, for servers and clients alike: one :class:`RpcError` (code, message, data: the error object
of JSON-RPC 2.0) and :class:`TransportError` (the endpoint could not be reached or answered garbage).

Codes and texts are go-ethereum's ``rpc`` package (op-geth rpc/errors.go, rpc/json.go, rpc/handler.go at
ethereum-optimism/op-geth@21010bb6 and @57bd0058, read 2026-12-05): op-node serves its API through that package, so
clients (proxyd, op-batcher, op-conductor) see these exact codes and messages. The Engine API codes are
execution-apis src/engine/common.md#errors.
"""

from __future__ import annotations

from typing import Any

from derivation.protocol.errors import TemporaryError

# JSON-RPC 2.0
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# go-ethereum: errcodeDefault (a handler's plain error), errcodeTimeout, errcodeResponseTooLarge
SERVER_ERROR = -32000
TIMEOUT_ERROR = -32002
RESPONSE_TOO_LARGE = -32003
# Engine API
UNKNOWN_PAYLOAD = -38001
INVALID_FORKCHOICE_STATE = -38002
INVALID_PAYLOAD_ATTRIBUTES = -38003
TOO_LARGE_REQUEST = -38004
UNSUPPORTED_FORK = -38005

# go-ethereum's texts
MSG_PARSE_ERROR = "parse error"
MSG_INVALID_REQUEST = "invalid request"
MSG_EMPTY_BATCH = "empty batch"
MSG_BATCH_TOO_LARGE = "batch too large"
MSG_RESPONSE_TOO_LARGE = "response too large"
MSG_TIMEOUT = "request timed out"
MSG_INTERNAL = "internal error"
MSG_NON_ARRAY_ARGS = "non-array args"


def method_not_found(method: str) -> str:
    return f"the method {method} does not exist/is not available"


def missing_argument(index: int) -> str:
    return f"missing value for required argument {index}"


def too_many_arguments(most: int) -> str:
    return f"too many arguments, want at most {most}"


def invalid_argument(index: int, detail: str) -> str:
    return f"invalid argument {index}: {detail}"


class RpcError(Exception):
    """A JSON-RPC error object: what a server answers for one call, and what a client raises for it.

    A handler raises it to send ``{code, message, data}`` as they are (``SERVER_ERROR`` is what go-ethereum sends
    for a plain error). A client sets ``method`` to the call it made; ``str()`` then names it."""

    def __init__(self, code: int, message: str, data: Any = None, *, method: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data
        self.method = method

    def __str__(self) -> str:
        if self.method is None:
            return self.message
        return f"{self.method}: RPC error {self.code}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            out["data"] = self.data
        return out

    @classmethod
    def from_json(cls, err: Any, method: str | None = None) -> RpcError:
        """The error object of a response, however malformed (a non-object or a non-integer code keeps its text)."""
        if not isinstance(err, dict):
            return cls(0, str(err), method=method)
        code = err.get("code", 0)
        if not isinstance(code, int) or isinstance(code, bool):
            code = 0
        return cls(code, str(err.get("message", "")), err.get("data"), method=method)


class InvalidParams(RpcError):
    """``-32602``: the parameters could not be decoded (go-ethereum's ``invalidParamsError``)."""

    def __init__(self, message: str):
        super().__init__(INVALID_PARAMS, message)


class TransportError(TemporaryError):
    """The endpoint could not be reached, refused the request (HTTP status) or answered something that is not a
    JSON-RPC response; retrying later may help. ``label`` is op-node's ``rpc_client_responses_total`` error label
    (``http_<status>`` or ``<unknown>``); ``status`` the HTTP status when there was one."""

    def __init__(self, message: str, label: str = "<unknown>", status: int | None = None):
        super().__init__(message)
        self.label = label
        self.status = status
