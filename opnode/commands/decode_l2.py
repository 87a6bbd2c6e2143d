"""Decoders for the L2 side: L1-info deposits, L2 transactions, deposit logs and upgrade transactions."""

from __future__ import annotations

import json

import click

from derivation import transactions
from derivation.deposits import deposit_from_log
from derivation.hexutil import from_hex, parse_quantity
from derivation.l1_info import decode_l1_info
from derivation.rollup_config import Fork
from derivation.types import Log
from derivation.upgrades import upgrade_transactions

from .decode_io import InputError, addr, hexb, json_command, read_input, read_text


@click.command("l1-info")
@click.argument("data")
@json_command
def l1_info_cmd(data: str) -> dict:
    """Decode an L1-info deposit: its calldata or the whole deposit transaction (0x7e…)."""
    raw = read_input(data)
    if raw[:1] == bytes((transactions.DEPOSIT,)):
        raw = transactions.decode(raw).data
    info = decode_l1_info(raw)
    return {
        "format": info.format,
        "number": info.number,
        "timestamp": info.time,
        "base_fee": info.base_fee,
        "blob_base_fee": info.blob_base_fee,
        "hash": hexb(info.block_hash),
        "sequence_number": info.sequence_number,
        "batcher_address": addr(info.batcher_addr),
        "l1_fee_overhead": info.l1_fee_overhead,
        "l1_fee_scalar": info.l1_fee_scalar,
        "base_fee_scalar": info.base_fee_scalar,
        "blob_base_fee_scalar": info.blob_base_fee_scalar,
        "operator_fee_scalar": info.operator_fee_scalar,
        "operator_fee_constant": info.operator_fee_constant,
        "da_footprint_gas_scalar": info.da_footprint_gas_scalar,
    }


@click.command("tx")
@click.argument("raw_tx")
@json_command
def tx_cmd(raw_tx: str) -> dict:
    """Decode a raw L2 transaction (EIP-2718 bytes, deposits included)."""
    tx = transactions.decode(read_input(raw_tx))
    is_deposit = tx.type == transactions.DEPOSIT
    out = {
        "type": tx.type,
        "hash": hexb(tx.hash),
        "nonce": None if is_deposit else tx.nonce,
        "from": addr(tx.sender()),
        "to": addr(tx.to),
        "value": tx.value,
        "gas": tx.gas,
        "data": hexb(tx.data),
    }
    if is_deposit:
        out.update(source_hash=hexb(tx.source_hash), mint=tx.mint, is_system_tx=tx.is_system_tx)
    return out


def _log_from_json(text: str) -> tuple[Log, bytes]:
    try:
        entry = json.loads(text)
    except ValueError as e:
        raise InputError(f"LOG_JSON is not JSON: {e}") from None
    if not isinstance(entry, dict):
        raise InputError("LOG_JSON must be one eth_getLogs entry (a JSON object)")
    missing = [k for k in ("address", "topics", "data", "blockHash", "logIndex") if k not in entry]
    if missing:
        raise InputError(f"LOG_JSON is missing {', '.join(missing)}")
    if not isinstance(entry["topics"], list):
        raise InputError("LOG_JSON topics must be a list")
    log = Log(address=from_hex(entry["address"], 20), topics=tuple(from_hex(t, 32) for t in entry["topics"]),
              data=from_hex(entry["data"]), log_index=parse_quantity(entry["logIndex"]))
    return log, from_hex(entry["blockHash"], 32)


@click.command("deposit-log")
@click.argument("log_json")
@json_command
def deposit_log_cmd(log_json: str) -> dict:
    """Derive the deposit transaction of one TransactionDeposited log (an eth_getLogs entry: literal JSON, @FILE
    or -)."""
    log, block_hash = _log_from_json(read_text(log_json))
    tx = deposit_from_log(log, block_hash)
    return {
        "source_hash": hexb(tx.source_hash),
        "from": addr(tx.from_),
        "to": addr(tx.to),
        "mint": tx.mint,
        "value": tx.value,
        "gas": tx.gas,
        "is_creation": tx.to is None,
        "data": hexb(tx.data),
        "raw": hexb(tx.raw),
        "hash": hexb(tx.hash),
    }


@click.command("upgrade-txs")
@click.argument("fork")
@json_command
def upgrade_txs_cmd(fork: str) -> list:
    """The network-upgrade deposits of FORK's activation block, in order (Interop: not final)."""
    return [{"intent": u.intent, "source_hash": hexb(u.tx.source_hash), "from": addr(u.tx.from_),
             "to": addr(u.tx.to), "gas": u.tx.gas, "raw": hexb(u.tx.raw), "hash": hexb(u.tx.hash)}
            for u in upgrade_transactions(Fork.parse(fork))]


COMMANDS = [l1_info_cmd, tx_cmd, deposit_log_cmd, upgrade_txs_cmd]
