"""A small transaction pool for the sequencer path (``noTxPool: false``): signed user transactions accepted over
``eth_sendRawTransaction``, handed to the block builder per sender in nonce order.

Deposits and blob transactions never enter (exec-engine.md §Deposited transaction boundaries, §Ecotone: disable
Blob-transactions), nor post-exec transactions (lagoon/post-exec.md §Mempool and Propagation: nodes MUST NOT accept
them through public pool interfaces). With Karst active at the head, a transaction above the EIP-7825 gas cap is
refused (reth's pool validator checks ``MAX_TX_GAS_LIMIT_OSAKA`` once Osaka is active at the tip). Transactions whose
nonce fell below the sender's state nonce are dropped when blocks are built.
"""

from __future__ import annotations

import threading

from derivation.protocol.errors import ParseError
from derivation.protocol.post_exec import POST_EXEC
from derivation.protocol.transactions import BLOB, DEPOSIT, Transaction, decode
from engine.execution.evm.gas import max_tx_gas_error

MAX_TX_BYTES = 128 * 1024
MAX_POOL = 4096


class TxPoolError(ValueError):
    """The transaction was not accepted; the message is what eth_sendRawTransaction reports."""


class TxPool:
    def __init__(self, chain_id: int):
        self.chain_id = chain_id
        self._by_sender: dict[bytes, dict[int, Transaction]] = {}
        self._lock = threading.RLock()

    def __len__(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._by_sender.values())

    def add(self, raw: bytes, state_nonce, karst: bool = False) -> Transaction:
        """Validate and keep ``raw``; ``state_nonce(sender) -> int`` reads the head state; ``karst``: Karst is
        active at the head (the EIP-7825 cap applies)."""
        if len(raw) > MAX_TX_BYTES:
            raise TxPoolError("oversized data")
        try:
            tx = decode(raw)
        except ParseError as e:
            raise TxPoolError(f"invalid transaction: {e}") from None
        if tx.type == DEPOSIT:
            raise TxPoolError("transaction type not supported: deposits cannot be submitted")
        if tx.type == BLOB:
            raise TxPoolError("transaction type not supported: blob transactions are disabled on L2")
        if tx.type == POST_EXEC:
            raise TxPoolError("transaction type not supported: post-exec transactions are built by the sequencer")
        if karst and (err := max_tx_gas_error(tx.gas)):
            raise TxPoolError(err)
        if tx.chain_id is not None and tx.chain_id != self.chain_id:
            raise TxPoolError(f"invalid chain id {tx.chain_id}, want {self.chain_id}")
        try:
            sender = tx.sender()
        except ParseError as e:
            raise TxPoolError(f"invalid sender: {e}") from None
        if tx.nonce < state_nonce(sender):
            raise TxPoolError("nonce too low")
        with self._lock:
            if len(self) >= MAX_POOL:
                raise TxPoolError("txpool is full")
            self._by_sender.setdefault(sender, {})[tx.nonce] = tx
        return tx

    def pending(self, state_nonce) -> list[Transaction]:
        """Executable transactions: per sender, consecutive nonces from the state nonce, senders in arrival order."""
        out = []
        with self._lock:
            for sender, txs in list(self._by_sender.items()):
                n = state_nonce(sender)
                for stale in [k for k in txs if k < n]:
                    del txs[stale]
                while n in txs:
                    out.append(txs[n])
                    n += 1
                if not txs:
                    del self._by_sender[sender]
        return out
