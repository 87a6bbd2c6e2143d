"""Decoders for the L2 side: L1-info deposits, L2 transactions, deposit logs and upgrade transactions."""

from __future__ import annotations

import json

import click

from derivation.protocol import transactions
from derivation.protocol.deposits import deposit_from_log
from derivation.protocol.hexutil import from_hex, parse_quantity
from derivation.protocol.l1_info import decode_l1_info
from derivation.protocol.nut_bundle import nut_bundle
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.types import Log
from derivation.protocol.upgrades import lagoon_transactions, upgrade_gas, upgrade_transactions
from opnode.commands.decode_io import InputError, addr, hexb, json_command, read_input, read_text
from opnode.node.networks import ConfigError, load_dependency_set, load_rollup_config


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


def _tx_json(intent: str, tx) -> dict:
    out = {"intent": intent, "source_hash": hexb(tx.source_hash), "from": addr(tx.from_), "to": addr(tx.to),
           "gas": tx.gas}
    if tx.mint or tx.value:
        out.update(mint=tx.mint, value=tx.value)
    return {**out, "raw": hexb(tx.raw), "hash": hexb(tx.hash)}


def _activation(cfg: RollupConfig | None, fork: Fork) -> dict | None:
    """The first L2 block with ``fork`` active, if it is after genesis."""
    t = None if cfg is None else cfg.fork_time(fork)
    if t is None:
        return None
    ts = cfg.genesis.l2_time if t <= cfg.genesis.l2_time else cfg.timestamp_for_block(cfg.block_number_at(t - 1) + 1)
    if not cfg.is_activation_block(fork, ts):
        return {"at_genesis": True}
    return {"timestamp": ts, "block": cfg.block_number_at(ts)}


def _gas_limit(base: int | None, added: int) -> int | str:
    return base + added if base is not None else f"system config gas limit + {added}"


@click.command("upgrade-txs")
@click.argument("fork_arg", metavar="[FORK]", required=False)
@click.option("--fork", "fork_opt", help="ecotone, fjord, isthmus, jovian, karst or lagoon (also as argument).")
@click.option("--network", help="A bundled network: its activation block, keep flag and dependency set.")
@click.option("--rollup.config", "rollup_config", help="A rollup.json file instead of --network.")
@click.option("--interop.dependency-set", "dependency_set", help="op-node dependency-set JSON (Lagoon wrappers).")
@click.option("--system-gas-limit", type=int, help="The SystemConfig gas limit, to print the gas limits as numbers.")
@json_command
def upgrade_txs_cmd(fork_arg, fork_opt, network, rollup_config, dependency_set, system_gas_limit) -> dict:
    """The network-upgrade deposits of a fork's activation block, in order, with the activation block's gas limit.

    Karst and Lagoon come from their NUT bundles (file and sha256 shown, checked against op-node's lock). Lagoon's setFeature/ETHLiquidity wrappers are included when the dependency set (of --network or
    --interop.dependency-set) holds more than one chain."""
    if bool(fork_arg) == bool(fork_opt):
        raise InputError("give the fork once: as argument or as --fork")
    fork = Fork.parse(fork_arg or fork_opt)
    cfg = None
    if network or rollup_config:
        try:
            cfg = load_rollup_config(network, rollup_config)
        except ConfigError as e:
            raise InputError(str(e)) from None
    if dependency_set:
        try:
            ds = load_dependency_set(dependency_set)
        except ConfigError as e:
            raise InputError(str(e)) from None
    else:
        ds = cfg.dependency_set if cfg is not None else None
    out: dict = {"fork": fork.label}
    if cfg is not None:
        out["chain_id"] = cfg.l2_chain_id
        out["activation"] = _activation(cfg, fork)
    if fork in (Fork.KARST, Fork.LAGOON):
        bundle = nut_bundle(fork)
        out["bundle"] = {"file": bundle.path, "sha256": bundle.sha256, "label": bundle.label,
                         "transactions": len(bundle.transactions)}
        added = upgrade_gas(fork, bundle)
        if fork == Fork.KARST:
            txs = upgrade_transactions(fork)
            keep = cfg is not None and cfg.keep_karst_upgrade_gas
            after = added if keep else 0
            out["keep_karst_upgrade_gas"] = keep if cfg is not None else None
        else:
            multi = ds is not None and ds.multi_chain
            txs = lagoon_transactions(bundle, multi)
            after = 0
            out["dependency_set"] = None if ds is None else list(ds.chain_ids)
            out["wrappers"] = multi
        out["upgrade_gas"] = added
        out["activation_gas_limit"] = _gas_limit(system_gas_limit, added)
        out["next_block_gas_limit"] = _gas_limit(system_gas_limit, after)
    else:
        txs = upgrade_transactions(fork)
    out["deposits"] = [_tx_json(u.intent, u.tx) for u in txs]
    return out


COMMANDS = [l1_info_cmd, tx_cmd, deposit_log_cmd, upgrade_txs_cmd]
