"""The engine's block tree: known blocks, the canonical chain, the forkchoice heads, building and importing blocks.

One :class:`Chain` owns the store. Every block it knows was executed and validated (there is no optimistic
import): ``build`` seals a new block from attributes, ``import_payload`` re-executes a received block and checks
every header field, both keep the block as a known, non-canonical block; ``set_forkchoice`` makes a block the head
(rewriting the canonical index on a reorg) and records safe/finalized.
"""

from __future__ import annotations

import contextlib
import json
from collections import OrderedDict
from dataclasses import dataclass

from eth.db.account import AccountDB

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256
from derivation.protocol.payload import ExecutionPayload, ExecutionPayloadEnvelope
from derivation.protocol.post_exec import POST_EXEC, PostExecError, check_block
from derivation.protocol.predeploys import L2_TO_L1_MESSAGE_PASSER
from derivation.protocol.rollup_config import Fork
from derivation.protocol.transactions import Transaction, decode, post_exec_tx
from derivation.protocol.trie import EMPTY_TRIE_ROOT as EMPTY_ROOT
from engine.execution.evm.base_fee import ExtraDataError, decode_extra_data
from engine.execution.evm.block import BlockAttributes, BlockBuilder, SealedBlock
from engine.execution.evm.header import Header
from engine.execution.evm.outcome import GasLimitReached, InvalidPostExec, InvalidTransaction
from engine.execution.evm.receipts import Receipt
from engine.execution.genesis import Genesis, artifact_code
from engine.execution.payload import payload_header
from engine.execution.store import Store


class InvalidBlock(Exception):
    """A received block breaks a validity rule; the message says which."""


class UnknownBlock(KeyError):
    """No block with that hash is known."""


@dataclass(slots=True)
class StoredBlock:
    header: Header
    raw_transactions: list[bytes]
    receipts: list[Receipt]
    has_withdrawals: bool
    _txs: list[Transaction] | None = None

    @property
    def hash(self) -> bytes:
        return self.header.hash

    @property
    def transactions(self) -> list[Transaction]:
        if self._txs is None:
            self._txs = [decode(raw) for raw in self.raw_transactions]
        return self._txs


class Chain:
    HEADER_CACHE = 4096  # decoded headers kept in memory (BLOCKHASH reads 256 back); the store has every one

    def __init__(self, genesis: Genesis, store: Store | None = None):
        self.genesis = genesis
        self.spec = genesis.spec
        self.store = store if store is not None else Store()
        self._headers: OrderedDict[bytes, Header] = OrderedDict()  # bounded by HEADER_CACHE: see _cache
        self.create2deployer = artifact_code("Create2Deployer")
        known = self.store.get_meta("genesis")
        if known is None:
            self.store.begin()
            header = genesis.header(self.store.state_db)
            self._put(header, [], [], header.withdrawals_root is not None)
            self.store.set_canonical(0, header.hash)
            self.store.set_meta("genesis", header.hash)
            for k in ("head", "safe", "finalized"):
                self.store.set_meta(k, header.hash)
            self.store.commit()
            self.genesis_hash = header.hash
        else:
            self.genesis_hash = known
            expect = genesis.header().hash
            if expect != known:
                raise ValueError(f"the data directory holds chain with genesis 0x{known.hex()}, not this genesis "
                                 f"(0x{expect.hex()})")

    # ------------------------------------------------------------------------------------------------ reading

    def header(self, block_hash: bytes) -> Header | None:
        h = self._headers.get(block_hash)
        if h is not None:
            return h
        rec = self.store.get_block(block_hash)
        if rec is None:
            return None
        h = Header.decode(rec[0])
        self._cache(block_hash, h)
        return h

    def _cache(self, block_hash: bytes, h: Header) -> None:
        """Remember a decoded header, dropping the oldest past :attr:`HEADER_CACHE` (every block written used to
        stay: a 50,000-block sync kept 50,000 headers)."""
        self._headers[block_hash] = h
        while len(self._headers) > self.HEADER_CACHE:
            self._headers.popitem(last=False)

    def block(self, block_hash: bytes) -> StoredBlock | None:
        rec = self.store.get_block(block_hash)
        if rec is None:
            return None
        header = self.header(block_hash)
        body = rlp.decode(rec[1])
        receipts = []
        for enc, extra in rlp.decode(rec[2]):
            receipts.append(Receipt.from_storage(enc, json.loads(extra)))
        return StoredBlock(header, list(body[0]), receipts, body[1] == b"\x01")

    def has_block(self, block_hash: bytes) -> bool:
        return block_hash in self._headers or self.store.has_block(block_hash)

    def canonical_hash(self, number: int) -> bytes | None:
        return self.store.canonical_hash(number)

    def _meta_header(self, key: str) -> Header:
        return self.header(self.store.get_meta(key))

    @property
    def head(self) -> Header:
        return self._meta_header("head")

    @property
    def safe(self) -> Header:
        return self._meta_header("safe")

    @property
    def finalized(self) -> Header:
        return self._meta_header("finalized")

    def is_canonical(self, header: Header) -> bool:
        return self.canonical_hash(header.number) == header.hash

    def account_db(self, header: Header) -> AccountDB:
        return AccountDB(self.store.state_db, header.state_root)

    def _ancestors(self, parent: Header):
        """BLOCKHASH's view: the parent's hash, then older ancestors, up to 256 (newest first, lazily)."""
        h = parent
        for _ in range(256):
            yield h.hash
            if h.number == 0:
                return
            h = self.header(h.parent_hash)
            if h is None:
                return

    # ------------------------------------------------------------------------------------------------ writing

    def _put(self, header: Header, raw_txs: list[bytes], results, has_withdrawals: bool) -> None:
        receipts = [] if not results else [
            [r.receipt.storage_encoding(), json.dumps(_receipt_extra(r), separators=(",", ":")).encode()]
            for r in results]
        body = rlp.encode([raw_txs, b"\x01" if has_withdrawals else b""])
        self.store.put_block(header.hash, header.number, header.encode(), body, rlp.encode(receipts))
        for i, raw in enumerate(raw_txs):
            self.store.put_tx(keccak256(raw), header.hash, i)
        self._cache(header.hash, header)

    def builder(self, parent_hash: bytes, attrs: BlockAttributes) -> BlockBuilder:
        parent = self.header(parent_hash)
        if parent is None:
            raise UnknownBlock(parent_hash)
        return BlockBuilder(self.spec, self.store.state_db, parent, attrs, self._ancestors(parent),
                            self.create2deployer)

    def save(self, sealed: SealedBlock) -> None:
        """Keep a sealed block (not canonical until a forkchoice update names it)."""
        self.store.begin()
        try:
            self._put(sealed.header, [t.raw for t in sealed.transactions], sealed.results,
                      sealed.withdrawals is not None)
            self.store.commit()
        except BaseException:
            self.store.rollback()
            raise

    def build(self, parent_hash: bytes, attrs: BlockAttributes, forced: list[Transaction],
              pool_txs=None, produce_post_exec: bool = False) -> SealedBlock:
        with self._transaction():
            return self._build(parent_hash, attrs, forced, pool_txs, produce_post_exec)

    def import_payload(self, env: ExecutionPayloadEnvelope) -> SealedBlock:
        """Execute a received block on its (known) parent; raise :class:`InvalidBlock` naming the broken rule."""
        with self._transaction():
            return self._import_payload(env)

    @contextlib.contextmanager
    def _transaction(self):
        """State nodes, block and index of one block land in one store transaction (or none of them)."""
        self.store.begin()
        try:
            yield
        except BaseException:
            self.store.rollback()
            raise
        self.store.commit()

    def _build(self, parent_hash: bytes, attrs: BlockAttributes, forced: list[Transaction],
               pool_txs=None, produce_post_exec: bool = False) -> SealedBlock:
        """Forced transactions must all apply (else :class:`InvalidTransaction`); pool transactions that do not
        fit or fail validation are skipped. A trailing post-exec transaction among the forced ones (a derived
        Lagoon block) is verified whatever ``produce_post_exec`` says (op-reth #21321); otherwise, with
        ``produce_post_exec`` and the pool in use, the block's SDM refunds are produced and a post-exec transaction
        is appended when there is any. The block is sealed and saved, not made canonical."""
        b = self.builder(parent_hash, attrs)
        ex = b.executor
        try:
            payload = self._post_exec_of(forced, ex.env.number, attrs.timestamp)
        except PostExecError as e:
            raise InvalidPostExec(str(e)) from None
        if payload is not None:
            ex.verify_post_exec(payload)
            pool_txs = None
        if ex.env.deposits_only:
            pool_txs = None
        producer = None
        if produce_post_exec and pool_txs is not None and ex.lagoon:
            producer = ex.produce_post_exec()
        for tx in forced:
            b.apply(tx)
        if pool_txs is not None:
            for tx in pool_txs:
                if tx.gas > b.gas_left:
                    continue
                try:
                    b.apply(tx)
                except InvalidTransaction:
                    continue
        if producer is not None and (produced := producer.payload(ex.env.number)) is not None:
            b.apply(post_exec_tx(produced))
        sealed = b.seal()
        self.save(sealed)
        return sealed

    def _post_exec_of(self, txs: list[Transaction], number: int, timestamp: int):
        """The block's post-exec payload after the envelope and SDM checks (lagoon/post-exec.md, sdm.md), or None."""
        return check_block([t.type for t in txs], {i: t.post_exec for i, t in enumerate(txs) if t.type == POST_EXEC},
                           number, self.spec.is_active(Fork.LAGOON, timestamp))

    def _import_payload(self, env: ExecutionPayloadEnvelope) -> SealedBlock:
        p = env.payload
        parent = self.header(p.parent_hash)
        if parent is None:
            raise UnknownBlock(p.parent_hash)
        spec = self.spec
        eip1559, min_base_fee = _check_payload_fields(spec, p, parent)
        claimed = payload_header(spec, env)
        if claimed.hash != p.block_hash:
            raise InvalidBlock(f"blockhash mismatch: computed 0x{claimed.hash.hex()}, payload says 0x{p.block_hash.hex()}")
        attrs = BlockAttributes(timestamp=p.timestamp, prev_randao=p.prev_randao, fee_recipient=p.fee_recipient,
                                gas_limit=p.gas_limit, parent_beacon_root=env.parent_beacon_block_root,
                                eip1559_params=eip1559, min_base_fee=min_base_fee)
        b = self.builder(p.parent_hash, attrs)
        if b.executor.env.base_fee != p.base_fee_per_gas:
            raise InvalidBlock(f"invalid baseFee: have {p.base_fee_per_gas}, want {b.executor.env.base_fee}")
        txs = []
        for i, raw in enumerate(p.transactions):
            try:
                txs.append(decode(raw))
            except Exception as e:
                raise InvalidBlock(f"transaction {i}: {e}") from None
        try:
            post_exec = self._post_exec_of(txs, p.block_number, p.timestamp)
        except PostExecError as e:
            raise InvalidBlock(f"invalid post-exec transaction: {e}") from None
        if post_exec is not None:
            b.executor.verify_post_exec(post_exec)
        for i, tx in enumerate(txs):
            try:
                b.apply(tx)
            except GasLimitReached as e:
                raise InvalidBlock(f"transaction {i}: {e}") from None
            except InvalidTransaction as e:
                raise InvalidBlock(f"could not apply tx {i} [0x{tx.hash.hex()}]: {e}") from None
        sealed = b.seal()
        h = sealed.header
        if not spec.is_active(Fork.HOLOCENE, p.timestamp):
            h = h.replace(extra_data=p.extra_data)
            sealed.header = h
        checks = [("gasUsed", h.gas_used, p.gas_used), ("stateRoot", h.state_root, p.state_root),
                  ("receiptsRoot", h.receipts_root, p.receipts_root), ("logsBloom", h.logs_bloom, p.logs_bloom)]
        if p.blob_gas_used is not None:
            checks.append(("blobGasUsed", h.blob_gas_used, p.blob_gas_used))
        if p.withdrawals_root is not None:
            checks.append(("withdrawalsRoot", h.withdrawals_root, p.withdrawals_root))
        for name, have, want in checks:
            if have != want:
                fmt = (lambda v: "0x" + v.hex()) if isinstance(have, bytes) else str
                raise InvalidBlock(f"invalid {name} (remote: {fmt(want)} local: {fmt(have)})")
        if h.hash != p.block_hash:
            raise InvalidBlock(f"blockhash mismatch: computed 0x{h.hash.hex()}, payload says 0x{p.block_hash.hex()}")
        self.save(sealed)
        return sealed

    def set_forkchoice(self, head: bytes, safe: bytes | None = None, finalized: bytes | None = None) -> None:
        """Make ``head`` canonical (reorging if needed) and record safe/finalized, in one committed transaction."""
        h = self.header(head)
        if h is None:
            raise UnknownBlock(head)
        self.store.begin()
        try:
            if not self.is_canonical(h):
                cur = h
                while self.canonical_hash(cur.number) != cur.hash:
                    self.store.set_canonical(cur.number, cur.hash)
                    if cur.number == 0:
                        break
                    cur = self.header(cur.parent_hash)
            self.store.delete_canonical_above(h.number)
            self.store.set_meta("head", head)
            if safe and safe != bytes(32):
                self.store.set_meta("safe", safe)
            if finalized and finalized != bytes(32):
                self.store.set_meta("finalized", finalized)
            self.store.commit()
        except BaseException:
            self.store.rollback()
            raise

    def withdrawals_storage_root(self, header: Header) -> bytes:
        acct = self.account_db(header)._get_account(L2_TO_L1_MESSAGE_PASSER)
        return acct.storage_root or EMPTY_ROOT


def _check_payload_fields(spec, p: ExecutionPayload, parent: Header) -> tuple[bytes | None, int | None]:
    """The checks on the payload's own fields before execution (number, time, withdrawals, extraData); returns
    the EIP-1559 parameters and minimum base fee the Holocene/Jovian extraData carries (None before)."""
    if p.block_number != parent.number + 1:
        raise InvalidBlock(f"invalid number: have {p.block_number}, want {parent.number + 1}")
    if p.timestamp <= parent.timestamp:
        raise InvalidBlock(f"invalid timestamp: {p.timestamp} not after parent's {parent.timestamp}")
    if p.withdrawals:
        raise InvalidBlock("withdrawals must be empty on OP Stack chains")
    if not spec.is_active(Fork.HOLOCENE, p.timestamp):
        if len(p.extra_data) > 32:
            raise InvalidBlock("extraData longer than 32 bytes")
        return None, None
    jovian = spec.is_active(Fork.JOVIAN, p.timestamp)
    try:
        d, e, m = decode_extra_data(p.extra_data, jovian)
    except ExtraDataError as err:
        raise InvalidBlock(f"invalid extraData: {err}") from None
    return d.to_bytes(4, "big") + e.to_bytes(4, "big"), m if jovian else None


def _receipt_extra(r) -> dict:
    out = {"gasUsed": r.gas_used}
    if r.contract_address:
        out["contractAddress"] = r.contract_address.hex()
    for k, v in r.extra.items():
        out[k] = v
    return out


def find_transaction(chain: Chain, tx_hash: bytes) -> tuple[StoredBlock, int] | None:
    """The canonical block holding ``tx_hash`` and its index, if any."""
    for block_hash, idx in chain.store.tx_locations(tx_hash):
        h = chain.header(block_hash)
        if h is not None and chain.is_canonical(h):
            return chain.block(block_hash), idx
    return None
