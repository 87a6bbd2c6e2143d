"""Lagoon in the embedded engine: the 0x7D post-exec transaction and Sequencer-Defined Metering.

Rules from specs lagoon/post-exec.md and lagoon/sdm.md (index @8b965fb3) and alloy-op-evm's block executor
(index id 71291605217, 2026-11); see derivation/post_exec.py and engine/evm/sdm.py.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from derivation.protocol import rlp
from derivation.protocol.crypto import keccak256
from derivation.protocol.hexutil import to_hex
from derivation.protocol.post_exec import POST_EXEC, PostExecError, PostExecPayload, SDMGasEntry, decode, sdm_payload
from derivation.protocol.rollup_config import Fork
from derivation.protocol.transactions import decode as decode_tx
from derivation.protocol.transactions import post_exec_tx
from engine.execution.chain import Chain
from engine.execution.engine_api import EngineAPI
from engine.execution.evm.block import BlockAttributes
from engine.execution.evm.outcome import GasLimitReached, InvalidTransaction
from engine.execution.genesis import Account
from engine.execution.op_genesis import build_op_genesis
from engine.execution.payload import envelope_of, payload_header
from engine.execution.txpool import TxPool, TxPoolError
from opnode.testing.engine import GENESIS_TIME, SEQ_VAULT, addr, key, l1_info, transfer

BASE_FEE_VAULT = bytes.fromhex("4200000000000000000000000000000000000019")
L1_FEE_VAULT = bytes.fromhex("420000000000000000000000000000000000001a")
OPERATOR_FEE_VAULT = bytes.fromhex("420000000000000000000000000000000000001b")
RECORDER = bytes.fromhex("00000000000000000000000000000000000c0de1")
RECORDER_CODE = bytes.fromhex("34600055336001550000")  # SSTORE(0, CALLVALUE); SSTORE(1, CALLER); STOP


_GENESIS: dict = {}


def _genesis(lagoon_offset: int = 0):
    if lagoon_offset not in _GENESIS:
        times = {Fork.JOVIAN: 0, Fork.KARST: 0, Fork.LAGOON: GENESIS_TIME + lagoon_offset}
        g = build_op_genesis(901, GENESIS_TIME, times, funded={addr(i): 10**24 for i in range(4)})
        g.alloc[RECORDER] = Account(code=RECORDER_CODE)
        _GENESIS[lagoon_offset] = g
    return copy.deepcopy(_GENESIS[lagoon_offset])


def _attrs(parent, gas_limit=30_000_000):
    return BlockAttributes(parent.timestamp + 2, keccak256(parent.hash), SEQ_VAULT, gas_limit, keccak256(b"beacon"),
                           bytes(8), 0)


def _info():
    return l1_info(op_scalar=7, op_const=11)


def _users():
    return [transfer(key(0), 0, addr(3), 1, tip=10**7), transfer(key(1), 0, addr(3), 1, tip=10**7)]


# ---------------------------------------------------------------------------------------------------- codec


def test_post_exec_encoding_hash_and_sender():
    p = sdm_payload(7, {3: 100, 1: 5000})
    # 0x7D || RLP([1, 7, [[1, 5000], [3, 100]]]), worked out by hand from the RLP rules:
    raw = bytes.fromhex("7d" "cb" "01" "07" "c8" "c4018213" "88" "c20364")
    assert p.tx_bytes() == raw and decode(raw) == p
    assert p.tx_hash == keccak256(raw)
    tx = decode_tx(raw)
    assert tx.type == POST_EXEC and tx.sender() == bytes(20) and tx.hash == keccak256(raw) and tx.gas == 0
    assert tx.post_exec.entries == (SDMGasEntry(1, 5000), SDMGasEntry(3, 100))


@pytest.mark.parametrize("raw, why", [
    ("7dcb0207c8c401821388c20364", "unsupported post-exec payload version 2"),
    ("7dcb0107c8c401821388c2036400", "trailing"),
    ("7dcc018107c8c401821388c20364", "non-canonical"),  # blockNumber 7 as 0x8107
    ("7dc20107", "3"),  # missing the entries list
    ("7dc70107c4c3010203", "entry"),  # an entry with three fields
])
def test_post_exec_decoding_is_strict(raw, why):
    with pytest.raises(PostExecError, match=why):
        decode_tx(bytes.fromhex(raw))


def test_pool_refuses_post_exec_transactions():
    with pytest.raises(TxPoolError, match="post-exec"):
        TxPool(901).add(sdm_payload(1, {1: 1}).tx_bytes(), lambda _a: 0, karst=True)


# ---------------------------------------------------------------------------------------------------- SDM verify


def _balances(c, header):
    adb = c.account_db(header)
    return {k: adb.get_balance(a) for k, a in (("sender", addr(1)), ("coinbase", SEQ_VAULT),
                                                ("base", BASE_FEE_VAULT), ("l1", L1_FEE_VAULT),
                                                ("op", OPERATOR_FEE_VAULT))}


def test_refunds_from_the_payload_lower_canonical_gas_and_settle_fees():
    c = Chain(_genesis())
    g = c.head
    refund = 1000
    plain = c.build(g.hash, _attrs(g), [_info(), *_users()])
    sdm = c.build(g.hash, _attrs(g), [_info(), *_users(), post_exec_tx(sdm_payload(1, {2: refund}))])
    a, b = plain.results, sdm.results
    assert b[2].gas_used == a[2].gas_used - refund and b[2].evm_gas_used == a[2].gas_used
    assert b[2].extra["opGasRefund"] == refund and "opGasRefund" not in b[1].extra
    assert sdm.header.gas_used == plain.header.gas_used - refund
    pe = b[3].receipt
    assert (pe.tx_type, pe.status, pe.logs, pe.bloom) == (POST_EXEC, 1, (), 0)
    assert pe.cumulative_gas_used == b[2].receipt.cumulative_gas_used
    assert pe.consensus_encoding()[0] == POST_EXEC
    # post-exec.md §DA Footprint: the 0x7D adds nothing to blobGasUsed
    assert sdm.header.blob_gas_used == plain.header.blob_gas_used > 0
    # sdm.md §Settlement: sender credit r*p + opFee diff; beneficiary r*(p-b); base-fee vault r*b; operator
    # fee vault the opFee diff (Jovian: gas * scalar * 100); L1 fee vault unchanged.
    base = plain.header.base_fee
    price = a[2].extra["effectiveGasPrice"]
    op_diff = refund * 7 * 100
    x, y = _balances(c, plain.header), _balances(c, sdm.header)
    assert y["sender"] - x["sender"] == refund * price + op_diff
    assert x["coinbase"] - y["coinbase"] == refund * (price - base)
    assert x["base"] - y["base"] == refund * base
    assert x["op"] - y["op"] == op_diff
    assert x["l1"] == y["l1"]
    other = Chain(_genesis())
    assert other.import_payload(envelope_of(other.spec, sdm.header, [t.raw for t in sdm.transactions], True)).hash \
        == sdm.hash


def _bad(payload: PostExecPayload):
    return post_exec_tx(payload)


@pytest.mark.parametrize("make, match", [
    (lambda: [_info(), *_users(), _bad(PostExecPayload(1, 1, ()))], "no gas refund entries"),
    (lambda: [_info(), *_users(), _bad(PostExecPayload(1, 1, (SDMGasEntry(2, 0),)))], "zero post-exec"),
    (lambda: [_info(), *_users(), _bad(PostExecPayload(1, 1, (SDMGasEntry(2, 5), SDMGasEntry(1, 5))))],
     "strictly increasing"),
    (lambda: [_info(), *_users(), _bad(sdm_payload(2, {2: 5}))], "block number"),
    (lambda: [_info(), *_users(), _bad(sdm_payload(1, {0: 5}))], "deposit tx index 0"),
    (lambda: [_info(), *_users(), _bad(sdm_payload(1, {5: 5}))], "not a transaction before"),
    (lambda: [_info(), *_users(), _bad(sdm_payload(1, {2: 30_000}))], "exceeds evm_gas_used"),
    (lambda: [_info(), _users()[0], _bad(sdm_payload(1, {1: 5})), _users()[1]], "final transaction"),
    (lambda: [_info(), *_users(), _bad(sdm_payload(1, {1: 5})), _bad(sdm_payload(1, {1: 5}))],
     "multiple post-exec"),
])
def test_invalid_post_exec_blocks_are_refused(make, match):
    c = Chain(_genesis())
    g = c.head
    with pytest.raises(InvalidTransaction, match=match):
        c.build(g.hash, _attrs(g), make())


def test_post_exec_before_lagoon_is_refused():
    c = Chain(_genesis(lagoon_offset=10))
    g = c.head
    with pytest.raises(InvalidTransaction, match="SDM not active"):
        c.build(g.hash, _attrs(g), [_info(), *_users(), post_exec_tx(sdm_payload(1, {2: 5}))])


def test_import_checks_the_envelope_before_executing():
    """A block whose 0x7D is not last is INVALID on newPayload (post-exec.md §Block-Level Structural Rules)."""
    c = Chain(_genesis())
    g = c.head
    good = c.build(g.hash, _attrs(g), [_info(), *_users(), post_exec_tx(sdm_payload(1, {2: 1000}))])
    api = EngineAPI(Chain(_genesis()))
    txs = [t.raw for t in good.transactions]
    p = envelope_of(api.spec, good.header, [txs[0], txs[3], txs[1], txs[2]], True)
    p = replace(p, payload=replace(p.payload, block_hash=payload_header(api.spec, p).hash))
    st = api.import_payload(p)
    assert st["status"] == "INVALID" and "must be the final transaction" in st["validationError"]
    assert api.import_payload(envelope_of(api.spec, good.header, txs, True))["status"] == "VALID"


def test_block_gas_limit_admits_on_pre_refund_gas():
    """A refund does not make room for more compute: the admission check counts EVM gas (optimism #21250)."""
    c = Chain(_genesis())
    g = c.head
    probe = c.build(g.hash, _attrs(g), [_info(), _users()[0]])
    used = probe.header.gas_used  # L1-info deposit + one transfer
    limit = 1_100_000  # the L1-info deposit declares 1,000,000
    room = limit - used  # what the pool has left, counted on pre-refund gas
    second = transfer(key(1), 0, addr(3), 1, gas=room + 1, tip=10**7)
    sdm = post_exec_tx(sdm_payload(1, {1: 20_000}))
    with pytest.raises(GasLimitReached):
        c.build(g.hash, _attrs(g, limit), [_info(), _users()[0], second, sdm])
    ok = c.build(g.hash, _attrs(g, limit + 1), [_info(), _users()[0], second, sdm])
    assert ok.header.gas_used == used + 21_000 - 20_000


# ---------------------------------------------------------------------------------------------------- Engine API


def _fcs(head: bytes) -> dict:
    z = "0x" + "00" * 32
    return {"headBlockHash": to_hex(head), "safeBlockHash": z, "finalizedBlockHash": z}


def _fcu_attrs(parent, txs, no_tx_pool=True):
    return {"timestamp": hex(parent.timestamp + 2), "prevRandao": to_hex(keccak256(b"r")),
            "suggestedFeeRecipient": to_hex(SEQ_VAULT), "transactions": [to_hex(t.raw) for t in txs],
            "noTxPool": no_tx_pool, "gasLimit": hex(30_000_000), "eip1559Params": "0x" + "00" * 8,
            "minBaseFee": "0x0", "withdrawals": [], "parentBeaconBlockRoot": to_hex(keccak256(b"beacon"))}


def test_derived_attributes_with_a_post_exec_tx_build_without_the_opt_in():
    api = EngineAPI(Chain(_genesis()))
    assert not api.sdm_post_exec_opt_in
    g = api.chain.head
    txs = [_info(), *_users(), post_exec_tx(sdm_payload(1, {2: 1000}))]
    res = api.forkchoice_updated(3, _fcs(g.hash), _fcu_attrs(g, txs))
    env = api.get_payload(5, res["payloadId"])
    assert env["executionPayload"]["transactions"][-1] == to_hex(txs[-1].raw)
    other = EngineAPI(Chain(_genesis()))
    assert other.new_payload(4, env["executionPayload"], [], env["parentBeaconBlockRoot"], [])["status"] == "VALID"


def _contract_calls():
    # two senders write the same two slots of one contract: the second finds them warmed by the first
    return [transfer(key(0), 0, RECORDER, 5, gas=100_000), transfer(key(1), 0, RECORDER, 6, gas=100_000)]


def test_opted_in_sequencer_produces_the_post_exec_transaction():
    for opt_in in (True, False):
        api = EngineAPI(Chain(_genesis()), sdm_post_exec_opt_in=opt_in)
        g = api.chain.head
        adb = api.chain.account_db(g)
        for tx in _contract_calls():
            api.txpool.add(tx.raw, adb.get_nonce, karst=True)
        res = api.forkchoice_updated(3, _fcs(g.hash), _fcu_attrs(g, [_info()], no_tx_pool=False))
        env = api.get_payload(5, res["payloadId"])
        txs = [decode_tx(bytes.fromhex(t[2:])) for t in env["executionPayload"]["transactions"]]
        if not opt_in:
            assert [t.type for t in txs] == [0x7E, 2, 2]
            continue
        assert txs[-1].type == POST_EXEC
        # the second call's two SSTOREs hit slots the first one warmed: 2 x 2,000
        assert txs[-1].post_exec == sdm_payload(1, {2: 4000})
        other = EngineAPI(Chain(_genesis()))
        st = other.new_payload(4, env["executionPayload"], [], env["parentBeaconBlockRoot"], [])
        assert st["status"] == "VALID"
        block = other.chain.block(from_hex_hash(env["executionPayload"]["blockHash"]))
        assert block.receipts[2].extra.get("opGasRefund") == 4000


def from_hex_hash(h: str) -> bytes:
    return bytes.fromhex(h[2:])


def test_receipt_rlp_of_post_exec_matches_an_eip1559_receipt_shape():
    c = Chain(_genesis())
    g = c.head
    s = c.build(g.hash, _attrs(g), [_info(), *_users(), post_exec_tx(sdm_payload(1, {2: 1}))])
    enc = s.results[3].receipt.consensus_encoding()
    status, cum, bloom, logs = rlp.decode_list(enc[1:], 4)
    assert (rlp.decode_uint(status), rlp.decode_uint(cum), bloom, logs) == (
        1, s.results[2].receipt.cumulative_gas_used, bytes(256), [])


def test_rpc_shows_the_post_exec_transaction_and_the_refund():
    from engine.execution.eth_api import EthAPI

    c = Chain(_genesis())
    g = c.head
    s = c.build(g.hash, _attrs(g), [_info(), *_users(), post_exec_tx(sdm_payload(1, {2: 1000}))])
    c.set_forkchoice(s.hash)
    x = EthAPI(c, TxPool(901), None)
    pe = x.get_transaction_by_hash(to_hex(s.transactions[3].hash))
    assert {k: pe[k] for k in ("type", "from", "gas", "value")} == {"type": "0x7d", "from": "0x" + "00" * 20,
                                                                     "gas": "0x0", "value": "0x0"}
    assert pe["input"] == to_hex(sdm_payload(1, {2: 1000}).encode()) and "nonce" not in pe and "to" not in pe
    receipts = x.get_block_receipts("latest")
    assert receipts[2]["opGasRefund"] == "0x3e8" and receipts[1]["opGasRefund"] is None
    assert receipts[3]["type"] == "0x7d" and receipts[3]["gasUsed"] == "0x0" and receipts[3]["status"] == "0x1"
