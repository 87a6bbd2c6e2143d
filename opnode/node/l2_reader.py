"""A small async reader of the execution engine's ``eth_*`` RPC, for the node's RPC surface: blocks by number or
hash, ``eth_getProof``, and the v0 output root of a block (op-service/sources/l2_client.go ``OutputV0AtBlock``).

op-node reads these over the engine's authenticated port; give ``jwt_secret`` for that, or none for a plain eth RPC.
The transport is the project's JSON-RPC client (:mod:`opnode.jsonrpc.client`, no retries: the caller answers its
own client at once): failures are :class:`~opnode.jsonrpc.errors.TransportError` (a ``TemporaryError``), JSON-RPC
errors :class:`~opnode.jsonrpc.errors.RpcError` with their code; an answer of the wrong shape is a ``ParseError``.
"""

from __future__ import annotations

import httpx

from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity, quantity, to_hex
from derivation.protocol.output_root import OutputV0
from derivation.protocol.predeploys import L2_TO_L1_MESSAGE_PASSER
from derivation.protocol.rollup_config import Fork, RollupConfig
from opnode.jsonrpc.client import NO_RETRY, RpcClient
from opnode.node.account_proof import AccountProofError, verify_account_proof

MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class BlockNotFound(LookupError):
    """The engine does not have the requested block (op-node ``ethereum.NotFound``: "not found")."""

    def __init__(self, what: str):
        super().__init__("not found")
        self.what = what


class L2Reader:
    def __init__(self, url: str, *, jwt_secret: bytes | None = None, timeout: float = 10.0, metrics=None,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.url = url
        # op-node meters the engine's eth namespace with the Engine API's client ("engine-api", l2_el_rpc.go)
        self.rpc = RpcClient(url, timeout=timeout, retry=NO_RETRY,
                             metrics=metrics.rpc_client("engine-api") if metrics is not None else None,
                             jwt_secret=jwt_secret,
                             max_response_bytes=MAX_RESPONSE_BYTES, transport=transport)

    async def aclose(self) -> None:
        await self.rpc.aclose()

    async def __aenter__(self) -> L2Reader:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def call(self, method: str, *params):
        return await self.rpc.call(method, *params)

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
