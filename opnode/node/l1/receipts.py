"""A block's receipts: which JSON-RPC method fetches them, by ``--l1.rpckind`` (op-service/sources/receipts_rpc.go),
and fetching and verifying them against the block's receipts root (:func:`fetch_verified`, :func:`parse`).

Each kind allows a set of methods; the cheapest available one for the block's transaction count is used, and a
method the provider turns out not to support (JSON-RPC -32601/-32602 or an equivalent message) is dropped for
``reset_after`` seconds, falling back to the next one and finally to per-transaction receipts in batches.
"""

from __future__ import annotations

import enum
import logging

import trio

from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import to_hex
from derivation.protocol.trie import EMPTY_TRIE_ROOT as EMPTY_ROOT
from derivation.protocol.types import L1BlockInfo, Receipt
from opnode.jsonrpc.errors import RpcError
from opnode.node.l1 import blockdata
from opnode.node.l1.blockdata import BlockDataError
from opnode.node.l1.errors import L1DataError
from opnode.node.l1.rpc import RpcClient

log = logging.getLogger("opnode.node.l1")


class Method(enum.IntFlag):
    TX_RECEIPT_BATCH = 1  # eth_getTransactionReceipt per tx, in JSON-RPC batches (everywhere)
    ALCHEMY = 2  # alchemy_getTransactionReceipts {blockHash}
    DEBUG_RAW = 4  # debug_getRawReceipts (geth): consensus-encoded receipts
    PARITY = 8  # parity_getBlockReceipts (parity, nethermind)
    ETH_BLOCK = 16  # eth_getBlockReceipts (standardised; geth, reth, besu, anvil)
    ERIGON = 32  # erigon_getBlockReceiptsByBlockHash


RPC_METHOD = {Method.TX_RECEIPT_BATCH: "eth_getTransactionReceipt", Method.ALCHEMY: "alchemy_getTransactionReceipts",
              Method.DEBUG_RAW: "debug_getRawReceipts", Method.PARITY: "parity_getBlockReceipts",
              Method.ETH_BLOCK: "eth_getBlockReceipts", Method.ERIGON: "erigon_getBlockReceiptsByBlockHash"}

M = Method
AVAILABLE = {
    "alchemy": M.ALCHEMY | M.ETH_BLOCK | M.TX_RECEIPT_BATCH,
    "quicknode": M.DEBUG_RAW | M.ETH_BLOCK | M.TX_RECEIPT_BATCH,
    "infura": M.TX_RECEIPT_BATCH,
    "parity": M.PARITY | M.TX_RECEIPT_BATCH,
    "nethermind": M.PARITY | M.TX_RECEIPT_BATCH,
    "debug_geth": M.DEBUG_RAW | M.TX_RECEIPT_BATCH,
    "erigon": M.ERIGON | M.TX_RECEIPT_BATCH,
    "basic": M.TX_RECEIPT_BATCH,
    "any": M.ALCHEMY | M.ETH_BLOCK | M.DEBUG_RAW | M.ERIGON | M.PARITY | M.TX_RECEIPT_BATCH,
    "standard": M.ETH_BLOCK | M.TX_RECEIPT_BATCH,
}


def pick(kind: str, available: Method, tx_count: int) -> Method:
    """The method to use (op-node ``PickBestReceiptsFetchingMethod``: by the provider's per-call prices)."""
    if kind == "alchemy":
        if available & M.ALCHEMY and tx_count > 250 // 15:
            return M.ALCHEMY
        if available & M.ETH_BLOCK and tx_count > 500 // 15:
            return M.ETH_BLOCK
        return M.TX_RECEIPT_BATCH
    if kind == "quicknode":
        if available & M.DEBUG_RAW:
            return M.DEBUG_RAW
        if available & M.ETH_BLOCK and tx_count > 59 // 2:
            return M.ETH_BLOCK
        return M.TX_RECEIPT_BATCH
    for m in (M.ALCHEMY, M.DEBUG_RAW, M.ERIGON, M.ETH_BLOCK, M.PARITY):
        if available & m:
            return m
    return M.TX_RECEIPT_BATCH


def calls(method: Method, block_hash: str, tx_hashes: list[str]) -> list[tuple[str, list]]:
    """The JSON-RPC calls that fetch one block's receipts with ``method``."""
    if method == M.TX_RECEIPT_BATCH:
        return [("eth_getTransactionReceipt", [h]) for h in tx_hashes]
    if method == M.ALCHEMY:
        return [("alchemy_getTransactionReceipts", [{"blockHash": block_hash}])]
    return [(RPC_METHOD[method], [block_hash])]


def unusable(err: Exception) -> bool:
    """The provider does not offer the method (op-node ``unusableMethod``)."""
    if isinstance(err, RpcError) and err.code in (-32601, -32602):
        return True
    text = str(err).lower()
    return any(s in text for s in ("unknown method", "method not found", "invalid param", "is not available",
                                   "not whitelisted", "does not exist"))


class MethodChooser:
    """Per-client state: which receipt methods still look usable."""

    def __init__(self, kind: str, reset_after: float = 300.0):
        self.kind = kind
        self.reset_after = reset_after
        self.available = AVAILABLE[kind]
        self._reset_at = trio.current_time() + reset_after

    def pick(self, tx_count: int) -> Method:
        now = trio.current_time()
        if now >= self._reset_at:
            self.available = AVAILABLE[self.kind]
            self._reset_at = now + self.reset_after
        return pick(self.kind, self.available, tx_count)

    def on_error(self, method: Method, err: Exception) -> None:
        if unusable(err) and method != M.TX_RECEIPT_BATCH:
            self.available &= ~method


def batch_plan(chooser: MethodChooser, blocks) -> tuple[list, list[tuple[str, list]]]:
    """One JSON-RPC batch for the receipts of ``blocks`` ([(info, txs)], each with transactions): the plan
    [(info, txs, method, first call index, call count)] and the calls."""
    plan, out = [], []
    for info, txs in blocks:
        method = chooser.pick(len(txs))
        cs = calls(method, to_hex(info.hash), [to_hex(t.hash) for t in txs])
        plan.append((info, txs, method, len(out), len(cs)))
        out += cs
    return plan, out


async def fetch_verified(rpc: RpcClient, chooser: MethodChooser, info: L1BlockInfo, txs) -> tuple[Receipt, ...]:
    """The receipts of ``info`` (with transactions ``txs``), checked against its receipts root: an answer that fails
    is asked again once, a method the provider lacks is switched; then :class:`L1DataError`."""
    if not txs:
        if info.receipts_root != EMPTY_ROOT:
            raise L1DataError(f"L1 block {info.number} has no transactions but receipts root "
                              f"0x{info.receipts_root.hex()}")
        return ()
    last = None
    bad_answers = 0
    for _ in range(2 + len(Method)):  # two answers that fail verification, or a switch per missing method
        if bad_answers == 2:
            break
        method = chooser.pick(len(txs))
        results = await rpc.batch(calls(method, to_hex(info.hash), [to_hex(t.hash) for t in txs]))
        try:
            return parse(method, info, txs, results)
        except RpcError as e:
            chooser.on_error(method, e)
            last = e
            if unusable(e):
                continue
            raise L1DataError(f"receipts of L1 block {info.number}: {e}") from None
        except ParseError as e:  # BlockDataError, or any other malformed field
            last = e
            bad_answers += 1
            log.warning("receipts of L1 block %d failed verification, refetching: %s", info.number, e)
    raise L1DataError(f"L1 RPC returned bad receipts for block {info.number} 0x{info.hash.hex()}: {last}")


def parse(method: Method, info: L1BlockInfo, txs, results: list) -> tuple[Receipt, ...]:
    """The answers to :func:`calls` as receipts, verified (an RpcError among them is raised)."""
    for r in results:
        if isinstance(r, RpcError):
            raise r
    tx_hashes = [t.hash for t in txs]
    if method == Method.TX_RECEIPT_BATCH:
        data = results
    else:
        data = results[0]
        if method == Method.ALCHEMY:
            data = data.get("receipts") if isinstance(data, dict) else None
        if data is None:
            raise BlockDataError(f"no receipts for L1 block {info.number}")
        if method == Method.DEBUG_RAW:
            return tuple(blockdata.receipts_from_raw(info.number, data, len(txs), info.receipts_root))
    return tuple(blockdata.receipts_from_json(info.hash, info.number, tx_hashes, data, info.receipts_root))
