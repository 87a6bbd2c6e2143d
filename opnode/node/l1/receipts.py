"""Which JSON-RPC method fetches a block's receipts, by ``--l1.rpckind`` (op-service/sources/receipts_rpc.go).

Each kind allows a set of methods; the cheapest available one for the block's transaction count is used, and a
method the provider turns out not to support (JSON-RPC -32601/-32602 or an equivalent message) is dropped for
``reset_after`` seconds, falling back to the next one and finally to per-transaction receipts in batches.
"""

from __future__ import annotations

import enum

import trio

from opnode.jsonrpc.errors import RpcError


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
