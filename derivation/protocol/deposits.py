"""Deposit source hashes and user deposits: ``TransactionDeposited`` logs of the OptimismPortal → deposit txs.

Source hash = ``keccak256(bytes32(domain) ‖ inner)`` (specs: protocol/deposits.md §Source hash computation):

- domain 0, user deposit: ``inner = keccak256(l1_block_hash ‖ bytes32(log_index))``; the log index is the log's
  position among all logs of the L1 block (block-wide, as ``eth_getLogs`` reports it);
- domain 1, L1-info deposit: ``inner = keccak256(l1_block_hash ‖ bytes32(sequence_number))``;
- domain 2, upgrade deposit: ``inner = keccak256(intent)``;
- domain 3, op-node's 2024 interop draft ("AfterForceInclude", the DepositsComplete call): same inner shape as
  domain 1. op-node removed it again and no fork uses it; kept so old devnet data can be explained;
- domain 4, op-node's interop "invalidated block" replacement: ``inner = output_root`` itself (no inner hash).
  The spec text (deposits.md) still names domains 3/4 loosely; these rules are op-node's source and tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.transactions import Transaction, deposit
from derivation.protocol.types import Log, Receipt

# keccak256("TransactionDeposited(address,address,uint256,bytes)")
TRANSACTION_DEPOSITED_TOPIC = keccak256(b"TransactionDeposited(address,address,uint256,bytes)")
DEPOSIT_VERSION_0 = bytes(32)
MIN_OPAQUE_V0_LEN = 32 + 32 + 8 + 1  # mint, value, gas, isCreation; data may be empty


class SourceDomain(IntEnum):
    USER_DEPOSIT = 0
    L1_INFO = 1
    UPGRADE = 2
    AFTER_FORCE_INCLUDE = 3  # op-node 2024 interop draft; unused by any fork
    INVALIDATED_BLOCK = 4  # op-node interop: deposit-only replacement of an invalidated block


class DepositLogError(ParseError):
    """A ``TransactionDeposited`` log that violates the deposit event format."""


def _source_hash(domain: SourceDomain, inner: bytes) -> bytes:
    return keccak256(int(domain).to_bytes(32, "big") + inner)


def _block_and_index(block_hash: bytes, n: int) -> bytes:
    if len(block_hash) != 32:
        raise ValueError(f"L1 block hash must be 32 bytes, got {len(block_hash)}")
    if not 0 <= n < 1 << 64:
        raise ValueError(f"index {n} does not fit in a uint64")
    return keccak256(bytes(block_hash) + n.to_bytes(32, "big"))


def user_deposit_source_hash(l1_block_hash: bytes, log_index: int) -> bytes:
    return _source_hash(SourceDomain.USER_DEPOSIT, _block_and_index(l1_block_hash, log_index))


def l1_info_source_hash(l1_block_hash: bytes, sequence_number: int) -> bytes:
    return _source_hash(SourceDomain.L1_INFO, _block_and_index(l1_block_hash, sequence_number))


def upgrade_source_hash(intent: str) -> bytes:
    return _source_hash(SourceDomain.UPGRADE, keccak256(intent.encode()))


def after_force_include_source_hash(l1_block_hash: bytes, sequence_number: int) -> bytes:
    """op-node 2024 interop draft (domain 3); no fork uses it."""
    return _source_hash(SourceDomain.AFTER_FORCE_INCLUDE, _block_and_index(l1_block_hash, sequence_number))


def invalidated_block_source_hash(output_root: bytes) -> bytes:
    """op-node interop (domain 4): the output root of the invalidated block is the inner value, unhashed."""
    if len(output_root) != 32:
        raise ValueError(f"output root must be 32 bytes, got {len(output_root)}")
    return _source_hash(SourceDomain.INVALIDATED_BLOCK, bytes(output_root))


# ------------------------------------------------------------------------------------------- TransactionDeposited


def _topic_address(topic: bytes, name: str) -> bytes:
    # The portal emits indexed addresses left-padded; op-node slices [12:] without checking, kona rejects
    # non-zero padding. The portal cannot emit such a topic, so the stricter reading costs nothing.
    if len(topic) != 32:
        raise DepositLogError(f"deposit log topic {name} must be 32 bytes, got {len(topic)}")
    if any(topic[:12]):
        raise DepositLogError(f"deposit log topic {name} is not a left-padded address: 0x{topic.hex()}")
    return bytes(topic[12:])


def opaque_data_from_log_data(data: bytes) -> bytes:
    """The ABI ``bytes opaqueData`` of the event: offset word 32, length word, content zero-padded to 32 bytes.

    As op-node (deposit_log.go): data is a whole number of words, the offset is exactly 32 and the length
    leaves less than one word of padding (``L <= len-64 < L+32``). As kona, the padding must be zero: op-node
    does not look at it, but the portal's ABI encoding always writes zeros, so no real log tells them apart.
    """
    n = len(data)
    if n < 64:
        raise DepositLogError(f"deposit log data too short for the opaqueData header: {n} bytes")
    if n % 32:
        raise DepositLogError(f"deposit log data must be a multiple of 32 bytes, got {n}")
    offset = int.from_bytes(data[0:32], "big")
    if offset != 32:
        raise DepositLogError(f"invalid opaqueData offset {offset} (must be 32)")
    length = int.from_bytes(data[32:64], "big")
    avail = n - 64
    if length > avail:
        raise DepositLogError(f"opaqueData length {length} exceeds the {avail} bytes of log data")
    if length + 32 <= avail:
        raise DepositLogError(f"opaqueData length {length} leaves more than 31 bytes of padding ({avail} available)")
    if any(data[64 + length:]):
        raise DepositLogError("opaqueData padding is not zero")
    return bytes(data[64:64 + length])


def deposit_from_opaque_data(source_hash: bytes, from_: bytes, to: bytes, opaque: bytes) -> Transaction:
    """Version-0 opaque data: ``mint(32) ‖ value(32) ‖ gas(u64, 8) ‖ isCreation(1) ‖ data``.

    Any non-zero isCreation byte means contract creation (op-node compares with 0).
    """
    if len(opaque) < MIN_OPAQUE_V0_LEN:
        raise DepositLogError(f"version 0 opaqueData must be at least {MIN_OPAQUE_V0_LEN} bytes, got {len(opaque)}")
    mint = int.from_bytes(opaque[0:32], "big")
    value = int.from_bytes(opaque[32:64], "big")
    gas = int.from_bytes(opaque[64:72], "big")
    is_creation = opaque[72] != 0
    return deposit(source_hash, from_, None if is_creation else to, mint, value, gas, False, bytes(opaque[73:]))


def deposit_from_log(log: Log, l1_block_hash: bytes) -> Transaction:
    """The deposit transaction of one ``TransactionDeposited`` log (specs: deposits.md §Deposit Contract)."""
    topics = log.topics
    if len(topics) != 4:
        raise DepositLogError(f"deposit log must have 4 topics (event, from, to, version), got {len(topics)}")
    if topics[0] != TRANSACTION_DEPOSITED_TOPIC:
        raise DepositLogError(f"not a TransactionDeposited log: topic0 0x{bytes(topics[0]).hex()}")
    from_ = _topic_address(topics[1], "from")
    to = _topic_address(topics[2], "to")
    if topics[3] != DEPOSIT_VERSION_0:
        raise DepositLogError(f"unsupported deposit version 0x{bytes(topics[3]).hex()} (only version 0 exists)")
    opaque = opaque_data_from_log_data(log.data)
    return deposit_from_opaque_data(user_deposit_source_hash(l1_block_hash, log.log_index), from_, to, opaque)


def user_deposits(receipts: Iterable[Receipt], deposit_contract: bytes, l1_block_hash: bytes) -> list[Transaction]:
    """Every user deposit of an L1 block, in log order (deposits.md §User-Deposited Transactions; op-node
    ``UserDeposits``).

    Only successful receipts, only logs of ``deposit_contract`` whose topic0 is TransactionDeposited. A malformed
    log from the deposit contract raises :class:`DepositLogError`; the pipeline turns that into a CriticalError
    (op-node: "deposits may never be ignored").
    """
    out = []
    for receipt in receipts:
        if receipt.status != 1:
            continue
        for log in receipt.logs:
            if log.address == deposit_contract and log.topics and log.topics[0] == TRANSACTION_DEPOSITED_TOPIC:
                out.append(deposit_from_log(log, l1_block_hash))
    return out


# ------------------------------------------------------------------------------------------- the reverse direction


def opaque_data_v0(tx: Transaction) -> bytes:
    """Version-0 opaque data of a user deposit (what the portal packs)."""
    if tx.mint >= 1 << 256 or tx.value >= 1 << 256 or tx.gas >= 1 << 64:
        raise ValueError("mint/value must fit 256 bits and gas 64 bits")
    return (tx.mint.to_bytes(32, "big") + tx.value.to_bytes(32, "big") + tx.gas.to_bytes(8, "big")
            + (b"\x01" if tx.to is None else b"\x00") + tx.data)


def deposit_log(tx: Transaction, deposit_contract: bytes, log_index: int = 0) -> Log:
    """The ``TransactionDeposited`` log that derives ``tx`` (for devnets, tests and the sequencer's L1 side)."""
    if tx.from_ is None:
        raise ValueError("a deposit needs a sender (from_)")
    opaque = opaque_data_v0(tx)
    padded = opaque + bytes(-len(opaque) % 32)
    topics = (TRANSACTION_DEPOSITED_TOPIC, bytes(12) + tx.from_, bytes(12) + (tx.to or bytes(20)), DEPOSIT_VERSION_0)
    data = (32).to_bytes(32, "big") + len(opaque).to_bytes(32, "big") + padded
    return Log(address=deposit_contract, topics=topics, data=data, log_index=log_index)
