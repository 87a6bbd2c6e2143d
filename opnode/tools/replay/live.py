"""The recorder's live source: L1 through the node's L1 client (batched, prefetched, verified), blobs through the
beacon client (KZG-checked), L2 blocks from an execution-layer JSON-RPC (``eth_getBlockBy*`` with full
transactions).

The recording keeps each L1 header as RLP, so replay can check the block hash again. The L1 client hands out
decoded headers only; a tap on its JSON-RPC transport keeps the RLP of every block header it receives that hashes
to the block's hash (the client itself refuses the others unless ``--l1.trustrpc``).

anvil (recognised by ``web3_clientVersion``) commits blob transactions to the transactions root in their network
form; the L1 client is told so, and the recording says so (see :mod:`opnode.tools.replay.store`).
"""

from __future__ import annotations

from collections import OrderedDict
from contextlib import asynccontextmanager

import trio

from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity, to_hex
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.tx_json import tx_from_json
from derivation.protocol.types import L1BlockRef
from derivation.providers import IndexedBlobHash
from opnode.jsonrpc.client import RpcClient
from opnode.jsonrpc.errors import RpcError
from opnode.node.l1.beacon import BeaconClient
from opnode.node.l1.blockdata import header_rlp
from opnode.node.l1.client import L1Client
from opnode.node.l1.config import BeaconConfig, L1Config
from opnode.node.l1.errors import NotFoundError
from opnode.tools.replay.recorder import RecordError
from opnode.tools.replay.store import TX_ROOT_ANVIL, TX_ROOT_CANONICAL, L2Block, decode_l1_header, encode_receipt

_BLOCK_METHODS = ("eth_getBlockByHash", "eth_getBlockByNumber")
_TAP_LIMIT = 8192
L2_LOOKAHEAD = 16  # L2 blocks fetched per batched request: derivation asks for them one after another


def verified_header(block: dict) -> tuple[bytes, bytes] | None:
    """(hash, header RLP) when the JSON block's header hashes to its ``hash``; None otherwise."""
    try:
        raw = header_rlp(block)
        claimed = from_hex(block["hash"], 32)
    except (ParseError, KeyError, TypeError):
        return None
    return (claimed, raw) if keccak256(raw) == claimed else None


class HeaderTap(RpcClient):
    """A JSON-RPC client that keeps the RLP of the verified block headers passing through it."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.headers: OrderedDict[bytes, bytes] = OrderedDict()

    async def batch(self, calls: list[tuple[str, list]]) -> list:
        results = await super().batch(calls)
        for (method, _), r in zip(calls, results, strict=True):
            if method in _BLOCK_METHODS and isinstance(r, dict):
                got = verified_header(r)
                if got is not None:
                    self.headers[got[0]] = got[1]
                    while len(self.headers) > _TAP_LIMIT:
                        self.headers.popitem(last=False)
        return results


def l2_block_from_rpc(block) -> L2Block:
    """An execution layer's ``eth_getBlockBy*`` answer (full transactions) as a recorded L2 block; every
    transaction must encode to the hash the answer gives it."""
    if not isinstance(block, dict):
        raise RecordError("the L2 execution layer answered with something that is not a block")
    try:
        txs_json = block["transactions"]
        if not isinstance(txs_json, list) or not all(isinstance(t, dict) for t in txs_json):
            raise RecordError(f"L2 block {block.get('number')}: transactions are not full objects")
        txs = []
        for t in txs_json:
            tx = tx_from_json(t)
            if t.get("hash") is not None and tx.hash != from_hex(t["hash"], 32):
                raise RecordError(f"L2 block {block.get('number')}: transaction {t['hash']} encodes to "
                                  f"{to_hex(tx.hash)}")
            txs.append(tx.raw)
        withdrawals = block.get("withdrawals")
        beacon = block.get("parentBeaconBlockRoot")
        verified = verified_header(block)
        return L2Block(hash=from_hex(block["hash"], 32), number=parse_quantity(block["number"]),
                       parent_hash=from_hex(block["parentHash"], 32), timestamp=parse_quantity(block["timestamp"]),
                       gas_limit=parse_quantity(block["gasLimit"]), extra_data=from_hex(block["extraData"]),
                       prev_randao=from_hex(block["mixHash"], 32), fee_recipient=from_hex(block["miner"], 20),
                       parent_beacon_root=None if beacon is None else from_hex(beacon, 32),
                       withdrawals=len(withdrawals) if isinstance(withdrawals, list) else None,
                       transactions=tuple(txs), header=verified[1] if verified else None)
    except KeyError as e:
        raise RecordError(f"L2 block {block.get('number')}: missing field {e.args[0]!r}") from None
    except ParseError as e:
        raise RecordError(f"L2 block {block.get('number')}: {e}") from None


class LiveSource:
    def __init__(self, l1: L1Client, tap: HeaderTap, beacon: BeaconClient | None, l2: RpcClient, *,
                 l1_tx_root: str, versions: dict):
        self.l1 = l1
        self.tap = tap
        self.beacon = beacon
        self.l2 = l2
        self.l1_tx_root = l1_tx_root
        self.versions = versions
        self._l2_ahead: dict[int, L2Block] = {}
        self._last_l2: int | None = None

    @classmethod
    @asynccontextmanager
    async def open(cls, l1_url: str, l2_url: str, beacon_url: str | None = None, *, trust_rpc: bool = False,
                   rpc_kind: str = "standard"):
        base = L1Config(rpc_url=l1_url, trust_rpc=trust_rpc, rpc_kind=rpc_kind)
        tap = HeaderTap(l1_url, max_batch_size=base.rpc_max_batch_size, max_concurrency=base.max_concurrency,
                        timeout=base.request_timeout, retry=base.retry)
        l2 = RpcClient(l2_url)
        beacon = BeaconClient(BeaconConfig(url=beacon_url)) if beacon_url else None
        try:
            versions = {"l1": await _client_version(tap), "l2": await _client_version(l2)}
            anvil = versions["l1"].lower().startswith("anvil")
            cfg = L1Config(rpc_url=l1_url, trust_rpc=trust_rpc, rpc_kind=rpc_kind, anvil_tx_root=anvil)
            try:
                async with trio.open_nursery() as nursery:  # the L1 client's look-ahead prefetch runs here
                    client = L1Client(cfg, rpc=tap, nursery=nursery)
                    try:
                        yield cls(client, tap, beacon, l2, l1_tx_root=TX_ROOT_ANVIL if anvil else TX_ROOT_CANONICAL,
                                  versions=versions)
                    finally:
                        nursery.cancel_scope.cancel()
            except BaseExceptionGroup as group:  # look-ahead never raises: this is the caller's own error
                if len(group.exceptions) == 1:
                    raise group.exceptions[0] from None
                raise
        finally:
            await tap.aclose()
            await l2.aclose()
            if beacon is not None:
                await beacon.aclose()

    async def check_chains(self, cfg: RollupConfig) -> None:
        """The RPCs serve the rollup's chains. Also reads the L1 head, which starts the L1 client's look-ahead."""
        await self.l1.block_ref_by_label("latest")
        l1_id = await self.l1.chain_id()
        if l1_id != cfg.l1_chain_id:
            raise RecordError(f"--l1 is chain {l1_id}, the rollup config's L1 is chain {cfg.l1_chain_id}")
        l2_id = parse_quantity(await self.l2.call("eth_chainId"))
        if l2_id != cfg.l2_chain_id:
            raise RecordError(f"--l2 is chain {l2_id}, the rollup config's L2 is chain {cfg.l2_chain_id}")
        if self.beacon is not None:
            await self.beacon.check()

    # -------------------------------------------------------------------------------------------- L1

    def _header(self, info) -> bytes:
        raw = self.tap.headers.get(info.hash)
        if raw is None:
            raise RecordError(f"L1 block {info.number}: its header does not hash to its block hash, so it cannot be "
                              "recorded verifiably")
        if decode_l1_header(raw).info != info:
            raise RecordError(f"L1 block {info.number}: the header RLP and the L1 client disagree")
        return raw

    async def l1_header_by_number(self, number: int) -> bytes:
        try:
            info = await self.l1.block_info_by_number(number)
        except NotFoundError:
            head = await self.l1.block_ref_by_label("latest")
            raise RecordError(f"L1 block {number} does not exist yet (the L1 head is {head.number})") from None
        return self._header(info)

    async def l1_header_by_hash(self, block_hash: bytes) -> bytes:
        try:
            info, _ = await self.l1.info_and_txs_by_hash(block_hash)
        except NotFoundError:
            raise RecordError(f"L1 block {to_hex(block_hash)} is not on the L1 node") from None
        return self._header(info)

    async def l1_transactions(self, block_hash: bytes) -> list[bytes]:
        _, txs = await self.l1.info_and_txs_by_hash(block_hash)
        return [t.raw for t in txs]

    async def l1_receipts(self, block_hash: bytes) -> list[bytes]:
        _, receipts = await self.l1.receipts_by_hash(block_hash)
        return [encode_receipt(r) for r in receipts]

    async def l1_blobs(self, block: L1BlockRef, hashes: tuple[IndexedBlobHash, ...]) -> list[bytes]:
        if self.beacon is None:
            raise RecordError(f"L1 block {block.number} carries batcher blobs: give --l1.beacon to record them")
        return await self.beacon.get_blobs(block, list(hashes))

    # -------------------------------------------------------------------------------------------- L2

    async def _l2_block(self, method: str, arg: str, what: str) -> L2Block:
        block = await self.l2.call(method, arg, True)
        if block is None:
            raise RecordError(f"the L2 execution layer has no block {what} (is it synced past the range?)")
        return l2_block_from_rpc(block)

    async def l2_block_by_number(self, number: int) -> L2Block:
        """By number; when blocks are asked for one after another, the next ones come in the same batched
        request."""
        sequential = self._last_l2 == number - 1
        self._last_l2 = number
        got = self._l2_ahead.pop(number, None)
        if got is not None:
            return got
        self._l2_ahead.clear()
        count = L2_LOOKAHEAD if sequential else 1
        answers = await self.l2.batch([("eth_getBlockByNumber", [hex(n), True]) for n in range(number, number + count)])
        first = answers[0]
        if isinstance(first, RpcError):
            raise first
        if first is None:
            raise RecordError(f"the L2 execution layer has no block {number} (is it synced past the range?)")
        for n, block in enumerate(answers[1:], number + 1):
            if not isinstance(block, dict):
                break
            self._l2_ahead[n] = l2_block_from_rpc(block)
        return l2_block_from_rpc(first)

    async def l2_block_by_hash(self, block_hash: bytes) -> L2Block:
        return await self._l2_block("eth_getBlockByHash", to_hex(block_hash), to_hex(block_hash))

    async def l2_head_number(self) -> int:
        return parse_quantity(await self.l2.call("eth_blockNumber"))


async def _client_version(rpc: RpcClient) -> str:
    try:
        v = await rpc.call("web3_clientVersion")
    except RpcError:
        return "unknown"
    return v if isinstance(v, str) else "unknown"
