"""Executing-message codec, hashes, checksum and access-list entries against spec-vectors/interop/messages.json
(op-supervisor's Go test constants)."""

import pytest

from derivation.interop.messages import (
    EXECUTING_MESSAGE_TOPIC,
    ExecutingMessage,
    Identifier,
    MalformedMessage,
    Message,
    access_list_entries,
    decode_executing_message,
    executing_messages,
    log_hash,
    message_checksum,
    payload_hash,
)
from derivation.protocol.crypto import keccak256
from derivation.protocol.hexutil import from_hex, parse_quantity
from derivation.protocol.predeploys import CROSS_L2_INBOX
from derivation.protocol.types import Log
from tests.vectors import load

VEC = load("interop/messages.json")
C = VEC["checksum"]


def _identifier() -> Identifier:
    return Identifier(from_hex(C["origin"], 20), parse_quantity(C["blockNumber"]), parse_quantity(C["logIndex"]),
                      parse_quantity(C["timestamp"]), parse_quantity(C["chainID"]))


def test_go_checksum_constants():
    msg_hash = keccak256(C["payload_utf8"].encode())
    assert msg_hash == from_hex(C["msgHash"])
    m = Message(_identifier(), msg_hash)
    assert m.log_hash == from_hex(C["logHash"])
    assert m.checksum == from_hex(C["checksum"])
    i = m.identifier
    assert message_checksum(from_hex(C["logHash"]), i.block_number, i.log_index, i.timestamp, i.chain_id) == \
        from_hex(C["checksum"])


def test_go_lookup_entry_then_checksum():
    m = Message(_identifier(), from_hex(C["msgHash"]))
    assert access_list_entries(m) == (from_hex(C["lookupEntry"]), from_hex(C["checksum"]))


def test_chain_id_beyond_64_bits_adds_the_extension_entry():
    """predeploys.md §Access-list type 2: the upper 24 bytes of the chain id, after 7 zero bytes."""
    i = _identifier()
    big = Identifier(i.origin, i.block_number, i.log_index, i.timestamp, (0xEE << 200) | i.chain_id)
    entries = access_list_entries(Message(big, from_hex(C["msgHash"])))
    assert len(entries) == 3 and entries[1][0] == 2 and entries[1][1:8] == bytes(7)
    assert entries[1][8:] == big.chain_id.to_bytes(32, "big")[:24]
    assert entries[0][4:12] == i.chain_id.to_bytes(8, "big")  # the low 64 bits stay in the lookup entry


def test_go_log_hash():
    v = VEC["log_hash"]
    lg = Log(from_hex(v["address"], 20), tuple(from_hex(t, 32) for t in v["topics"]), from_hex(v["data"]), 0)
    assert log_hash(lg) == from_hex(v["logHash"])
    # every part of the log counts (op-supervisor TestToLogHash mutations)
    assert log_hash(Log(b"\xab\xcd" + bytes(18), lg.topics, lg.data, 0)) != log_hash(lg)
    assert log_hash(Log(lg.address, lg.topics[:1], lg.data, 0)) != log_hash(lg)
    assert log_hash(Log(lg.address, lg.topics, lg.data + b"\x56", 0)) != log_hash(lg)
    assert log_hash(Log(lg.address, lg.topics, lg.data, 7)) == log_hash(lg)  # the position is not part of it


def _log(d: dict) -> Log:
    return Log(from_hex(d["address"], 20), tuple(from_hex(t, 32) for t in d["topics"]), from_hex(d["data"]),
               parse_quantity(d["logIndex"]))


def test_go_real_executing_message_log():
    v = VEC["executing_message_log"]
    lg = _log(v["log"])
    assert lg.topics[0] == EXECUTING_MESSAGE_TOPIC
    m = decode_executing_message(lg)
    e = v["expected"]
    assert m.identifier == Identifier(from_hex(e["origin"], 20), e["blockNumber"], e["logIndex"], e["timestamp"],
                                      e["chainID"])
    assert m.payload_hash == from_hex(e["payloadHash"])
    # the event the inbox would emit for this message is the same log
    assert m.event_log(lg.log_index) == lg
    ems = executing_messages([Log(b"\x01" * 20, (), b"", 0), Log(lg.address, lg.topics, lg.data, 1)])
    assert ems == (ExecutingMessage(1, m),)


def _topic(name: str) -> bytes:
    return EXECUTING_MESSAGE_TOPIC if name == "<ExecutingMessageEventTopic>" else name.encode().rjust(32, b"\0")


@pytest.mark.parametrize("case", VEC["malformed_events"]["cases"], ids=lambda c: c["name"])
def test_go_malformed_events(case):
    data = bytearray(case["data_len"])
    for pos in case["set_bytes"]:
        data[pos] = 1
    lg = Log(CROSS_L2_INBOX, tuple(_topic(t) for t in case["topics"]), bytes(data), 0)
    if case["from_log"] == "not-an-executing-message":
        assert decode_executing_message(lg) is None
        return
    with pytest.raises(MalformedMessage) as e:
        decode_executing_message(lg)
    assert case["decode_event_error"] in str(e.value)
    assert e.value.reason


def test_other_emitters_are_not_executing_messages():
    m = Message(_identifier(), from_hex(C["msgHash"]))
    lg = m.event_log(0)
    assert decode_executing_message(Log(b"\x42" * 20, lg.topics, lg.data, 0)) is None


@pytest.mark.parametrize("field,value", [("blockNumber", 1 << 64), ("logIndex", 1 << 32), ("timestamp", 1 << 64),
                                         ("chainId", 1 << 256), ("blockNumber", -1)])
def test_identifier_fields_must_fit_the_checksum(field, value):
    """CrossL2Inbox.calculateChecksum reverts on these (BlockNumberTooHigh, LogIndexTooHigh, TimestampTooHigh)."""
    args = {"blockNumber": 1, "logIndex": 1, "timestamp": 1, "chainId": 1, field: value}
    with pytest.raises(MalformedMessage):
        Identifier(bytes(20), args["blockNumber"], args["logIndex"], args["timestamp"], args["chainId"])


def test_identifier_json_round_trip_and_abi_round_trip():
    i = _identifier()
    assert Identifier.from_json(i.to_json()) == i
    assert i.to_json()["chainID"] == C["chainID"]
    assert Identifier.abi_decode(i.abi_encode()) == i
    with pytest.raises(MalformedMessage):
        Identifier.from_json({"origin": C["origin"]})


def test_payload_hash_is_over_topics_then_data():
    lg = Log(bytes(20), (b"\x01" * 32,), b"abc", 0)
    assert payload_hash(lg) == keccak256(b"\x01" * 32 + b"abc")
