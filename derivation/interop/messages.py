"""Interop messages: the CrossL2Inbox ``ExecutingMessage`` event, identifiers, payload and log hashes, the type-3
message checksum and the CrossL2Inbox access-list entries.

Rules (specs ``interop/messaging.md`` §Message payload, §Message Identifier; ``interop/predeploys.md``
§ExecutingMessage Event, §Access-list, specs @fd72cf79 2026-04-28; contract ``CrossL2Inbox.sol`` v1.0.2):

- an initiating message is any log; its payload is ``topics[0] ‖ … ‖ topics[n] ‖ data`` and
  ``payload_hash = keccak256(payload)`` (the ``msgHash`` of the executing side);
- ``log_hash = keccak256(bytes20(origin) ‖ payload_hash)``;
- ``checksum = 0x03 ‖ keccak256(keccak256(log_hash ‖ id_packed) ‖ u256(chain_id))[1:]`` with
  ``id_packed = 12 zero bytes ‖ u64(block_number) ‖ u64(timestamp) ‖ u32(log_index)``;
- ``event ExecutingMessage(bytes32 indexed msgHash, Identifier id)`` from ``0x42…22``: 2 topics, 160 bytes of data
  (the ABI-encoded ``Identifier{origin, blockNumber, logIndex, timestamp, chainId}``).

Decoding follows op-core ``interop/messages`` (``MessageFromLog``, ``Message.DecodeEvent``; ethereum-optimism/optimism
file index @281e44a3 and @91b50b86, 2026, same code as op-supervisor ``types.go`` @ee8793af): a log that is not from
the inbox, does not have exactly 2 topics or has another ``topics[0]`` is *not* an executing message; one that is,
but whose data is not exactly 160 bytes or whose padding is not zero (address in 20 bytes, block number and timestamp
in uint64, log index in uint32), is malformed. The contract reverts on identifiers that do not fit
(``BlockNumberTooHigh``, ``LogIndexTooHigh``, ``TimestampTooHigh``), so a real chain never emits a malformed one.
Callers differ on what a malformed one means: op-supervisor's log processor fails the block, op-supernode
(``logdb.go``, ``verification_view.go`` @f0b2b80e) and kona (``parse_log_to_executing_message``) skip the log; hence
a typed error here and the choice to the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, parse_quantity, quantity, to_hex
from derivation.protocol.jsonutil import JSONObject
from derivation.protocol.predeploys import CROSS_L2_INBOX
from derivation.protocol.types import Log

EXECUTING_MESSAGE_TOPIC = keccak256(b"ExecutingMessage(bytes32,(address,uint256,uint256,uint256,uint256))")
CHECKSUM_TYPE = 0x03
ACCESS_LOOKUP = 0x01
ACCESS_CHAIN_ID_EXTENSION = 0x02
IDENTIFIER_DATA_LEN = 5 * 32

_U32, _U64, _U256 = 1 << 32, 1 << 64, 1 << 256


class MalformedMessage(ParseError):
    """An executing-message event or identifier that does not decode; ``reason`` is a short stable code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _check_range(name: str, value: int, bound: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < bound:
        raise MalformedMessage(f"{name}-range", f"identifier {name} {value!r} out of range (< 2^{bound.bit_length() - 1})")
    return value


@dataclass(frozen=True, slots=True)
class Identifier:
    """Where an initiating message lives (messaging.md §Message Identifier). ``log_index`` is block-wide."""

    origin: bytes
    block_number: int
    log_index: int
    timestamp: int
    chain_id: int

    def __post_init__(self) -> None:
        if not isinstance(self.origin, bytes | bytearray) or len(self.origin) != 20:
            raise MalformedMessage("origin", "identifier origin must be a 20-byte address")
        _check_range("blockNumber", self.block_number, _U64)
        _check_range("logIndex", self.log_index, _U32)
        _check_range("timestamp", self.timestamp, _U64)
        _check_range("chainId", self.chain_id, _U256)

    def packed(self) -> bytes:
        """``id_packed``: 12 zero bytes ‖ u64 block number ‖ u64 timestamp ‖ u32 log index."""
        return (bytes(12) + self.block_number.to_bytes(8, "big") + self.timestamp.to_bytes(8, "big")
                + self.log_index.to_bytes(4, "big"))

    def abi_encode(self) -> bytes:
        """The 160-byte ABI encoding of the Solidity ``Identifier`` struct (event data, call arguments)."""
        return (bytes(12) + bytes(self.origin) + self.block_number.to_bytes(32, "big")
                + self.log_index.to_bytes(32, "big") + self.timestamp.to_bytes(32, "big")
                + self.chain_id.to_bytes(32, "big"))

    @classmethod
    def abi_decode(cls, data: bytes) -> Identifier:
        """The strict decoding of op-core ``Message.DecodeEvent``: exactly 160 bytes and zero padding."""
        data = bytes(data)
        if len(data) != IDENTIFIER_DATA_LEN:
            raise MalformedMessage("data-length", f"unexpected identifier data length: {len(data)}")
        for name, start, width in (("address", 0, 20), ("block-number", 32, 8), ("log-index", 64, 4),
                                   ("timestamp", 96, 8)):
            if any(data[start:start + 32 - width]):
                raise MalformedMessage(f"{name}-padding", f"invalid {name.replace('-', ' ')} padding")
        return cls(data[12:32], int.from_bytes(data[32:64], "big"), int.from_bytes(data[64:96], "big"),
                   int.from_bytes(data[96:128], "big"), int.from_bytes(data[128:160], "big"))

    def to_json(self) -> JSONObject:
        """op-core ``identifierMarshaling``: hex quantities, ``chainID`` spelled so."""
        return {"origin": to_hex(self.origin), "blockNumber": quantity(self.block_number),
                "logIndex": quantity(self.log_index), "timestamp": quantity(self.timestamp),
                "chainID": quantity(self.chain_id)}

    @classmethod
    def from_json(cls, d: JSONObject) -> Identifier:
        try:
            return cls(from_hex(d["origin"], 20), parse_quantity(d["blockNumber"]), parse_quantity(d["logIndex"]),
                       parse_quantity(d["timestamp"]), parse_quantity(d["chainID"]))
        except (KeyError, TypeError):
            raise MalformedMessage("json", "identifier JSON needs origin, blockNumber, logIndex, timestamp, chainID"
                                   ) from None


def message_payload(log: Log) -> bytes:
    """``topics ‖ data``: what an initiating message commits to (messaging.md §Message payload)."""
    return b"".join(bytes(t) for t in log.topics) + bytes(log.data)


def payload_hash(log: Log) -> bytes:
    return keccak256(message_payload(log))


def payload_hash_to_log_hash(msg_hash: bytes, origin: bytes) -> bytes:
    """``keccak256(origin ‖ msgHash)`` (op-core ``PayloadHashToLogHash``)."""
    return keccak256(bytes(origin) + bytes(msg_hash))


def log_hash(log: Log) -> bytes:
    """The hash a log store keeps for a log as an initiating message (op-core ``LogToLogHash``)."""
    return payload_hash_to_log_hash(payload_hash(log), log.address)


def message_checksum(log_hash_: bytes, block_number: int, log_index: int, timestamp: int, chain_id: int) -> bytes:
    """op-core ``ChecksumArgs.Checksum`` / CrossL2Inbox ``calculateChecksum`` (predeploys.md §type 3: Checksum)."""
    packed = Identifier(bytes(20), block_number, log_index, timestamp, chain_id).packed()
    bare = keccak256(keccak256(bytes(log_hash_) + packed) + chain_id.to_bytes(32, "big"))
    return bytes((CHECKSUM_TYPE,)) + bare[1:]


@dataclass(frozen=True, slots=True)
class Message:
    """An executing message: the identifier of its initiating message and that message's payload hash."""

    identifier: Identifier
    payload_hash: bytes

    def __post_init__(self) -> None:
        if len(self.payload_hash) != 32:
            raise MalformedMessage("payload-hash", "payload hash must be 32 bytes")

    @property
    def log_hash(self) -> bytes:
        return payload_hash_to_log_hash(self.payload_hash, self.identifier.origin)

    @property
    def checksum(self) -> bytes:
        i = self.identifier
        return message_checksum(self.log_hash, i.block_number, i.log_index, i.timestamp, i.chain_id)

    def event_log(self, log_index: int) -> Log:
        """The ``ExecutingMessage`` log the inbox emits for this message (to build blocks in tests and devnets)."""
        return Log(CROSS_L2_INBOX, (EXECUTING_MESSAGE_TOPIC, self.payload_hash), self.identifier.abi_encode(),
                   log_index)

    def to_json(self) -> JSONObject:
        return {"identifier": self.identifier.to_json(), "payloadHash": to_hex(self.payload_hash)}


@dataclass(frozen=True, slots=True)
class ExecutingMessage:
    """An executing message found in a block: where it was emitted (``log_index``, block-wide) and what it points to."""

    log_index: int
    message: Message

    @property
    def identifier(self) -> Identifier:
        return self.message.identifier


def decode_executing_message(log: Log) -> Message | None:
    """The message of a CrossL2Inbox ``ExecutingMessage`` log; ``None`` for any other log (op-core
    ``MessageFromLog``). Raises :class:`MalformedMessage` for an inbox event whose data does not decode."""
    if bytes(log.address) != CROSS_L2_INBOX or len(log.topics) != 2 or bytes(log.topics[0]) != EXECUTING_MESSAGE_TOPIC:
        return None
    return Message(Identifier.abi_decode(log.data), bytes(log.topics[1]))


def executing_messages(logs: Iterable[Log]) -> tuple[ExecutingMessage, ...]:
    """Every executing message among a block's logs (in block order), by their block-wide log index."""
    out = []
    for lg in logs:
        msg = decode_executing_message(lg)
        if msg is not None:
            out.append(ExecutingMessage(lg.log_index, msg))
    return tuple(out)


def access_list_entries(message: Message) -> tuple[bytes, ...]:
    """The CrossL2Inbox storage keys a transaction executing ``message`` must declare (predeploys.md §Access-list;
    op-core ``EncodeAccessList``): the type-1 lookup entry, a type-2 chain-id extension when the chain id does not
    fit in 64 bits, then the type-3 checksum."""
    i = message.identifier
    lookup = (bytes((ACCESS_LOOKUP,)) + bytes(3) + (i.chain_id % _U64).to_bytes(8, "big")
              + i.block_number.to_bytes(8, "big") + i.timestamp.to_bytes(8, "big") + i.log_index.to_bytes(4, "big"))
    out = [lookup]
    if i.chain_id >= _U64:
        out.append(bytes((ACCESS_CHAIN_ID_EXTENSION,)) + bytes(7) + i.chain_id.to_bytes(32, "big")[:24])
    out.append(message.checksum)
    return tuple(out)
