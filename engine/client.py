"""The async Engine API client the node drives its execution engine with (trio + httpx, JWT per request).

Method versions follow op-node (specs: derivation.md "Engine API usage", exec-engine.md "Engine API";
op-node ``eth.EngineAPIVersions``), chosen by the
timestamp of the payload concerned:
- ``forkchoiceUpdated``: V3 from Ecotone, V2 from Canyon, V1 before (geth rejects V2 before Shanghai); without
  attributes V3, as op-node.
- ``getPayload``: V5 from Karst (Osaka on L2; optimism PR #21337, op-node v1.19.1), V4 from Isthmus, V3 from
  Ecotone, else V2. The payload envelope keeps its Isthmus shape; newPayload and forkchoiceUpdated do not change.
- ``newPayload``: V4 from Isthmus (``executionRequests = []``), V3 from Ecotone (``expectedBlobVersionedHashes =
  []`` and the beacon root), else V2.
The transport is the project's one JSON-RPC client (:mod:`opnode.jsonrpc.client`: JWT per request, bounded
responses, no retries: the controller decides when to try again). Transport failures (connection, timeout, HTTP
errors, garbage) are :class:`EngineTransportError`, a ``TemporaryError``: retry. Engine API errors are
:class:`~opnode.jsonrpc.errors.RpcError` subclasses that keep their code.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from derivation.protocol.attributes import PayloadAttributes
from derivation.protocol.hexutil import from_hex, quantity, to_hex
from derivation.protocol.payload import ExecutionPayloadEnvelope, PayloadShapeError
from derivation.protocol.rollup_config import Fork, RollupConfig
from opnode.jsonrpc.client import NO_RETRY, RpcClient
from opnode.jsonrpc.errors import RpcError, TransportError


class EngineTransportError(TransportError):
    """The engine could not be reached or did not answer in time; retry later."""


class EngineAuthError(EngineTransportError):
    """The engine refused the JWT (HTTP 401): the secrets differ or the clocks are more than 60 s apart."""


class EngineRPCError(RpcError):
    code = 0


class UnknownPayload(EngineRPCError):
    code = -38001


class InvalidForkchoiceState(EngineRPCError):
    code = -38002


class InvalidPayloadAttributes(EngineRPCError):
    code = -38003


class TooLargeRequest(EngineRPCError):
    code = -38004


class UnsupportedFork(EngineRPCError):
    code = -38005


_ERRORS = {c.code: c for c in (UnknownPayload, InvalidForkchoiceState, InvalidPayloadAttributes, TooLargeRequest,
                               UnsupportedFork)}


def _answer(method: str, res, *keys: str) -> dict:
    """``res`` if it is an object holding ``keys``; an engine that answers anything else is refused as a transport
    error (retried), never a KeyError inside the controller."""
    if not isinstance(res, dict) or any(k not in res for k in keys):
        raise EngineTransportError(f"{method}: malformed answer (expected an object with {', '.join(keys)})")
    return res


@dataclass(frozen=True, slots=True)
class ForkchoiceState:
    head: bytes
    safe: bytes
    finalized: bytes

    def to_json(self) -> dict:
        return {"headBlockHash": to_hex(self.head), "safeBlockHash": to_hex(self.safe),
                "finalizedBlockHash": to_hex(self.finalized)}


@dataclass(frozen=True, slots=True)
class PayloadStatus:
    status: str  # VALID, INVALID, SYNCING, ACCEPTED, INVALID_BLOCK_HASH
    latest_valid_hash: bytes | None
    validation_error: str | None

    @classmethod
    def from_json(cls, d, method: str = "engine") -> PayloadStatus:
        d = _answer(method, d, "status")
        lvh, err = d.get("latestValidHash"), d.get("validationError")
        if not isinstance(d["status"], str) or not isinstance(err, (str, type(None))):
            raise EngineTransportError(f"{method}: malformed payload status")
        return cls(d["status"], None if lvh is None else from_hex(lvh, 32), err)

    @property
    def valid(self) -> bool:
        return self.status == "VALID"


@dataclass(frozen=True, slots=True)
class ForkchoiceResult:
    payload_status: PayloadStatus
    payload_id: bytes | None


class EngineClient:
    def __init__(self, url: str, secret: bytes, cfg: RollupConfig, *, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None, metrics=None):
        """``metrics``: a :class:`opnode.jsonrpc.client.MetricsSink` for every Engine API call (the node passes
        its ``engine-api`` recorder, so op-node's Engine API dashboard panels fill)."""
        self.url = url
        self.secret = secret
        self.cfg = cfg
        self.rpc = RpcClient(url, timeout=timeout, retry=NO_RETRY, jwt_secret=secret, transport=transport,
                             metrics=metrics)

    async def aclose(self) -> None:
        await self.rpc.aclose()

    async def __aenter__(self) -> EngineClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def call(self, method: str, *params):
        try:
            return await self.rpc.call(method, *params)
        except RpcError as e:
            raise _ERRORS.get(e.code, EngineRPCError)(e.code, e.message, e.data, method=method) from None
        except TransportError as e:
            kind = EngineAuthError if e.status == 401 else EngineTransportError
            raise kind(str(e), e.label, e.status) from None

    # ------------------------------------------------------------------------------------------------ versions

    def forkchoice_method(self, attrs: PayloadAttributes | None) -> str:
        if attrs is None or self.cfg.is_active(Fork.ECOTONE, attrs.timestamp):
            return "engine_forkchoiceUpdatedV3"
        if self.cfg.is_active(Fork.CANYON, attrs.timestamp):
            return "engine_forkchoiceUpdatedV2"
        return "engine_forkchoiceUpdatedV1"

    def get_payload_method(self, timestamp: int) -> str:
        if self.cfg.is_active(Fork.KARST, timestamp):
            return "engine_getPayloadV5"
        if self.cfg.is_active(Fork.ISTHMUS, timestamp):
            return "engine_getPayloadV4"
        if self.cfg.is_active(Fork.ECOTONE, timestamp):
            return "engine_getPayloadV3"
        return "engine_getPayloadV2"

    # ------------------------------------------------------------------------------------------------ methods

    async def exchange_capabilities(self, ours: list[str]) -> list[str]:
        return await self.call("engine_exchangeCapabilities", ours)

    async def forkchoice_updated(self, state: ForkchoiceState, attrs: PayloadAttributes | None = None
                                 ) -> ForkchoiceResult:
        method = self.forkchoice_method(attrs)
        res = _answer(method, await self.call(method, state.to_json(), None if attrs is None else attrs.to_json()),
                      "payloadStatus")
        pid = res.get("payloadId")
        return ForkchoiceResult(PayloadStatus.from_json(res["payloadStatus"], method),
                                None if pid is None else from_hex(pid, 8))

    async def get_payload(self, payload_id: bytes, timestamp: int) -> ExecutionPayloadEnvelope:
        """The built payload; ``blockValue``, ``blobsBundle`` and ``executionRequests`` are not kept (op-node reads
        the result into ``eth.ExecutionPayloadEnvelope`` too). A malformed answer is a transport error (retried)."""
        method = self.get_payload_method(timestamp)
        res = await self.call(method, to_hex(payload_id))
        try:
            return ExecutionPayloadEnvelope.from_json(res)
        except PayloadShapeError as e:
            raise EngineTransportError(f"{method}: malformed answer: {e}") from None

    async def new_payload(self, env: ExecutionPayloadEnvelope) -> PayloadStatus:
        t, payload, root = env.timestamp, env.payload.to_json(), to_hex(env.parent_beacon_block_root or bytes(32))
        if self.cfg.is_active(Fork.ISTHMUS, t):
            res = await self.call("engine_newPayloadV4", payload, [], root, [])
        elif self.cfg.is_active(Fork.ECOTONE, t):
            res = await self.call("engine_newPayloadV3", payload, [], root)
        else:
            res = await self.call("engine_newPayloadV2", payload)
        return PayloadStatus.from_json(res, "engine_newPayload")

    async def block(self, tag_or_hash: str | bytes | int, full: bool = False) -> dict | None:
        """``eth_getBlockByHash``/``ByNumber`` on the engine (authrpc serves the eth namespace too)."""
        if isinstance(tag_or_hash, bytes):
            return await self.call("eth_getBlockByHash", to_hex(tag_or_hash), full)
        tag = quantity(tag_or_hash) if isinstance(tag_or_hash, int) else tag_or_hash
        return await self.call("eth_getBlockByNumber", tag, full)
