"""Decoders for the L1 batcher side: batcher transactions, frames and channels."""

from __future__ import annotations

import click

from derivation.protocol import transactions
from derivation.protocol.batch_reader import BatchReader
from derivation.protocol.batches import SingularBatch
from derivation.protocol.errors import ParseError
from derivation.protocol.frames import parse_frames
from derivation.protocol.rollup_config import MAX_RLP_BYTES_PER_CHANNEL_FJORD, RollupConfig
from derivation.protocol.span_batch import RawSpanBatch
from opnode.commands.decode_io import InputError, addr, hexb, json_command, read_input
from opnode.node.networks import NETWORKS, ConfigError, load_rollup_config


@click.command("batcher-tx")
@click.argument("raw_tx")
@json_command
def batcher_tx_cmd(raw_tx: str) -> dict:
    """Decode a signed L1 batcher transaction and the frames in its calldata."""
    tx = transactions.decode(read_input(raw_tx))
    out = {"hash": hexb(tx.hash), "type": tx.type, "from": addr(tx.sender()), "to": addr(tx.to),
           "nonce": tx.nonce, "blob_versioned_hashes": [hexb(h) for h in tx.blob_versioned_hashes], "frames": []}
    if tx.type == transactions.BLOB:
        out["frames_error"] = "blob transaction: derivation ignores its calldata; its frames are in its blobs"
        return out
    try:
        out["frames"] = [f.to_json() for f in parse_frames(tx.data)]
    except ParseError as e:
        out["frames_error"] = str(e)
    return out


@click.command("frames")
@click.argument("data")
@json_command
def frames_cmd(data: str) -> dict:
    """Decode batcher data (derivation version byte, then frames)."""
    return {"frames": [f.to_json() for f in parse_frames(read_input(data))]}


def _tx_json(raw: bytes) -> dict:
    tx = transactions.decode(raw)
    return {"hash": hexb(tx.hash), "type": tx.type, "nonce": tx.nonce, "from": addr(tx.sender())}


def _block_json(timestamp, epoch_num, txs, cfg: RollupConfig | None) -> dict:
    out = {"timestamp": timestamp, "epoch_num": epoch_num}
    if cfg is not None and timestamp is not None:
        out["l2_number"] = cfg.block_number_at(timestamp)
    out["transactions"] = [_tx_json(t) for t in txs]
    return out


def _singular_json(b: SingularBatch, cfg: RollupConfig | None) -> dict:
    return {"type": "singular", "parent_hash": hexb(b.parent_hash), "epoch_num": b.epoch_num,
            "epoch_hash": hexb(b.epoch_hash), "timestamp": b.timestamp,
            "blocks": [_block_json(b.timestamp, b.epoch_num, b.transactions, cfg)]}


def _span_json(b: RawSpanBatch, cfg: RollupConfig | None) -> dict:
    out = {"type": "span", "rel_timestamp": b.rel_timestamp, "l1_origin_num": b.l1_origin_num,
           "parent_check": hexb(b.parent_check), "l1_origin_check": hexb(b.l1_origin_check),
           "block_count": b.block_count, "tx_count": b.total_txs}
    if cfg is None:
        out["blocks_error"] = "timestamps, transaction hashes and senders need the chain: pass --network or " \
                              "--rollup.config"
        return out
    try:
        span = b.derive(cfg.block_time, cfg.genesis.l2_time, cfg.l2_chain_id)
    except ParseError as e:
        out["blocks_error"] = str(e)
        return out
    out["blocks"] = [_block_json(x.timestamp, x.epoch_num, x.transactions, cfg) for x in span.elements]
    return out


@click.command("channel")
@click.argument("data")
@click.option("--network", type=click.Choice(NETWORKS), help="Chain of the channel (timestamps, L2 numbers, txs).")
@click.option("--rollup.config", "rollup_config", type=click.Path(dir_okay=False), help="A rollup.json file.")
@json_command
def channel_cmd(data: str, network: str | None, rollup_config: str | None) -> dict:
    """Decode a channel: its frames' data concatenated in frame order. Reads batches until the stream ends or
    the first error (reported as "error"), with the post-Fjord RLP byte limit; brotli is accepted."""
    cfg = None
    if network or rollup_config:
        try:
            cfg = load_rollup_config(network, rollup_config)
        except ConfigError as e:
            raise InputError(str(e)) from None
    reader = BatchReader(read_input(data), MAX_RLP_BYTES_PER_CHANNEL_FJORD, brotli_allowed=True)
    batches = [_singular_json(b, cfg) if isinstance(b, SingularBatch) else _span_json(b, cfg) for b in reader]
    out = {"compression": reader.compression, "decompressed_length": reader.drain(MAX_RLP_BYTES_PER_CHANNEL_FJORD),
           "batches": batches}
    if reader.error:
        out["error"] = reader.error
    if reader.unterminated:
        out["note"] = f"the {reader.compression} stream has no final block (read up to where it ends)"
    return out


COMMANDS = [batcher_tx_cmd, frames_cmd, channel_cmd]
