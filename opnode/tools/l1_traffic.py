"""Batcher-like L1 traffic for tests and the bench: calldata and blob transactions to an inbox address on anvil.

Not the batcher: the payloads are frames of made-up channels (``0x00 ‖ channel_id ‖ frame_number ‖ length ‖ data
‖ is_last``), enough to give L1 blocks the shape that derivation reads. Transactions are signed here with the
project's own transaction codec, and blob sidecars are computed with :mod:`derivation.protocol.kzg`, whose trusted setup is
loaded once (eth-account reloads it for every blob transaction, which would make a 500-block run take minutes).
"""

from __future__ import annotations

import os
import time

from derivation.protocol import rlp
from derivation.protocol.blobs import encode_blob
from derivation.protocol.crypto import address_from_private_key, sign_hash
from derivation.protocol.hexutil import from_hex, parse_quantity, to_hex
from derivation.protocol.kzg import blob_to_commitment, compute_blob_proof, versioned_hash
from derivation.protocol.transactions import BLOB, DYNAMIC_FEE, Transaction
from opnode.tools.anvil import DEV_KEYS, Anvil

DEFAULT_INBOX = bytes.fromhex("ff00000000000000000000000000000000000901")


def batcher_frame(channel_id: bytes, frame_number: int, data: bytes, is_last: bool) -> bytes:
    """One derivation-version-0 data item holding one frame (derivation.md §Batcher Transaction Format)."""
    return (b"\x00" + channel_id + frame_number.to_bytes(2, "big") + len(data).to_bytes(4, "big") + data
            + (b"\x01" if is_last else b"\x00"))


class L1Traffic:
    def __init__(self, anvil: Anvil, *, key: str = DEV_KEYS[1], inbox: bytes = DEFAULT_INBOX):
        self.anvil = anvil
        self.key = from_hex(key, 32)
        self.sender = address_from_private_key(self.key)
        self.inbox = inbox
        self.chain_id = parse_quantity(anvil.rpc("eth_chainId"))
        self._nonce: int | None = None

    def _next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = parse_quantity(self.anvil.rpc("eth_getTransactionCount", to_hex(self.sender), "pending"))
        n = self._nonce
        self._nonce += 1
        return n

    def _sign(self, tx: Transaction) -> Transaction:
        tx.v, tx.r, tx.s = sign_hash(self.key, tx.signing_hash())
        tx.encode()
        return tx

    def send_calldata(self, data: bytes) -> bytes:
        """A type-2 transaction to the inbox carrying ``data``; returns its hash."""
        return self.send_tx(self.inbox, data, 21_000 + 40 * len(data))

    def send_tx(self, to: bytes | None, data: bytes, gas: int) -> bytes:
        """A signed type-2 transaction from the traffic account (``to=None`` creates a contract)."""
        tx = self._sign(Transaction(DYNAMIC_FEE, chain_id=self.chain_id, nonce=self._next_nonce(),
                                    max_priority_fee_per_gas=10**9, max_fee_per_gas=10**11,
                                    gas=gas, to=to, value=0, data=bytes(data)))
        return from_hex(self.anvil.rpc("eth_sendRawTransaction", to_hex(tx.raw)))

    def send_blobs(self, datas: list[bytes]) -> tuple[bytes, list[bytes]]:
        """A type-3 transaction to the inbox with one blob per element of ``datas`` (each OP-encoded, version 0);
        returns (tx hash, versioned hashes)."""
        blobs = [encode_blob(d) for d in datas]
        commitments = [blob_to_commitment(b) for b in blobs]
        proofs = [compute_blob_proof(b, c) for b, c in zip(blobs, commitments, strict=True)]
        hashes = [versioned_hash(c) for c in commitments]
        tx = self._sign(Transaction(BLOB, chain_id=self.chain_id, nonce=self._next_nonce(),
                                    max_priority_fee_per_gas=10**9, max_fee_per_gas=10**11, gas=21_000,
                                    to=self.inbox, value=0, data=b"", max_fee_per_blob_gas=10**11,
                                    blob_versioned_hashes=hashes))
        body = rlp.decode(tx.raw[1:])
        network = bytes((BLOB,)) + rlp.encode([body, blobs, commitments, proofs])
        return from_hex(self.anvil.rpc("eth_sendRawTransaction", to_hex(network))), hashes

    def random_frame(self, size: int, rng=os.urandom) -> bytes:
        return batcher_frame(rng(16), 0, rng(size), True)

    def receipt(self, tx_hash: bytes, timeout: float = 10.0) -> dict:
        """The transaction's receipt once it is mined (anvil's automine answers before the block exists)."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.anvil.rpc("eth_getTransactionReceipt", to_hex(tx_hash))
            if r is not None:
                return r
            if time.monotonic() > deadline:
                raise TimeoutError(f"transaction {to_hex(tx_hash)} was not mined within {timeout} s")
            time.sleep(0.02)

    def mine(self, blocks: int = 1) -> None:
        self.anvil.rpc("anvil_mine", hex(blocks))

    def set_automine(self, on: bool) -> None:
        self.anvil.rpc("evm_setAutomine", on)
