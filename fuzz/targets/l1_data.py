"""Targets for what the node reads from its L1 providers (opnode/l1/blockdata.py over derivation/tx_json.py): block
JSON with full transactions checked against its own hashes and roots, and receipts (JSON or consensus-encoded)
checked against the receipts root."""

from __future__ import annotations

import json

from derivation.protocol import rlp
from derivation.protocol.deposits import deposit_log
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex
from derivation.protocol.transactions import decode as decode_tx
from derivation.protocol.trie import EMPTY_TRIE_ROOT, ordered_trie_root
from fuzz.targets import Cursor, json_input, target
from fuzz.targets.codecs import ADDR, _own_txs
from fuzz.vectors import vector
from opnode.node.l1.blockdata import (
    block_info,
    block_transactions,
    check_block_hash,
    check_withdrawals_root,
    receipt_consensus_bytes,
    receipts_from_json,
    receipts_from_raw,
)

BLOCK_HASH = b"\x0b" * 32


def _block_seeds():
    for case in vector("l1_blocks_goerli")["cases"]:
        b = dict(case["block"])
        yield json.dumps(b).encode()
        b["transactions"] = b["transactions"][:2]
        yield json.dumps(b).encode()


@target("l1_block", allowed=(ParseError,), seeds=_block_seeds, max_len=16384,
        tokens=(b'"0x', b'"transactions":[', b'"withdrawals":[', b'"type":"0x7e"', b'"blobGasUsed":', b"null"))
def l1_block_target(data: bytes) -> None:
    """opnode/l1/blockdata.py: an ``eth_getBlockByHash`` answer with full transactions: header fields by fork, the
    recomputed block hash, every transaction rebuilt from JSON and checked against its hash, the roots."""
    block = json_input(data)
    if not isinstance(block, dict):
        raise ParseError("not an object")
    block_info(block)
    try:
        check_block_hash(block)
    except ParseError:
        pass
    check_withdrawals_root(block)
    block_transactions(block, verify=True)


def _receipt_json(i: int, log_index: int, raw_log) -> dict:
    return {"type": "0x2", "status": "0x1", "cumulativeGasUsed": hex(21000 * (i + 1)), "gasUsed": "0x5208",
            "logsBloom": "0x" + "00" * 256, "transactionIndex": hex(i), "blockHash": "0x" + BLOCK_HASH.hex(),
            "blockNumber": "0x64", "transactionHash": "0x" + (bytes([i]) * 32).hex(),
            "logs": [{"address": "0x" + raw_log.address.hex(), "topics": ["0x" + t.hex() for t in raw_log.topics],
                      "data": "0x" + raw_log.data.hex(), "logIndex": hex(log_index), "removed": False}]}


def _receipt_seeds():
    lg = deposit_log(decode_tx(_own_txs()[-1]), ADDR)
    receipts = [_receipt_json(i, i, lg) for i in range(2)]
    yield b"\x00" + json.dumps(receipts).encode()
    raws = [receipt_consensus_bytes(r) for r in receipts]
    yield b"\x01" + json.dumps(["0x" + r.hex() for r in raws]).encode()
    yield b"\x01" + json.dumps(["0x" + rlp.encode([b"\x01", 21000, bytes(256), []]).hex()]).encode()


def _root(encoded) -> bytes:
    return ordered_trie_root(encoded) if encoded else EMPTY_TRIE_ROOT


@target("l1_receipts", allowed=(ParseError,), seeds=_receipt_seeds, max_len=8192,
        tokens=(b'"logs":[', b'"topics":[', b'"logIndex":', b'"status":', b'"root":', b'"0x'))
def l1_receipts_target(data: bytes) -> None:
    """opnode/l1/blockdata.py: a block's receipts as JSON (mode 0) or consensus-encoded (``debug_getRawReceipts``,
    mode 1). The receipts root is computed from the input where it can be, so that consistent inputs get past it."""
    c = Cursor(data)
    mode = c.byte() % 2
    doc = json_input(c.rest())
    if not isinstance(doc, list):
        raise ParseError("not a list")
    if mode == 0:
        hashes, encoded = [], []
        for r in doc:
            try:
                hashes.append(from_hex(r["transactionHash"], 32))
                encoded.append(receipt_consensus_bytes(r))
            except (ParseError, KeyError, TypeError):
                hashes.append(bytes(32))
        receipts_from_json(BLOCK_HASH, 100, hashes, doc, _root(encoded))
    else:
        try:
            root = _root([from_hex(x) for x in doc])
        except ParseError:
            root = bytes(32)
        receipts_from_raw(100, doc, len(doc), root)
