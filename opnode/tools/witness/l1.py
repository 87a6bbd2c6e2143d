"""The pipeline's L1 source over the oracle, as kona's fault-proof client reads L1 (kona
``crates/proof/proof/src/l1/chain_provider.rs`` and ``blob_provider.rs``, op-rs/kona@cdb9be24, 2026-01-09):

- a header is the keccak256 preimage of its hash; a block by number is found by walking back from the L1 head by
  parent hash (nothing after the L1 head exists for the program: asking for it is the end of the data);
- transactions and receipts are the leaves of the tries under the header's roots, node by node;
- a blob is its commitment (sha256 key: the versioned hash) and its 4096 field elements (blob keys).
"""

from __future__ import annotations

from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import to_hex
from derivation.protocol.transactions import Transaction
from derivation.protocol.transactions import decode as decode_tx
from derivation.protocol.types import L1BlockInfo, L1BlockRef, Receipt
from derivation.providers import DataKind, DataRequest, IndexedBlobHash, NeedData
from opnode.node.l1.blockdata import receipts_from_raw
from opnode.tools.replay.store import L1Header, decode_l1_header
from opnode.tools.witness.keys import keccak_key
from opnode.tools.witness.mpt import walk_ordered
from opnode.tools.witness.oracle import Oracle, PreimageMismatch


class OracleL1:
    def __init__(self, oracle: Oracle, l1_head: bytes):
        self.oracle = oracle
        self.headers: dict[bytes, L1Header] = {}
        self.by_number: dict[int, bytes] = {}
        self.head = self.header(l1_head, "the L1 head")
        self.by_number[self.head.info.number] = l1_head
        self._walked = self.head  # the oldest header reached walking back from the head

    def header(self, block_hash: bytes, purpose: str) -> L1Header:
        h = self.headers.get(block_hash)
        if h is None:
            raw = self.oracle.keccak(block_hash, purpose)
            try:
                h = decode_l1_header(raw)
            except ParseError as e:
                raise PreimageMismatch(keccak_key(block_hash), purpose, f"is not a block header: {e}") from None
            self.headers[block_hash] = h
        return h

    def block_by_number(self, number: int) -> L1BlockInfo:
        if number > self.head.info.number:
            raise NeedData(DataRequest(DataKind.L1_BLOCK_BY_NUMBER, number))
        while self._walked.info.number > number:
            n = self._walked.info.number - 1
            self._walked = self.header(self._walked.info.parent_hash, f"L1 header {n}")
            self.by_number[n] = self._walked.info.hash
        return self.headers[self.by_number[number]].info

    def block_by_hash(self, block_hash: bytes) -> L1BlockInfo:
        return self.header(block_hash, f"L1 header {to_hex(block_hash)}").info

    def _leaves(self, root: bytes, what: str) -> list[bytes]:
        try:
            return walk_ordered(root, lambda h: self.oracle.keccak(h, f"a trie node of {what}"))
        except ParseError as e:
            raise PreimageMismatch(keccak_key(root), what, f"is not a valid trie: {e}") from None

    def transactions(self, block: L1BlockRef) -> list[Transaction]:
        h = self.header(block.hash, f"L1 header {block.number}")
        what = f"the transactions of L1 block {block.number}"
        raws = self._leaves(h.transactions_root, what)
        try:
            return [decode_tx(r) for r in raws]
        except ParseError as e:
            raise PreimageMismatch(keccak_key(h.transactions_root), what, f"holds an undecodable transaction: {e}") \
                from None

    def receipts(self, block: L1BlockRef) -> list[Receipt]:
        h = self.header(block.hash, f"L1 header {block.number}")
        what = f"the receipts of L1 block {block.number}"
        raws = self._leaves(h.info.receipts_root, what)
        try:
            return receipts_from_raw(block.number, [to_hex(r) for r in raws], len(raws), h.info.receipts_root)
        except ParseError as e:
            raise PreimageMismatch(keccak_key(h.info.receipts_root), what, f"holds an undecodable receipt: {e}") \
                from None

    def blobs(self, block: L1BlockRef, hashes: tuple[IndexedBlobHash, ...]) -> list[bytes]:
        return [self.oracle.blob(ih.hash, f"blob {ih.index} of L1 block {block.number}") for ih in hashes]
