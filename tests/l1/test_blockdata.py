"""Block verification without a node: op-node's real Goerli block vectors, the ordered-trie root against py-trie,
header shapes by fork, and hostile JSON raising only the project's parse errors."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from derivation.protocol import rlp
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex
from derivation.protocol.trie import EMPTY_TRIE_ROOT as EMPTY_ROOT
from derivation.protocol.trie import ordered_trie_root
from opnode.node.l1 import blockdata
from tests.vectors import load

CASES = load("l1_blocks_goerli.json")["cases"]


def verify(block: dict) -> None:
    blockdata.check_block_hash(block)
    blockdata.check_withdrawals_root(block)
    blockdata.block_transactions(block, verify=True)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_op_node_block_vectors(case):
    block = case["block"]
    if not case["fail"]:
        verify(block)
        txs = blockdata.block_transactions(block, verify=False)
        assert [t.hash for t in txs] == [from_hex(t["hash"]) for t in block["transactions"]]
        assert blockdata.block_info(block).hash == from_hex(block["hash"])
        return
    expected = {"failed to verify block hash": "hashes to", "failed to verify transactions list": "transactions of",
                "failed to verify withdrawals list": "withdrawals of", "block tx 0 is nil": "transaction 0 is null",
                "block withdrawal 0 is null": "withdrawal 0 is null"}[case["reason"]]
    with pytest.raises(blockdata.BlockDataError, match=expected):
        verify(block)


def test_every_fork_shape_hashes_and_a_gap_is_rejected():
    block = copy.deepcopy(next(c["block"] for c in CASES if c["name"] == "post-shanghai-success"))
    blockdata.check_block_hash(block)  # Shanghai: up to withdrawalsRoot
    n = len(blockdata.header_rlp(block))
    for key, value in (("blobGasUsed", "0x20000"), ("excessBlobGas", "0x0"), ("parentBeaconBlockRoot", "0x" + "01" * 32),
                       ("requestsHash", "0x" + "02" * 32), ("blockAccessListHash", "0x" + "03" * 32),
                       ("slotNumber", "0x10")):
        block[key] = value
        header = rlp.decode(blockdata.header_rlp(block))
        assert len(header) == len(rlp.decode(blockdata.header_rlp(copy.deepcopy(block) | {key: None}))) + 1
        assert len(blockdata.header_rlp(block)) > n
    assert len(rlp.decode(blockdata.header_rlp(block))) == 23  # Amsterdam headers have 23 fields
    gap = dict(block, excessBlobGas=None)
    with pytest.raises(blockdata.BlockDataError, match="lacks excessBlobGas"):
        blockdata.header_rlp(gap)


def test_unknown_header_fields_are_named_when_the_hash_fails():
    block = dict(next(c["block"] for c in CASES if c["name"] == "post-shanghai-success"), futureRoot="0x" + "00" * 32)
    block["stateRoot"] = "0x" + "00" * 32
    with pytest.raises(blockdata.BlockDataError, match="does not know: futureRoot"):
        blockdata.check_block_hash(block)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=80), max_size=300))
def test_ordered_trie_root_matches_py_trie(values):
    t = HexaryTrie({})
    for i, v in enumerate(values):
        t[rlp.encode_uint(i)] = v
    assert ordered_trie_root(values) == t.root_hash
    assert ordered_trie_root([]) == EMPTY_ROOT


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 5), st.sampled_from(["number", "hash", "gasLimit", "timestamp", "transactions", "withdrawals",
                                           "parentHash", "nonce", "baseFeePerGas", "extraData"]),
       st.one_of(st.none(), st.integers(-5, 2**70), st.text(max_size=12), st.lists(st.none(), max_size=2),
                 st.just("0x"), st.just("0xzz"), st.dictionaries(st.text(max_size=3), st.none(), max_size=2)))
def test_hostile_block_json_raises_only_parse_errors(which, key, value):
    block = copy.deepcopy(CASES[3 if which % 2 else 0]["block"])
    block[key] = value
    try:
        verify(block)
        blockdata.block_info(block)
    except ParseError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["status", "cumulativeGasUsed", "logs", "logsBloom", "transactionIndex", "type", "gasUsed"]),
       st.one_of(st.none(), st.integers(-1, 2**70), st.text(max_size=8), st.lists(st.integers(), max_size=2)))
def test_hostile_receipts_raise_only_parse_errors(key, value):
    receipt = {"type": "0x2", "status": "0x1", "cumulativeGasUsed": "0x5208", "gasUsed": "0x5208", "logs": [],
               "logsBloom": "0x" + "00" * 256, "transactionIndex": "0x0", "blockHash": "0x" + "11" * 32,
               "blockNumber": "0x1", "transactionHash": "0x" + "22" * 32}
    receipt[key] = value
    try:
        blockdata.receipts_from_json(b"\x11" * 32, 1, [b"\x22" * 32], [receipt], b"\x33" * 32)
    except ParseError:
        return
    raise AssertionError("a receipt list with the wrong root was accepted")
