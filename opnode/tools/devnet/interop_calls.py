"""Calls of the interop predeploys a devnet's traffic makes (ABI of contracts-bedrock ``CrossL2Inbox`` and
``L2ToL2CrossDomainMessenger``; specs interop/predeploys.md §validateMessage, §L2ToL2CrossDomainMessenger):

- ``CrossL2Inbox.validateMessage(Identifier id, bytes32 msgHash)`` (``0xab4d6f75``) emits ``ExecutingMessage`` when
  the message's checksum slot is warm (declared in the transaction's access list);
- ``L2ToL2CrossDomainMessenger.sendMessage(uint256 destination, address target, bytes message)`` (``0x7056f41f``)
  emits ``SentMessage(uint256 indexed destination, address indexed target, uint256 indexed nonce, address sender,
  bytes message)``: the initiating message a relay executes;
- ``L2ToL2CrossDomainMessenger.relayMessage(Identifier id, bytes sentMessage)`` (``0x8d1d298f``) on the destination:
  validates ``id`` against ``keccak256(sentMessage)`` through the inbox, then calls the target.
"""

from __future__ import annotations

from eth_abi import encode

from derivation.interop.messages import Identifier, Message, access_list_entries, message_payload
from derivation.protocol.crypto import keccak256
from derivation.protocol.predeploys import CROSS_L2_INBOX
from derivation.protocol.types import Log

_ID = "(address,uint256,uint256,uint256,uint256)"
VALIDATE_MESSAGE = keccak256(f"validateMessage({_ID},bytes32)".encode())[:4]
SEND_MESSAGE = keccak256(b"sendMessage(uint256,address,bytes)")[:4]
RELAY_MESSAGE = keccak256(f"relayMessage({_ID},bytes)".encode())[:4]
SENT_MESSAGE_TOPIC = keccak256(b"SentMessage(uint256,address,uint256,address,bytes)")
MESSAGE_NONCE = keccak256(b"messageNonce()")[:4]


def _id_tuple(i: Identifier) -> tuple:
    return ("0x" + bytes(i.origin).hex(), i.block_number, i.log_index, i.timestamp, i.chain_id)


def validate_message_data(message: Message) -> bytes:
    return VALIDATE_MESSAGE + encode([_ID, "bytes32"], [_id_tuple(message.identifier), message.payload_hash])


def send_message_data(destination: int, target: bytes, payload: bytes) -> bytes:
    return SEND_MESSAGE + encode(["uint256", "address", "bytes"], [destination, "0x" + target.hex(), payload])


def sent_message_payload(destination: int, target: bytes, nonce: int, sender: bytes, message: bytes) -> bytes:
    """``topics ‖ data`` of the ``SentMessage`` log a ``sendMessage`` emits: what a relay or a direct validation of it
    commits to (its ``nonce`` is ``messageNonce()`` just before the send)."""
    return (SENT_MESSAGE_TOPIC + destination.to_bytes(32, "big") + bytes(12) + target + nonce.to_bytes(32, "big")
            + encode(["address", "bytes"], ["0x" + sender.hex(), message]))


def relay_message_data(identifier: Identifier, sent_message: bytes) -> bytes:
    return RELAY_MESSAGE + encode([_ID, "bytes"], [_id_tuple(identifier), sent_message])


def inbox_access_list(*messages: Message) -> list[tuple[bytes, list[bytes]]]:
    """The access list that warms every message's CrossL2Inbox slots (one entry for the inbox)."""
    return [(CROSS_L2_INBOX, [k for m in messages for k in access_list_entries(m)])]


def message_for(log: Log, identifier: Identifier) -> Message:
    """The executing message of the initiating ``log`` found at ``identifier``."""
    return Message(identifier, keccak256(message_payload(log)))
