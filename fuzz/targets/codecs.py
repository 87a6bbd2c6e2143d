"""Targets for the byte codecs of derivation/: RLP, transactions, frames, blobs, L1-info calldata, deposit logs and
SystemConfig updates."""

from __future__ import annotations

from derivation.protocol import rlp
from derivation.protocol.blobs import decode_blob, encode_blob
from derivation.protocol.channel import Channel, FrameRejected
from derivation.protocol.config_update import (
    CONFIG_UPDATE_TOPIC,
    CONFIG_UPDATE_VERSION_0,
    apply_receipts,
    apply_update,
    parse_config_update,
)
from derivation.protocol.deposits import TRANSACTION_DEPOSITED_TOPIC, deposit_from_log, deposit_log, user_deposits
from derivation.protocol.errors import CriticalError, ParseError
from derivation.protocol.frames import Frame, encode_frames, parse_frames
from derivation.protocol.l1_info import SELECTORS, decode_l1_info
from derivation.protocol.transactions import ACCESS_LIST, BLOB, DYNAMIC_FEE, LEGACY, SET_CODE, Transaction, deposit
from derivation.protocol.transactions import decode as decode_tx
from derivation.protocol.types import L1BlockRef, Log, Receipt
from fuzz.targets import Cursor, target
from fuzz.targets.config import CONFIG
from fuzz.vectors import hex_file, hex_values, vector

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
ADDR = bytes.fromhex("4200000000000000000000000000000000000010")
OPEN_BLOCK = L1BlockRef(bytes(32), 1, bytes(32), 12)


# ------------------------------------------------------------------------------------------------ RLP


def _rlp_seeds():
    yield rlp.encode([b"", b"\x01", b"\x7f", b"\x80", b"a" * 55, b"b" * 56, [[], [[]]], 2**256 - 1])
    nested: list = []
    for _ in range(rlp.MAX_DEPTH - 1):
        nested = [nested]
    yield rlp.encode(nested)
    yield from (t for t in _tx_seeds() if t[0] >= 0xC0)
    yield from (t[1:] for t in _tx_seeds() if t[0] < 0x80)


@target("rlp", allowed=(ParseError,), seeds=_rlp_seeds, tokens=(b"\xb8\x38", b"\xf8\x38", b"\xb9\x01\x00"))
def rlp_target(data: bytes) -> None:
    """derivation/rlp.py: geth-strict decoding; what decodes must re-encode to the same bytes (a strict decoder is
    a bijection on what it accepts)."""
    item = rlp.decode(data)
    if rlp.encode(item) != data:
        raise AssertionError("RLP item does not re-encode to its input")
    if isinstance(item, list):
        rlp.list_spans(data)


# ------------------------------------------------------------------------------------------------ transactions


def _own_txs() -> list[bytes]:
    common = dict(nonce=7, gas=21000, to=ADDR, value=10**18, data=b"\x01\x02")
    txs = [Transaction(LEGACY, gas_price=10**9, **common),
           Transaction(LEGACY, chain_id=10, gas_price=10**9, **common),
           Transaction(ACCESS_LIST, chain_id=10, gas_price=10**9, access_list=[[ADDR, [bytes(32)]]], **common),
           Transaction(DYNAMIC_FEE, chain_id=10, max_priority_fee_per_gas=1, max_fee_per_gas=2, **common),
           Transaction(BLOB, chain_id=1, max_priority_fee_per_gas=1, max_fee_per_gas=2, max_fee_per_blob_gas=3,
                       blob_versioned_hashes=[b"\x01" + bytes(31)], **common),
           Transaction(SET_CODE, chain_id=10, max_priority_fee_per_gas=1, max_fee_per_gas=2,
                       authorization_list=[[10, ADDR, 1, 0, 1, 1]], **common)]
    out = [t.sign(KEY).raw for t in txs]
    out.append(deposit(bytes(32), ADDR, None, 5, 6, 100000, False, b"\x60\x00").raw)
    return out


def _tx_seeds():
    yield from _own_txs()
    for name in ("upgrade_transactions", "l1_info_deposits", "user_deposits", "deposit_log_cases"):
        yield from hex_values(vector(name), "raw_tx")
    yield from hex_values(vector("engine_op_sepolia_blocks"), "transactions")
    yield hex_file("blobs/op_mainnet_batcher_tx_e69d9433.hex")


@target("transaction", allowed=(ParseError,), seeds=_tx_seeds, max_len=8192)
def transaction_target(data: bytes) -> None:
    """derivation/transactions.py: every type (legacy, 0x01-0x04, 0x7E); a decoded transaction re-encodes to its
    canonical bytes, hashes, and its sender recovers or is refused with a ParseError."""
    tx = decode_tx(data)
    raw = tx.raw
    if tx.encode() != raw:
        raise AssertionError(f"{tx.type_name} transaction does not re-encode to its canonical bytes")
    tx.hash  # noqa: B018
    tx.sender()


# ------------------------------------------------------------------------------------------------ frames


def _frame_seeds():
    calldata = decode_tx(hex_file("blobs/op_mainnet_batcher_tx_e69d9433.hex")).data
    yield calldata
    for enc in hex_values(vector("frames_channels"), "encoded"):
        yield b"\x00" + enc
    cid = bytes(range(16))
    yield encode_frames([Frame(cid, 0, b"abc", False), Frame(cid, 1, b"", False), Frame(cid, 2, b"x", True)])
    yield encode_frames([Frame(cid, 2, b"c", True), Frame(cid, 0, b"a", False), Frame(cid, 1, b"b", False)])


@target("frames", allowed=(ParseError,), seeds=_frame_seeds, max_len=16384)
def frames_target(data: bytes) -> None:
    """derivation/frames.py and channel.py: a batcher data item's frames, then channel assembly with the
    pre-Holocene (any order) and Holocene (in order) rules."""
    frames = parse_frames(data)
    for in_order in (False, True):
        channels: dict[bytes, Channel] = {}
        for f in frames:
            ch = channels.setdefault(f.channel_id, Channel(f.channel_id, OPEN_BLOCK, in_order))
            try:
                ch.add_frame(f, OPEN_BLOCK)
            except FrameRejected:
                continue
            if ch.is_ready():
                ch.data()


# ------------------------------------------------------------------------------------------------ blobs


def _blob_seeds():
    for d in (b"", b"\x00", b"hello" * 100, bytes(range(256)) * 40):
        yield encode_blob(d).rstrip(b"\x00")
    for b in hex_values(vector("kzg_sidecars_goerli"), "blob"):
        yield b.rstrip(b"\x00")


@target("blob", allowed=(ParseError,), seeds=_blob_seeds, max_len=16384)
def blob_target(data: bytes) -> None:
    """derivation/blobs.py: the input is the blob's start, zero-padded to 131072 bytes (blobs are mostly padding)."""
    decode_blob(data[:131072].ljust(131072, b"\x00"))


# ------------------------------------------------------------------------------------------------ L1 info


def _l1_info_seeds():
    yield from hex_values(vector("l1_info_deposits"), "calldata")


@target("l1_info", allowed=(ParseError,), seeds=_l1_info_seeds, max_len=512, tokens=tuple(SELECTORS.values()))
def l1_info_target(data: bytes) -> None:
    """derivation/l1_info.py: L1-info deposit calldata of every format; what decodes re-encodes to its input."""
    info = decode_l1_info(data)
    if info.encode() != data:
        raise AssertionError(f"{info.format} L1-info calldata does not re-encode to its input")


# ------------------------------------------------------------------------------------------------ logs


def _log(c: Cursor) -> Log:
    """topic count (1 byte, mod 6), the topics (32 bytes each), then the data (the rest)."""
    topics = tuple(c.take(32) for _ in range(c.byte() % 6))
    return Log(ADDR, topics, c.rest(), 3)


def log_input(topics, data: bytes) -> bytes:
    return bytes((len(topics),)) + b"".join(topics) + data


def _deposit_seeds():
    for name in ("user_deposits", "deposit_log_cases"):
        for case in vector(name).get("vectors", []) + vector(name).get("cases", []):
            src = case.get("input", case)
            if isinstance(src, dict) and "topics" in src and "log_data" in src:
                yield log_input([bytes.fromhex(t[2:]) for t in src["topics"]], bytes.fromhex(src["log_data"][2:]))
    for raw in _own_txs()[-1:]:
        lg = deposit_log(decode_tx(raw), ADDR)
        yield log_input(lg.topics, lg.data)


@target("deposit_log", allowed=(ParseError,), seeds=_deposit_seeds, tokens=(TRANSACTION_DEPOSITED_TOPIC,))
def deposit_log_target(data: bytes) -> None:
    """derivation/deposits.py: a TransactionDeposited log of the portal → its deposit transaction (and through
    ``user_deposits`` over a receipt)."""
    log = _log(Cursor(data))
    deposit_from_log(log, bytes(32)).encode()
    user_deposits([Receipt(2, 1, 0, (log,))], ADDR, bytes(32))


def _config_seeds():
    for case in vector("config_update_cases")["cases"]:
        if "topics" in case and "log_data" in case:
            yield log_input([bytes.fromhex(t[2:]) for t in case["topics"]], bytes.fromhex(case["log_data"][2:]))


@target("config_update", allowed=(ParseError, CriticalError), seeds=_config_seeds,
        tokens=(CONFIG_UPDATE_TOPIC, CONFIG_UPDATE_VERSION_0))
def config_update_target(data: bytes) -> None:
    """derivation/config_update.py: a ConfigUpdate log of the SystemConfig → the updated SystemConfig, before and
    after Ecotone (a malformed update from the SystemConfig is a CriticalError: op-node halts)."""
    log = _log(Cursor(data))
    for l1_time in (0, 2**40):
        try:
            apply_update(CONFIG.genesis.system_config, parse_config_update(log), CONFIG, l1_time)
        except ParseError:
            pass
        apply_receipts(CONFIG.genesis.system_config, [Receipt(2, 1, 0, (log,))], ADDR, CONFIG, l1_time)

