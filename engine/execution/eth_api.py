"""The ``eth_`` namespace the engine serves on its HTTP port, with op-geth's OP fields.

Blocks and transactions use geth's JSON shapes; deposit transactions add ``sourceHash``, ``mint``, ``isSystemTx``
(and the ``nonce`` recorded in the receipt); receipts add ``l1GasPrice``, ``l1Fee``, the L1 fee scalars,
``depositNonce``/``depositReceiptVersion`` and, from Isthmus/Jovian, the operator-fee and DA-footprint fields
(specs: deposits.md §Deposit Receipt; isthmus/, jovian/exec-engine.md §Receipts).
"""

from __future__ import annotations

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity, quantity, to_hex
from derivation.protocol.post_exec import POST_EXEC
from derivation.protocol.rollup_config import Fork
from derivation.protocol.transactions import DEPOSIT, LEGACY, Transaction
from engine.execution.chain import Chain, StoredBlock, find_transaction
from engine.execution.eth_config import eth_config
from engine.execution.evm.call import call_message
from engine.execution.evm.forks import MAX_TX_GAS
from engine.execution.evm.gas import intrinsic_gas
from engine.execution.evm.header import Header
from engine.execution.payload import SERVER_ERROR, RpcError, invalid_params
from engine.execution.txpool import TxPool, TxPoolError

MAX_BLOCK_NUMBER = 2**63 - 1


class HeaderNotFound(RpcError):
    """geth's "header not found": the reads that answer null for a missing block catch only this, never a bad
    parameter (that stays a -32602)."""

EXECUTION_REVERTED = 3
MAX_STORAGE_KEYS = 1024


def _addr(v, name="address") -> bytes:
    try:
        return from_hex(v, 20)
    except ParseError as e:
        raise invalid_params(f"{name}: {e}") from None


def _storage_key(k) -> int:
    """A storage key as geth accepts it: hex of at most 32 bytes, leading zeros optional (``0x0`` is slot 0)."""
    if not isinstance(k, str) or k[:2] not in ("0x", "0X") or not 2 < len(k) <= 66:
        raise invalid_params(f"storage key must be hex of at most 32 bytes: {str(k)[:80]!r}")
    try:
        return int(k[2:], 16)
    except ValueError:
        raise invalid_params(f"storage key is not hex: {k[:80]!r}") from None


def _block_number(tag) -> int:
    """A block number as geth's ``rpc.BlockNumber`` reads one (go-ethereum rpc/types.go ``UnmarshalJSON`` →
    ``hexutil.DecodeUint64``): a 0x-prefixed hex string without leading zeros. A JSON number, a decimal string,
    ``null`` or an object is -32602 with geth's text, as op-geth answers (issue 18 found them accepted)."""
    if not isinstance(tag, str) or tag[:2] not in ("0x", "0X"):
        raise invalid_params("hex string without 0x prefix")
    if len(tag) == 2:
        raise invalid_params("hex string \"0x\"")
    if len(tag) > 3 and tag[2] == "0":
        raise invalid_params("hex number with leading zero digits")
    try:
        return parse_quantity(tag)
    except ParseError as e:
        raise invalid_params(f"block number: {e}") from None


class EthAPI:
    def __init__(self, chain: Chain, txpool: TxPool, lock, syncer=None):
        self.chain = chain
        self.txpool = txpool
        self.lock = lock
        self.syncer = syncer

    # ------------------------------------------------------------------------------------------------ blocks

    def resolve(self, tag) -> Header:
        c = self.chain
        if isinstance(tag, dict):
            if "blockHash" in tag:
                h = c.header(from_hex(tag["blockHash"], 32))
                if h is None:
                    raise HeaderNotFound(SERVER_ERROR, "header not found")
                return h
            tag = tag.get("blockNumber", "latest")
        if tag in (None, "latest", "pending"):
            return c.head
        if tag == "safe":
            return c.safe
        if tag == "finalized":
            return c.finalized
        if tag == "earliest":
            tag = "0x0"
        n = _block_number(tag)
        if n > MAX_BLOCK_NUMBER:  # geth rpc.BlockNumber is an int64; the store's keys are SQLite INTEGERs
            raise invalid_params("block number larger than int64")
        bh = c.canonical_hash(n)
        if bh is None:
            raise HeaderNotFound(SERVER_ERROR, "header not found")
        return c.header(bh)

    def chain_id(self) -> str:
        return quantity(self.chain.spec.chain_id)

    def config(self) -> dict:
        """EIP-7910 ``eth_config`` (see :mod:`.eth_config`)."""
        c = self.chain
        return eth_config(c.spec, c.genesis_hash, c.genesis.timestamp, c.head.timestamp)

    def block_number(self) -> str:
        return quantity(self.chain.head.number)

    def get_block_by_number(self, tag, full=False):
        if not isinstance(tag, str):  # geth rpc.BlockNumber: a tag or a hex string, never an object or null
            _block_number(tag)
        try:
            h = self.resolve(tag)
        except HeaderNotFound:
            return None
        return self._block_json(self.chain.block(h.hash), bool(full))

    def get_block_by_hash(self, block_hash, full=False):
        try:
            b = self.chain.block(from_hex(block_hash, 32))
        except ParseError as e:
            raise invalid_params(f"block hash: {e}") from None
        return None if b is None else self._block_json(b, bool(full))

    def _block_json(self, b: StoredBlock, full: bool) -> dict:
        h = b.header
        out = {"hash": to_hex(h.hash), "parentHash": to_hex(h.parent_hash), "sha3Uncles": to_hex(h.ommers_hash),
               "miner": to_hex(h.coinbase), "stateRoot": to_hex(h.state_root),
               "transactionsRoot": to_hex(h.transactions_root), "receiptsRoot": to_hex(h.receipts_root),
               "logsBloom": to_hex(h.logs_bloom), "difficulty": "0x0", "number": quantity(h.number),
               "gasLimit": quantity(h.gas_limit), "gasUsed": quantity(h.gas_used), "timestamp": quantity(h.timestamp),
               "extraData": to_hex(h.extra_data), "mixHash": to_hex(h.mix_hash), "nonce": to_hex(h.nonce),
               "size": quantity(len(h.encode()) + sum(len(t) for t in b.raw_transactions)), "uncles": []}
        if h.base_fee is not None:
            out["baseFeePerGas"] = quantity(h.base_fee)
        if h.withdrawals_root is not None:
            out["withdrawalsRoot"] = to_hex(h.withdrawals_root)
            out["withdrawals"] = []
        if h.blob_gas_used is not None:
            out["blobGasUsed"] = quantity(h.blob_gas_used)
            out["excessBlobGas"] = quantity(h.excess_blob_gas)
            out["parentBeaconBlockRoot"] = to_hex(h.parent_beacon_root)
        if h.requests_hash is not None:
            out["requestsHash"] = to_hex(h.requests_hash)
        if full:
            out["transactions"] = [self._tx_json(tx, b, i) for i, tx in enumerate(b.transactions)]
        else:
            out["transactions"] = [to_hex(keccak256(raw)) for raw in b.raw_transactions]
        return out

    # ------------------------------------------------------------------------------------------------ txs

    def _tx_json(self, tx: Transaction, b: StoredBlock | None, index: int | None) -> dict:
        out = {"type": quantity(tx.type), "hash": to_hex(tx.hash), "from": to_hex(tx.sender()),
               "to": None if tx.to is None else to_hex(tx.to), "gas": quantity(tx.gas), "value": quantity(tx.value),
               "input": to_hex(tx.data), "blockHash": None, "blockNumber": None, "transactionIndex": None}
        if b is not None:
            out.update(blockHash=to_hex(b.hash), blockNumber=quantity(b.header.number),
                       transactionIndex=quantity(index))
        if tx.type == POST_EXEC:  # post-exec.md §Generic Transaction Interface Representation: nothing else
            del out["to"]
            return out
        if tx.type == DEPOSIT:
            r = b.receipts[index] if b is not None else None
            out.update(sourceHash=to_hex(tx.source_hash), mint=quantity(tx.mint), isSystemTx=tx.is_system_tx,
                       gasPrice="0x0", nonce=quantity(r.deposit_nonce if r and r.deposit_nonce is not None else 0),
                       v="0x0", r="0x0", s="0x0")
            if r is not None and r.deposit_receipt_version is not None:
                out["depositReceiptVersion"] = quantity(r.deposit_receipt_version)
            return out
        out.update(nonce=quantity(tx.nonce), v=quantity(tx.v), r=quantity(tx.r), s=quantity(tx.s))
        if tx.type == LEGACY:
            out["gasPrice"] = quantity(tx.gas_price)
            if tx.chain_id is not None:
                out["chainId"] = quantity(tx.chain_id)
            return out
        out["chainId"] = quantity(tx.chain_id)
        out["accessList"] = [{"address": to_hex(a), "storageKeys": [to_hex(k) for k in ks]} for a, ks in tx.access_list]
        if tx.type == 1:
            out["gasPrice"] = quantity(tx.gas_price)
        else:
            out["maxFeePerGas"] = quantity(tx.max_fee_per_gas)
            out["maxPriorityFeePerGas"] = quantity(tx.max_priority_fee_per_gas)
            price = min(tx.max_fee_per_gas, (b.header.base_fee if b else 0) + tx.max_priority_fee_per_gas)
            out["gasPrice"] = quantity(price if b else tx.max_fee_per_gas)
        out["yParity"] = quantity(tx.v)
        if tx.type == 4:
            out["authorizationList"] = [
                {"chainId": quantity(rlp.decode_uint(a[0])), "address": to_hex(a[1]),
                 "nonce": quantity(rlp.decode_uint(a[2])), "yParity": quantity(rlp.decode_uint(a[3])),
                 "r": quantity(rlp.decode_uint(a[4])), "s": quantity(rlp.decode_uint(a[5]))}
                for a in tx.authorization_list]
        return out

    def get_transaction_by_hash(self, tx_hash):
        found = find_transaction(self.chain, from_hex(tx_hash, 32))
        if found is None:
            return None
        b, i = found
        return self._tx_json(b.transactions[i], b, i)

    def get_transaction_receipt(self, tx_hash):
        try:
            found = find_transaction(self.chain, from_hex(tx_hash, 32))
        except ParseError as e:
            raise invalid_params(f"transaction hash: {e}") from None
        if found is None:
            return None
        b, i = found
        return self._receipt_json(b, i)

    def get_block_receipts(self, tag):
        try:
            h = self.resolve(tag)
        except HeaderNotFound:
            return None
        b = self.chain.block(h.hash)
        return [self._receipt_json(b, i) for i in range(len(b.raw_transactions))]

    def _receipt_json(self, b: StoredBlock, i: int) -> dict:
        tx = b.transactions[i]
        r = b.receipts[i]
        prev = b.receipts[i - 1].cumulative_gas_used if i else 0
        first_log = sum(len(x.logs) for x in b.receipts[:i])
        logs = [{"address": to_hex(lg.address), "topics": [to_hex(t) for t in lg.topics], "data": to_hex(lg.data),
                 "blockNumber": quantity(b.header.number), "transactionHash": to_hex(tx.hash),
                 "transactionIndex": quantity(i), "blockHash": to_hex(b.hash), "logIndex": quantity(first_log + j),
                 "removed": False} for j, lg in enumerate(r.logs)]
        ex = r.extra
        contract = ex.get("contractAddress")
        out = {"type": quantity(tx.type), "status": quantity(r.status),
               "cumulativeGasUsed": quantity(r.cumulative_gas_used), "logsBloom": to_hex(r.bloom.to_bytes(256, "big")),
               "logs": logs, "transactionHash": to_hex(tx.hash), "transactionIndex": quantity(i),
               "blockHash": to_hex(b.hash), "blockNumber": quantity(b.header.number),
               "gasUsed": quantity(ex.get("gasUsed", r.cumulative_gas_used - prev)), "from": to_hex(tx.sender()),
               "to": None if tx.to is None else to_hex(tx.to),
               "contractAddress": None if not contract else "0x" + contract,
               "effectiveGasPrice": quantity(ex.get("effectiveGasPrice", 0))}
        if tx.type == POST_EXEC:
            return out
        if tx.type == DEPOSIT:
            if r.deposit_nonce is not None:
                out["depositNonce"] = quantity(r.deposit_nonce)
            if r.deposit_receipt_version is not None:
                out["depositReceiptVersion"] = quantity(r.deposit_receipt_version)
            return out
        names = {"l1BaseFee": "l1GasPrice", "l1Fee": "l1Fee", "l1GasUsed": "l1GasUsed", "l1BlobBaseFee": "l1BlobBaseFee",
                 "l1BaseFeeScalar": "l1BaseFeeScalar", "l1BlobBaseFeeScalar": "l1BlobBaseFeeScalar",
                 "l1FeeScalar": "l1FeeScalar", "operatorFeeScalar": "operatorFeeScalar",
                 "operatorFeeConstant": "operatorFeeConstant", "daFootprintGasScalar": "daFootprintGasScalar",
                 "blobGasUsed": "blobGasUsed"}
        for k, name in names.items():
            if ex.get(k) is not None:
                out[name] = quantity(ex[k]) if k != "l1FeeScalar" else str(ex[k] / 1e6)
        if self.chain.spec.is_active(Fork.LAGOON, b.header.timestamp):  # sdm.md §Receipt Extension (RPC only)
            out["opGasRefund"] = quantity(ex["opGasRefund"]) if ex.get("opGasRefund") else None
        return out

    # ------------------------------------------------------------------------------------------------ state

    def get_balance(self, address, tag="latest"):
        return quantity(self.chain.account_db(self.resolve(tag)).get_balance(_addr(address)))

    def get_transaction_count(self, address, tag="latest"):
        return quantity(self.chain.account_db(self.resolve(tag)).get_nonce(_addr(address)))

    def get_code(self, address, tag="latest"):
        return to_hex(self.chain.account_db(self.resolve(tag)).get_code(_addr(address)))

    def get_storage_at(self, address, slot, tag="latest"):
        s = _storage_key(slot)
        v = self.chain.account_db(self.resolve(tag)).get_storage(_addr(address), s)
        return to_hex(v.to_bytes(32, "big"))

    def get_proof(self, address, keys, tag="latest"):
        from trie import HexaryTrie

        a = _addr(address)
        if not isinstance(keys, list) or len(keys) > MAX_STORAGE_KEYS:
            raise invalid_params(f"storage keys must be a list of at most {MAX_STORAGE_KEYS}")
        header = self.resolve(tag)
        db = self.chain.store.state_db
        state_trie = HexaryTrie(db, header.state_root)
        acct_proof = [to_hex(rlp.encode(n)) for n in state_trie.get_proof(keccak256(a))]
        adb = self.chain.account_db(header)
        acct = adb._get_account(a)
        storage_trie = HexaryTrie(db, acct.storage_root)
        proofs = []
        for k in keys:
            slot = _storage_key(k)
            proof = [to_hex(rlp.encode(n)) for n in storage_trie.get_proof(keccak256(slot.to_bytes(32, "big")))]
            proofs.append({"key": k, "value": quantity(adb.get_storage(a, slot)), "proof": proof})
        return {"address": to_hex(a), "accountProof": acct_proof, "balance": quantity(acct.balance),
                "codeHash": to_hex(acct.code_hash), "nonce": quantity(acct.nonce),
                "storageHash": to_hex(acct.storage_root), "storageProof": proofs}

    # ------------------------------------------------------------------------------------------------ execution

    def _call_args(self, args: dict, header: Header):
        if not isinstance(args, dict):
            raise invalid_params("call arguments must be an object")
        sender = _addr(args["from"], "from") if args.get("from") else bytes(20)
        to = _addr(args["to"], "to") if args.get("to") else None
        data = args.get("input", args.get("data")) or "0x"
        try:
            data = from_hex(data)
            value = parse_quantity(args.get("value", "0x0"))
            gas = parse_quantity(args["gas"]) if args.get("gas") else header.gas_limit
            price = parse_quantity(args.get("gasPrice", args.get("maxFeePerGas", "0x0")))
        except ParseError as e:
            raise invalid_params(str(e)) from None
        return sender, to, value, data, min(gas, header.gas_limit), price

    def call(self, args, tag="latest"):
        header = self.resolve(tag)
        sender, to, value, data, gas, price = self._call_args(args, header)
        res = call_message(self.chain.spec, self.chain.store.state_db, header, sender, to, value, data, gas, price)
        if not res.success:
            if res.reverted:
                raise RpcError(EXECUTION_REVERTED, "execution reverted", to_hex(res.output))
            raise RpcError(SERVER_ERROR, res.error or "execution failed")
        return to_hex(res.output)

    def estimate_gas(self, args, tag="latest"):
        header = self.resolve(tag)
        sender, to, value, data, cap, price = self._call_args(args, header)
        spec, db = self.chain.spec, self.chain.store.state_db
        if spec.is_active(Fork.KARST, header.timestamp):
            cap = min(cap, MAX_TX_GAS)  # EIP-7825: no transaction can use more (op-reth v2.3.3's estimateGas fix)

        def ok(gas):
            return call_message(spec, db, header, sender, to, value, data, gas, price)

        top = ok(cap)
        if not top.success:
            if top.reverted:
                raise RpcError(EXECUTION_REVERTED, "execution reverted", to_hex(top.output))
            raise RpcError(SERVER_ERROR, f"gas required exceeds allowance ({cap}): {top.error}")
        lo = max(intrinsic_gas(data, to is None, (), 0, True) - 1, top.gas_used - 1)
        hi = cap
        while lo + 1 < hi:
            mid = (lo + hi) // 2
            if ok(mid).success:
                hi = mid
            else:
                lo = mid
        return quantity(hi)

    def send_raw_transaction(self, raw_hex):
        try:
            raw = from_hex(raw_hex)
        except ParseError as e:
            raise invalid_params(str(e)) from None
        head = self.chain.head
        adb = self.chain.account_db(head)
        try:
            tx = self.txpool.add(raw, adb.get_nonce, self.chain.spec.is_active(Fork.KARST, head.timestamp))
        except TxPoolError as e:
            raise RpcError(SERVER_ERROR, str(e)) from None
        return to_hex(tx.hash)

    def get_raw_block(self, tag):
        """geth's ``debug_getRawBlock``: the block's RLP (what EL sync fetches from peers)."""
        from engine.execution.sync import encode_raw_block

        if isinstance(tag, str) and len(tag) == 66:
            b = self.chain.block(from_hex(tag, 32))
        else:
            try:
                b = self.chain.block(self.resolve(tag).hash)
            except HeaderNotFound:
                b = None
        if b is None:
            return None
        return to_hex(encode_raw_block(b.header, b.raw_transactions, b.has_withdrawals))

    def gas_price(self):
        return quantity(self.chain.head.base_fee + 10**6)

    def max_priority_fee(self):
        return quantity(10**6)

    def syncing(self):
        """False, or geth's progress object while EL sync chases a target."""
        syncer = self.syncer
        if syncer is None or not syncer.active:
            return False
        head = self.chain.head.number
        return {"startingBlock": quantity(head), "currentBlock": quantity(head), "highestBlock": quantity(head),
                "syncedBlocks": quantity(syncer.synced)}

