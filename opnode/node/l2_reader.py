"""A small async reader of the execution engine's ``eth_*`` RPC (trio + httpx), for the node's RPC surface:
blocks by number or hash, ``eth_getProof``, and the v0 output root of a block (op-service/sources/l2_client.go
``OutputV0AtBlock``).

op-node reads these over the engine's authenticated port; give ``jwt_secret`` for that, or none for a plain eth RPC.
Transport failures (connection, timeout, HTTP errors, unreadable or oversized bodies) are :class:`L2ReaderUnavailable`
(a ``TemporaryError``); JSON-RPC errors keep their code (:class:`L2RPCError`); an answer of the wrong shape is a
``ParseError``.
"""

from __future__ import annotations

import json
import time

import httpx

from derivation.protocol.errors import ParseError, TemporaryError
from derivation.protocol.hexutil import from_hex, parse_quantity, quantity, to_hex
from derivation.protocol.jsonutil import loads_bounded
from derivation.protocol.output_root import OutputV0
from derivation.protocol.predeploys import L2_TO_L1_MESSAGE_PASSER
from derivation.protocol.rollup_config import Fork, RollupConfig
from engine.jwt import make_token
from opnode.node.account_proof import AccountProofError, verify_account_proof

MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class L2ReaderUnavailable(TemporaryError):
    """The engine's RPC could not be reached or gave no usable answer; retry later. ``label`` is op-node's
    ``rpc_client_responses_total`` error label (``http_<status>`` or ``<unknown>``)."""

    def __init__(self, message: str, label: str = "<unknown>"):
        super().__init__(message)
        self.label = label


class L2RPCError(Exception):
    def __init__(self, code: int, message: str, data=None):
        super().__init__(f"{message} (code {code})")
        self.code = code
        self.message = message
        self.data = data


class BlockNotFound(LookupError):
    """The engine does not have the requested block (op-node ``ethereum.NotFound``: "not found")."""

    def __init__(self, what: str):
        super().__init__("not found")
        self.what = what


class L2Reader:
    def __init__(self, url: str, *, jwt_secret: bytes | None = None, timeout: float = 10.0, metrics=None,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.url = url
        self.jwt_secret = jwt_secret
        self.metrics = metrics
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._token: tuple[float, str] | None = None
        self._id = 0

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> L2Reader:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    def _headers(self) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.jwt_secret is not None:
            now = time.time()
            if self._token is None or now - self._token[0] > 30:  # tokens are valid for 60 s either side
                self._token = (now, make_token(self.jwt_secret, int(now)))
            headers["Authorization"] = f"Bearer {self._token[1]}"
        return headers

    async def call(self, method: str, *params):
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)})
        started = time.monotonic()
        error: str | None = None
        try:
            return await self._call(method, body)
        except L2RPCError as e:
            error = f"rpc_{e.code}"
            raise
        except L2ReaderUnavailable as e:
            error = e.label
            raise
        finally:
            if self.metrics is not None:
                self.metrics.record_rpc_client(method, time.monotonic() - started, error)

    async def _call(self, method: str, body: str):
        try:
            async with self._client.stream("POST", self.url, content=body, headers=self._headers()) as r:
                if r.status_code != 200:
                    raise L2ReaderUnavailable(f"{method}: engine answered HTTP {r.status_code}",
                                              f"http_{r.status_code}")
                data = bytearray()
                async for chunk in r.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_RESPONSE_BYTES:
                        raise L2ReaderUnavailable(f"{method}: response larger than {MAX_RESPONSE_BYTES} bytes")
        except httpx.TimeoutException:
            raise L2ReaderUnavailable(f"{method}: engine RPC timed out") from None
        except httpx.HTTPError as e:
            raise L2ReaderUnavailable(f"{method}: engine RPC unreachable: {e}") from None
        try:
            msg = loads_bounded(data)
        except (ValueError, RecursionError):
            raise L2ReaderUnavailable(f"{method}: engine answered non-JSON") from None
        if not isinstance(msg, dict):
            raise L2ReaderUnavailable(f"{method}: engine answered an unexpected JSON-RPC message")
        err = msg.get("error")
        if err is not None:
            if not isinstance(err, dict):
                raise L2RPCError(0, str(err))
            raise L2RPCError(err.get("code", 0) if isinstance(err.get("code"), int) else 0,
                             str(err.get("message", "")), err.get("data"))
        return msg.get("result")

    # ------------------------------------------------------------------------------------------------ reads

    async def block_by_number(self, number: int | str, full: bool = False) -> dict:
        """``eth_getBlockByNumber``; ``number`` is an int or a tag (``latest``, ``safe``, ``finalized``)."""
        tag = quantity(number) if isinstance(number, int) else number
        block = await self.call("eth_getBlockByNumber", tag, full)
        return _block(block, f"L2 block {number}")

    async def block_by_hash(self, block_hash: bytes, full: bool = False) -> dict:
        block = await self.call("eth_getBlockByHash", to_hex(block_hash), full)
        return _block(block, f"L2 block 0x{block_hash.hex()}")

    async def get_proof(self, address: bytes, keys: list[bytes], block_hash: bytes) -> dict:
        """``eth_getProof`` at a block given by hash (EIP-1898 ``{"blockHash": …}``: no reorg can change it)."""
        result = await self.call("eth_getProof", to_hex(address), [to_hex(k) for k in keys],
                                 {"blockHash": to_hex(block_hash)})
        if result is None:
            raise BlockNotFound(f"proof of 0x{address.hex()} at 0x{block_hash.hex()}")
        if not isinstance(result, dict):
            raise ParseError("eth_getProof answered something that is not an object")
        return result

    async def output_v0_at_block(self, cfg: RollupConfig, block_hash: bytes, *,
                                 fetch_from_state: bool = False) -> OutputV0:
        """The v0 output of an L2 block. From Isthmus the message passer's storage root is the header's
        ``withdrawalsRoot`` (specs: isthmus/exec-engine.md); before it, and always with ``fetch_from_state``
        (``--fetch-withdrawal-root-from-state``), it comes from ``eth_getProof`` verified against the state root."""
        header = await self.block_by_hash(block_hash, False)
        try:
            state_root = from_hex(header["stateRoot"], 32)
            timestamp = parse_quantity(header["timestamp"])
            got_hash = from_hex(header["hash"], 32)
        except KeyError as e:
            raise ParseError(f"L2 block header lacks {e.args[0]!r}") from None
        if got_hash != block_hash:
            raise ParseError(f"engine answered block 0x{got_hash.hex()} for 0x{block_hash.hex()}")
        if cfg.is_active(Fork.ISTHMUS, timestamp) and not fetch_from_state:
            root = header.get("withdrawalsRoot")
            if root is None:
                raise ParseError(f"Isthmus L2 block 0x{block_hash.hex()} has no withdrawalsRoot")
            return OutputV0(state_root, from_hex(root, 32), block_hash)
        proof = await self.get_proof(L2_TO_L1_MESSAGE_PASSER, [], block_hash)
        try:
            account = verify_account_proof(state_root, L2_TO_L1_MESSAGE_PASSER, proof)
        except AccountProofError as e:
            raise AccountProofError(f"invalid withdrawal root hash, state root was {to_hex(state_root)}: {e}") from None
        return OutputV0(state_root, account.storage_hash, block_hash)


def _block(block, what: str) -> dict:
    if block is None:
        raise BlockNotFound(what)
    if not isinstance(block, dict):
        raise ParseError(f"{what}: the engine answered something that is not a block object")
    return block
