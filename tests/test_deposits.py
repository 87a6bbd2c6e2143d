"""User deposits and deposit source hashes, against kona's, op-node's, viem's and hildr's vectors."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivation.protocol import transactions
from derivation.protocol.deposits import (
    TRANSACTION_DEPOSITED_TOPIC,
    DepositLogError,
    after_force_include_source_hash,
    deposit_from_log,
    deposit_from_opaque_data,
    deposit_log,
    invalidated_block_source_hash,
    l1_info_source_hash,
    opaque_data_from_log_data,
    upgrade_source_hash,
    user_deposit_source_hash,
    user_deposits,
)
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.transactions import deposit
from derivation.protocol.types import Log, Receipt
from tests.vectors import load

PORTAL = bytes.fromhex("bEb5Fc579115071764c7423A4f12eDde41f106Ed")
OTHER = b"\x99" * 20


def log_of(v: dict, address: bytes = PORTAL) -> Log:
    inp = v["input"] if "input" in v else v
    return Log(address=address, topics=tuple(from_hex(t) for t in inp["topics"]), data=from_hex(inp["log_data"]),
               log_index=inp["log_index"])


# ------------------------------------------------------------------------------------------------ vectors


@pytest.mark.parametrize("v", load("user_deposits.json")["vectors"], ids=lambda v: v["name"][:40])
def test_user_deposit_vectors(v):
    tx = deposit_from_log(log_of(v), from_hex(v["input"]["l1_block_hash"]))
    exp = v["expected"]
    if "raw_tx" in exp:  # asserted by kona
        assert to_hex(tx.raw) == exp["raw_tx"]
        assert to_hex(tx.hash) == exp["tx_hash"]
    else:  # hildr asserts the parsed fields
        assert tx.from_ == from_hex(exp["from"]) and tx.to == from_hex(exp["to"])
        assert (tx.mint, tx.value, tx.gas, tx.to is None) == (exp["mint"], exp["value"], exp["gas"], exp["is_creation"])
    computed = v["computed_result"]
    assert to_hex(tx.source_hash) == computed["source_hash"]
    assert to_hex(tx.raw) == computed["raw_tx"]
    assert tx.data == from_hex(computed["decoded"]["data"])
    assert tx.is_system_tx is False


@pytest.mark.parametrize("v", load("user_deposits.json")["source_hash_vectors"], ids=lambda v: v["name"])
def test_source_hash_vectors(v):
    if v["domain"] == 0:
        got = user_deposit_source_hash(from_hex(v["l1_block_hash"]), v["l1_log_index"])
    elif v["domain"] == 1:
        got = l1_info_source_hash(from_hex(v["l1_block_hash"]), v["sequence_number"])
    else:
        assert v["domain"] == 4
        got = invalidated_block_source_hash(from_hex(v["output_root"]))
    assert to_hex(got) == v["expected"]


@pytest.mark.parametrize("v", load("deposit_source_hashes.json")["vectors"], ids=lambda v: v["name"])
def test_op_node_source_hash_vectors(v):
    if v["domain"] == 1:
        got = l1_info_source_hash(from_hex(v["l1_block_hash"]), v["sequence_number"])
    elif v["domain"] == 2:
        got = upgrade_source_hash(v["intent"])
    else:
        assert v["domain"] == 3
        got = after_force_include_source_hash(from_hex(v["l1_block_hash"]), v["sequence_number"])
    assert to_hex(got) == v["expected"]


CASES = load("deposit_log_cases.json")["cases"]


@pytest.mark.parametrize("v", CASES, ids=lambda v: v["name"])
def test_kona_decode_deposit_cases(v):
    log = log_of(v)
    if v["expect"] == "ok":
        assert to_hex(deposit_from_log(log, from_hex(v["l1_block_hash"])).raw) == v["raw_tx"]
    else:
        with pytest.raises(DepositLogError):
            deposit_from_log(log, from_hex(v["l1_block_hash"]))


# Each error case the shared vector file describes in words, and the concrete kona cases that exercise it.
DESCRIBED_ERRORS = {
    "topics.len()!=4": None,
    "topic0 != TransactionDeposited": ["test_decode_deposit_invalid_first_topic"],
    "topic1/topic2 with non-zero upper 12 bytes": ["test_decode_deposit_invalid_from",
                                                   "test_decode_deposit_invalid_to"],
    "version topic != 0": ["test_decode_deposit_invalid_version"],
    "data offset word != 32": ["test_decode_deposit_invalid_opaque_data_offset",
                               "test_decode_deposit_invalid_offset"],
    "declared opaque length > available": ["test_decode_deposit_opaque_data_overflow",
                                           "test_invalid_opaque_data_length", "test_decode_deposit_invalid_length"],
    "log data length not 64 + ceil32(len)": ["test_decode_deposit_unaligned_data",
                                             "test_decode_deposit_padded_overflow", "test_invalid_opaque_data_padding"],
    "opaque data < 73 bytes": ["test_decode_deposit_padded_overflow"],
}


def test_every_described_error_case_is_rejected():
    described = load("user_deposits.json")["error_vectors"]["cases"]
    by_name = {c["name"]: c for c in CASES}
    for text in described:
        key = next(k for k in DESCRIBED_ERRORS if text.startswith(k))
        names = DESCRIBED_ERRORS[key]
        if names is None:  # no kona case: build one from a valid log
            good = log_of(by_name["test_decode_deposit_full_succeeds"])
            for topics in (good.topics[:3], good.topics + (bytes(32),)):
                with pytest.raises(DepositLogError, match="4 topics"):
                    deposit_from_log(Log(good.address, topics, good.data, 0), bytes(32))
            continue
        for name in names:
            assert by_name[name]["expect"] == "error"
            with pytest.raises(DepositLogError):
                deposit_from_log(log_of(by_name[name]), bytes(32))


def test_opaque_data_minimum_length_is_73():
    with pytest.raises(DepositLogError, match="at least 73"):
        deposit_from_opaque_data(bytes(32), b"\x11" * 20, b"\x55" * 20, bytes(72))
    tx = deposit_from_opaque_data(bytes(32), b"\x11" * 20, b"\x55" * 20, bytes(73))
    assert tx.to == b"\x55" * 20 and tx.data == b""


def test_any_nonzero_is_creation_byte_creates():
    opaque = bytes(72) + b"\x02" + b"\xab"
    assert deposit_from_opaque_data(bytes(32), b"\x11" * 20, b"\x55" * 20, opaque).to is None


def test_topic0_is_the_event_signature_hash():
    assert to_hex(TRANSACTION_DEPOSITED_TOPIC) == load("user_deposits.json")["rules"]["topic0"]


# ------------------------------------------------------------------------------------------------ user_deposits


def _dep(i: int, **kw):
    args = dict(source_hash=bytes(32), from_=bytes([i]) * 20, to=b"\x22" * 20, mint=i, value=2 * i, gas=21_000 + i,
                is_system_tx=False, data=bytes([i]) * i)
    args.update(kw)
    return deposit(**args)


def test_user_deposits_filters_receipts_and_logs_and_uses_block_wide_log_index():
    block = b"\x42" * 32
    d0, d1, d2 = _dep(1), _dep(2, to=None), _dep(3)
    unrelated = Log(PORTAL, (b"\x01" * 32,), b"", 1)  # another event of the portal
    foreign = deposit_log(_dep(9), OTHER, 2)  # same event from another contract
    receipts = [
        Receipt(2, 1, 0, (deposit_log(d0, PORTAL, 0), unrelated, foreign)),
        Receipt(2, 0, 0, (deposit_log(_dep(7), PORTAL, 3),)),  # failed: ignored
        Receipt(2, 1, 0, ()),
        Receipt(2, 1, 0, (deposit_log(d1, PORTAL, 4), deposit_log(d2, PORTAL, 5))),
    ]
    got = user_deposits(receipts, PORTAL, block)
    assert [t.source_hash for t in got] == [user_deposit_source_hash(block, i) for i in (0, 4, 5)]
    for tx, want in zip(got, (d0, d1, d2), strict=True):
        assert (tx.from_, tx.to, tx.mint, tx.value, tx.gas, tx.data) == (
            want.from_, want.to, want.mint, want.value, want.gas, want.data)
    assert user_deposits([], PORTAL, block) == []


def test_malformed_deposit_log_from_the_portal_raises():
    bad = Log(PORTAL, (TRANSACTION_DEPOSITED_TOPIC, bytes(32), bytes(32), bytes(32)), bytes(63), 0)
    with pytest.raises(DepositLogError):
        user_deposits([Receipt(2, 1, 0, (bad,))], PORTAL, bytes(32))
    # the same log from another contract, or in a failed receipt, is not a deposit at all
    assert user_deposits([Receipt(2, 1, 0, (Log(OTHER, bad.topics, bad.data, 0),))], PORTAL, bytes(32)) == []
    assert user_deposits([Receipt(2, 0, 0, (bad,))], PORTAL, bytes(32)) == []


# ------------------------------------------------------------------------------------------------ properties

addresses = st.binary(min_size=20, max_size=20)
u256 = st.integers(0, 2**256 - 1)


@given(from_=addresses, to=st.none() | addresses, mint=u256, value=u256, gas=st.integers(0, 2**64 - 1),
       data=st.binary(max_size=300), block=st.binary(min_size=32, max_size=32), index=st.integers(0, 2**64 - 1))
def test_round_trip_tx_to_log_to_tx(from_, to, mint, value, gas, data, block, index):
    sh = user_deposit_source_hash(block, index)
    tx = deposit(sh, from_, to, mint, value, gas, False, data)
    log = deposit_log(tx, PORTAL, index)
    assert len(log.data) % 32 == 0
    again = deposit_from_log(log, block)
    assert again.raw == tx.raw
    decoded = transactions.decode(again.raw)
    assert (decoded.from_, decoded.to, decoded.mint, decoded.value, decoded.gas, decoded.data) == (
        from_, to, mint, value, gas, data)


@settings(max_examples=300)
@given(topics=st.lists(st.binary(min_size=0, max_size=40), max_size=6), data=st.binary(max_size=400))
def test_random_logs_raise_only_parse_errors(topics, data):
    for ts in (topics, [TRANSACTION_DEPOSITED_TOPIC, *topics[:3]]):
        try:
            deposit_from_log(Log(PORTAL, tuple(ts), data, 0), bytes(32))
        except ParseError:
            pass


@settings(max_examples=300)
@given(tx_data=st.binary(max_size=100), pos=st.integers(0, 10_000), byte=st.integers(0, 255),
       cut=st.integers(0, 10_000))
def test_mutated_logs_raise_only_parse_errors(tx_data, pos, byte, cut):
    log = deposit_log(_dep(5, data=tx_data), PORTAL, 0)
    data = bytearray(log.data)
    data[pos % len(data)] = byte
    for d in (bytes(data), bytes(data[: cut % (len(data) + 1)])):
        try:
            tx = deposit_from_log(Log(PORTAL, log.topics, d, 0), bytes(32))
        except ParseError:
            continue
        assert tx.raw[0] == 0x7E
    try:
        opaque_data_from_log_data(bytes(data))
    except ParseError:
        pass
