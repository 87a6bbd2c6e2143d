"""Sending transactions from one key: nonces, fees, signing, resubmission and receipts (op-service/txmgr, small).

Fees (op txmgr ``suggestGasPriceCaps``/``calcGasFeeCap``): tip = ``eth_maxPriorityFeePerGas`` (at least
``min_tip``), fee cap = tip + 2 × the head's base fee; blob fee cap = 2 × the head's blob base fee, computed from its
``excessBlobGas`` with the L1's update fraction at the head's time (at least ``min_blob_fee``, as op txmgr's 1 gwei floor, which also
gets a blob transaction past a node's replacement rules). A transaction not mined within ``resubmit_after`` seconds
is sent again with the same nonce and fees raised to the market, at least +10 % (+100 % for the blob fee: geth's
replacement rules for blob transactions).

Nonces are counted here from ``eth_getTransactionCount(pending)`` on first use; :meth:`TxManager.reset_nonce` starts
again from the chain's (latest) count, e.g. after an L1 reorg dropped transactions. A nonce reused that way carries
fees above the highest ever sent with it, so that it replaces a stale transaction still in the pool.

Blob transactions go out in the EIP-4844 network form (``0x03 ‖ rlp([tx, blobs, commitments, proofs])``) with
commitments and proofs from :mod:`derivation.protocol.kzg`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import trio

from derivation.protocol import rlp
from derivation.protocol.crypto import address_from_private_key
from derivation.protocol.hexutil import from_hex, parse_quantity, to_hex
from derivation.protocol.kzg import blob_to_commitment, compute_blob_proof, versioned_hash
from derivation.protocol.l1_chain_config import PRAGUE_UPDATE_FRACTION, BlobFork, L1ChainConfig, blob_base_fee
from derivation.protocol.transactions import BLOB, DYNAMIC_FEE, Transaction
from opnode.jsonrpc.client import RpcClient
from opnode.jsonrpc.errors import RpcError

log = logging.getLogger("opnode.txmgr")

GWEI = 10**9
BLOB_TX_GAS = 21_000
# An L1 whose schedule is not given: Prague's blob parameters from genesis (anvil, current devnets).
DEFAULT_L1_CHAIN = L1ChainConfig(0, (BlobFork("prague", 0, PRAGUE_UPDATE_FRACTION),))


class SendError(Exception):
    """The node refused the transaction for a reason resending will not fix (e.g. it reverts, no funds)."""


class TxReverted(SendError):
    def __init__(self, receipt: TxReceipt):
        super().__init__(f"transaction 0x{receipt.tx_hash.hex()} reverted in L1 block {receipt.block_number}")
        self.receipt = receipt


@dataclass(frozen=True, slots=True)
class TxCandidate:
    """What to send: ``to=None`` creates a contract; ``blobs`` are encoded blobs (131072 bytes each)."""

    to: bytes | None
    data: bytes = b""
    value: int = 0
    gas_limit: int | None = None  # None: estimated (calldata floor for a transfer to an EOA)
    blobs: tuple[bytes, ...] = ()
    access_list: tuple[tuple[bytes, tuple[bytes, ...]], ...] = ()  # EIP-2930 (address, storage keys) entries


@dataclass(frozen=True, slots=True)
class Fees:
    tip: int
    fee_cap: int
    blob_fee_cap: int | None = None

    def bumped(self, market: Fees) -> Fees:
        """Fees for a replacement: the market's, and at least +10 % (+100 % for blobs) over these."""
        blob = None
        if self.blob_fee_cap is not None or market.blob_fee_cap is not None:
            blob = max(market.blob_fee_cap or 0, 2 * (self.blob_fee_cap or 0))
        return Fees(max(market.tip, self.tip * 11 // 10 + 1), max(market.fee_cap, self.fee_cap * 11 // 10 + 1), blob)


@dataclass(frozen=True, slots=True)
class TxReceipt:
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    status: int
    gas_used: int
    contract_address: bytes | None
    logs: tuple[dict, ...]

    @classmethod
    def from_json(cls, r: dict) -> TxReceipt:
        ca = r.get("contractAddress")
        return cls(from_hex(r["transactionHash"], 32), parse_quantity(r["blockNumber"]), from_hex(r["blockHash"], 32),
                   parse_quantity(r["status"]), parse_quantity(r["gasUsed"]), from_hex(ca, 20) if ca else None,
                   tuple(r.get("logs") or ()))


@dataclass(slots=True)
class PendingTx:
    candidate: TxCandidate
    nonce: int
    fees: Fees
    gas: int
    sent_at: float
    hashes: list[bytes] = field(default_factory=list)  # every version sent with this nonce, newest last

    @property
    def hash(self) -> bytes:
        return self.hashes[-1]


def calldata_gas(data: bytes) -> int:
    """Gas a plain transfer with ``data`` needs: 21000 + max(standard cost, EIP-7623 floor) = 21000 + 10 per zero
    byte + 40 per non-zero byte."""
    zeros = data.count(0)
    return 21_000 + 10 * zeros + 40 * (len(data) - zeros)


class TxManager:
    def __init__(self, rpc: RpcClient, key: bytes, *, l1_chain: L1ChainConfig = DEFAULT_L1_CHAIN,
                 min_tip: int = GWEI // 1000, min_blob_fee: int = GWEI, resubmit_after: float = 12.0):
        self.rpc = rpc
        self.key = key
        self.address = address_from_private_key(key)
        self.l1_chain = l1_chain
        self.min_tip = min_tip
        self.min_blob_fee = min_blob_fee
        self.resubmit_after = resubmit_after
        self.chain_id: int | None = None
        self._nonce: int | None = None
        self._fees_by_nonce: dict[int, Fees] = {}  # highest fees ever sent per nonce (kept for recent nonces)
        self.sent = 0  # transactions sent, replacements included

    # -------------------------------------------------------------------------------------------- setup

    async def _ready(self) -> None:
        if self.chain_id is None:
            self.chain_id = parse_quantity(await self.rpc.call("eth_chainId"))
        if self._nonce is None:
            self._nonce = parse_quantity(await self.rpc.call("eth_getTransactionCount", to_hex(self.address),
                                                             "pending"))

    async def chain_nonce(self) -> int:
        """The nonce of the next transaction the chain's latest state would accept."""
        return parse_quantity(await self.rpc.call("eth_getTransactionCount", to_hex(self.address), "latest"))

    async def reset_nonce(self) -> int:
        """Count nonces again from the chain's latest state (stale pool entries get replaced)."""
        self._nonce = await self.chain_nonce()
        return self._nonce

    async def balance(self) -> int:
        return parse_quantity(await self.rpc.call("eth_getBalance", to_hex(self.address), "latest"))

    # -------------------------------------------------------------------------------------------- fees

    async def market_fees(self, blobs: bool = False) -> Fees:
        head = await self.rpc.call("eth_getBlockByNumber", "latest", False)
        base = parse_quantity(head.get("baseFeePerGas") or "0x0")
        try:
            tip = parse_quantity(await self.rpc.call("eth_maxPriorityFeePerGas"))
        except RpcError:
            tip = self.min_tip
        tip = max(tip, self.min_tip)
        blob = None
        if blobs:
            excess = head.get("excessBlobGas")
            fraction = self.l1_chain.update_fraction_at(parse_quantity(head["timestamp"]))
            fee = blob_base_fee(parse_quantity(excess) if excess is not None else None, fraction)
            blob = max(2 * fee, self.min_blob_fee)
        return Fees(tip, tip + 2 * base, blob)

    # -------------------------------------------------------------------------------------------- sending

    async def _gas(self, c: TxCandidate) -> int:
        if c.gas_limit is not None:
            return c.gas_limit
        if c.blobs:
            return calldata_gas(c.data) if c.data else BLOB_TX_GAS
        args = {"from": to_hex(self.address), "data": to_hex(c.data), "value": hex(c.value)}
        if c.to is not None:
            args["to"] = to_hex(c.to)
        try:
            estimate = parse_quantity(await self.rpc.call("eth_estimateGas", args))
        except RpcError as e:
            raise SendError(f"gas estimation failed (the call would revert?): {e.message}") from None
        return max(estimate * 6 // 5, calldata_gas(c.data))

    def _build(self, c: TxCandidate, nonce: int, gas: int, fees: Fees) -> tuple[Transaction, bytes]:
        """The signed transaction and the bytes to send (the network form for blob transactions)."""
        if c.blobs:
            if c.to is None:
                raise SendError("a blob transaction cannot create a contract")
            commitments = [blob_to_commitment(b) for b in c.blobs]
            tx = Transaction(BLOB, chain_id=self.chain_id, nonce=nonce, max_priority_fee_per_gas=fees.tip,
                             max_fee_per_gas=fees.fee_cap, gas=gas, to=c.to, value=c.value, data=c.data,
                             max_fee_per_blob_gas=fees.blob_fee_cap,
                             blob_versioned_hashes=[versioned_hash(cm) for cm in commitments]).sign(self.key)
            proofs = [compute_blob_proof(b, cm) for b, cm in zip(c.blobs, commitments, strict=True)]
            body = rlp.decode(tx.raw[1:])
            return tx, bytes((BLOB,)) + rlp.encode([body, list(c.blobs), commitments, proofs])
        tx = Transaction(DYNAMIC_FEE, chain_id=self.chain_id, nonce=nonce, max_priority_fee_per_gas=fees.tip,
                         max_fee_per_gas=fees.fee_cap, gas=gas, to=c.to, value=c.value, data=c.data,
                         access_list=[[a, list(keys)] for a, keys in c.access_list]).sign(self.key)
        return tx, tx.raw

    async def send(self, c: TxCandidate) -> PendingTx:
        """Sign ``c`` with the next nonce and send it."""
        await self._ready()
        gas = await self._gas(c)
        fees = await self.market_fees(bool(c.blobs))
        nonce = self._nonce
        prev = self._fees_by_nonce.get(nonce)
        if prev is not None:
            fees = prev.bumped(fees)
        p = PendingTx(c, nonce, fees, gas, trio.current_time())
        await self._submit(p)
        self._nonce = nonce + 1
        return p

    async def resend(self, p: PendingTx) -> None:
        """Send ``p`` again with the same nonce and higher fees."""
        p.fees = p.fees.bumped(await self.market_fees(bool(p.candidate.blobs)))
        p.sent_at = trio.current_time()
        await self._submit(p)

    async def _submit(self, p: PendingTx) -> None:
        for _ in range(4):
            tx, wire = self._build(p.candidate, p.nonce, p.gas, p.fees)
            try:
                await self.rpc.call("eth_sendRawTransaction", to_hex(wire))
            except RpcError as e:
                msg = e.message.lower()
                if "already known" in msg or "already imported" in msg:
                    pass
                elif "underpriced" in msg or "fee too low" in msg:
                    p.fees = p.fees.bumped(p.fees)
                    continue
                elif "nonce too low" in msg:
                    raise NonceTooLow(f"nonce {p.nonce} of {to_hex(self.address)} already used") from None
                else:
                    raise SendError(f"L1 node refused the transaction: {e.message}") from None
            p.hashes.append(tx.hash)
            self.sent += 1
            prev = self._fees_by_nonce.get(p.nonce)
            self._fees_by_nonce[p.nonce] = p.fees if prev is None else Fees(
                max(prev.tip, p.fees.tip), max(prev.fee_cap, p.fees.fee_cap),
                max(prev.blob_fee_cap or 0, p.fees.blob_fee_cap or 0) or None)
            for n in [n for n in self._fees_by_nonce if n < p.nonce - 256]:
                del self._fees_by_nonce[n]
            log.debug("sent tx 0x%s nonce %d", tx.hash.hex(), p.nonce)
            return
        raise SendError(f"replacement for nonce {p.nonce} still underpriced after raising its fees")

    # -------------------------------------------------------------------------------------------- receipts

    async def receipt(self, p: PendingTx) -> TxReceipt | None:
        """The receipt of whichever version of ``p`` was mined, if any."""
        got = await self.rpc.batch([("eth_getTransactionReceipt", [to_hex(h)]) for h in p.hashes])
        for r in got:
            if isinstance(r, dict) and r.get("blockHash"):
                return TxReceipt.from_json(r)
        return None

    async def in_pool(self, p: PendingTx) -> bool:
        """Whether the node still knows some version of ``p`` (pending or mined)."""
        got = await self.rpc.batch([("eth_getTransactionByHash", [to_hex(h)]) for h in p.hashes])
        return any(isinstance(r, dict) for r in got)

    async def send_and_wait(self, c: TxCandidate, *, poll: float = 0.2, timeout: float = 120.0) -> TxReceipt:
        """Send ``c`` and wait for its receipt, resending when it lingers; raises TxReverted if it failed."""
        with trio.fail_after(timeout):
            p = await self.send(c)
            while True:
                r = await self.receipt(p)
                if r is not None:
                    if r.status != 1:
                        raise TxReverted(r)
                    return r
                if trio.current_time() - p.sent_at > self.resubmit_after:
                    await self.resend(p)
                await trio.sleep(poll)


class NonceTooLow(SendError):
    """The nonce was used meanwhile (by a replacement that got mined, or another sender of this key)."""
