"""The pipeline's L2 source over the oracle and the blocks the run has executed, as kona's
``OracleL2ChainProvider`` (kona ``crates/proof/proof/src/l2/chain_provider.rs``, op-rs/kona@cdb9be24, 2026-01-09):
a header is the keccak256 preimage of its hash, its transactions the leaves of its transactions trie; a block by
number is found by walking back from the current safe head by parent hash (the linear walk; kona's Isthmus
shortcut through the EIP-2935 ring buffer reaches the same blocks); the L2BlockRef and SystemConfig of a block come
from its header and L1-info deposit (op-node ``L2BlockToBlockRef``, ``PayloadToSystemConfig``).

Blocks the run executed are answered from memory: their headers are the run's own result, not the store's.
"""

from __future__ import annotations

from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import to_hex
from derivation.protocol.l1_info import system_config_from_l2_block
from derivation.protocol.l2_refs import block_ref
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.system_config import SystemConfig
from derivation.protocol.transactions import decode as decode_tx
from derivation.protocol.types import L2BlockRef
from derivation.providers import DataKind, DataRequest, NeedData
from engine.execution.evm.header import Header
from opnode.tools.witness.keys import keccak_key
from opnode.tools.witness.mpt import walk_ordered
from opnode.tools.witness.oracle import Oracle, PreimageMismatch


class OracleL2:
    def __init__(self, cfg: RollupConfig, oracle: Oracle, safe_hash: bytes):
        self.cfg = cfg
        self.oracle = oracle
        self.headers: dict[bytes, Header] = {}
        self.txs: dict[bytes, tuple[bytes, ...]] = {}
        self.refs: dict[bytes, L2BlockRef] = {}
        self.safe = self.ref(safe_hash, "the agreed L2 head")
        self._chain: dict[int, bytes] = {self.safe.number: safe_hash}  # the canonical chain walked so far

    def header(self, block_hash: bytes, purpose: str = "") -> Header:
        h = self.headers.get(block_hash)
        if h is None:
            purpose = purpose or f"L2 header {to_hex(block_hash)}"
            raw = self.oracle.keccak(block_hash, purpose)
            try:
                h = Header.decode(raw)
            except ParseError as e:
                raise PreimageMismatch(keccak_key(block_hash), purpose, f"is not a block header: {e}") from None
            self.headers[block_hash] = h
        return h

    def transactions_of(self, block_hash: bytes) -> tuple[bytes, ...]:
        t = self.txs.get(block_hash)
        if t is None:
            h = self.header(block_hash)
            what = f"the transactions of L2 block {h.number}"
            try:
                t = tuple(walk_ordered(h.transactions_root, lambda n: self.oracle.keccak(n, f"a trie node of {what}")))
            except ParseError as e:
                raise PreimageMismatch(keccak_key(h.transactions_root), what, f"is not a valid trie: {e}") from None
            self.txs[block_hash] = t
        return t

    def ref(self, block_hash: bytes, purpose: str = "") -> L2BlockRef:
        r = self.refs.get(block_hash)
        if r is None:
            h = self.header(block_hash, purpose)
            txs = self.transactions_of(block_hash) if h.number != self.cfg.genesis.l2.number else ()
            try:
                r = block_ref(self.cfg, block_hash, h.number, h.parent_hash, h.timestamp, txs[0] if txs else None)
            except ParseError as e:
                raise PreimageMismatch(keccak_key(block_hash), purpose or f"L2 block {h.number}",
                                       f"is not a block of this rollup: {e}") from None
            self.refs[block_hash] = r
        return r

    def add_executed(self, header: Header, raw_txs: tuple[bytes, ...]) -> L2BlockRef:
        """A block the run built becomes the new safe head."""
        h = header.hash
        self.headers[h] = header
        self.txs[h] = tuple(raw_txs)
        self.refs.pop(h, None)
        ref = self.ref(h)
        self._chain = {n: x for n, x in self._chain.items() if n < ref.number}
        self._chain[ref.number] = h
        self.safe = ref
        return ref

    def _hash_at(self, number: int) -> bytes:
        if number > self.safe.number or number < self.cfg.genesis.l2.number:
            raise NeedData(DataRequest(DataKind.L2_BLOCK_BY_NUMBER, number))
        while number not in self._chain:
            oldest = min(self._chain)
            parent = self.header(self._chain[oldest]).parent_hash
            self.header(parent, f"L2 header {oldest - 1}")
            self._chain[oldest - 1] = parent
        return self._chain[number]

    # ------------------------------------------------------------------------------------------------ L2Source

    def block_ref_by_number(self, number: int) -> L2BlockRef:
        return self.ref(self._hash_at(number))

    def block_ref_by_hash(self, block_hash: bytes) -> L2BlockRef:
        return self.ref(block_hash)

    def system_config(self, block_hash: bytes) -> SystemConfig:
        h = self.header(block_hash)
        if h.number == self.cfg.genesis.l2.number:
            return self.cfg.genesis.system_config
        first = self.transactions_of(block_hash)[0]
        try:
            return system_config_from_l2_block(self.cfg, decode_tx(first).data, h.gas_limit, h.extra_data,
                                               h.timestamp)
        except ParseError as e:
            raise PreimageMismatch(keccak_key(block_hash), f"L2 block {h.number}",
                                   f"has no readable L1-info deposit: {e}") from None

    def transactions(self, number: int) -> list[bytes]:
        return list(self.transactions_of(self._hash_at(number)))
