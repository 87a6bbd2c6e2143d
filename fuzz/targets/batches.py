"""Targets for channels and batches: decompression (zlib, brotli) through the bounded batch reader, singular and
span batches (decode and span ``derive``)."""

from __future__ import annotations

from derivation.protocol.batch_reader import BatchReader, decode_batch
from derivation.protocol.batches import SingularBatch
from derivation.protocol.compression import BROTLI, ZLIB
from derivation.protocol.errors import ParseError
from derivation.protocol.rollup_config import MAX_RLP_BYTES_PER_CHANNEL_FJORD
from derivation.protocol.span_batch import RawSpanBatch
from fuzz.targets import target
from fuzz.targets.codecs import _own_txs
from fuzz.vectors import hex_file, hex_values, vector
from opnode.tools.batcher.channel_out import ChannelOut

CHAIN_ID = 10
BLOCK_TIME = 2
GENESIS_TIME = 1_686_068_903


def _blocks(n: int, txs: bool) -> list[SingularBatch]:
    own = [t for t in _own_txs() if t[0] in (0x01, 0x02, 0x04) or t[0] >= 0xC0][1:]  # chain-10 signable types
    return [SingularBatch(bytes([i]) * 32, 100 + i // 2, bytes([0x80 + i]) * 32, GENESIS_TIME + 2 * (i + 1),
                          tuple(own[: (i % 4)]) if txs else ()) for i in range(n)]


def _channels():
    for span in (False, True):
        for comp in (ZLIB, BROTLI):
            out = ChannelOut(bytes(16), span=span, compression=comp, chain_id=CHAIN_ID, genesis_time=GENESIS_TIME)
            for i, b in enumerate(_blocks(5, txs=True)):
                out.add_block(b, i % 2)
            yield out.close()


def _channel_seeds():
    yield from _channels()
    yield hex_file("blobs/op_mainnet_channel_zlib_span143.hex")
    for s in hex_values(vector("frames_channels"), "brotli_stream_without_version_byte"):
        yield b"\x01" + s


@target("channel", allowed=(ParseError,), seeds=_channel_seeds, max_len=65536)
def channel_target(data: bytes) -> None:
    """derivation/compression.py and batch_reader.py: a channel's compressed data (zlib, or brotli after Fjord) read
    batch by batch under the Fjord RLP limit, each span batch derived as the pipeline does."""
    reader = BatchReader(data, MAX_RLP_BYTES_PER_CHANNEL_FJORD, brotli_allowed=True)
    for batch in reader:
        if isinstance(batch, RawSpanBatch):
            batch.derive(BLOCK_TIME, GENESIS_TIME, CHAIN_ID)


def _span_seeds():
    yield from hex_values(vector("span_batch"), "span_batch_without_type_byte")
    for n in (1, 3, 8):
        blocks = _blocks(n, txs=True)
        yield RawSpanBatch.from_singular_batches(blocks, 0, GENESIS_TIME, CHAIN_ID).encode()[1:]


@target("span_batch", allowed=(ParseError,), seeds=_span_seeds, max_len=32768)
def span_batch_target(data: bytes) -> None:
    """derivation/span_batch.py: a span batch's content (after the type byte) decoded and derived into blocks with
    their signed transactions; the derived batch re-encodes."""
    raw = RawSpanBatch.decode(data)
    raw.derive(BLOCK_TIME, GENESIS_TIME, CHAIN_ID)


def _batch_seeds():
    for b in _blocks(3, txs=True):
        yield b.encode()
    for s in _span_seeds():
        yield b"\x01" + s


@target("batch", allowed=(ParseError,), seeds=_batch_seeds, max_len=16384)
def batch_target(data: bytes) -> None:
    """derivation/batch_reader.py ``decode_batch``: batch data by its type byte (singular, span, anything else)."""
    batch = decode_batch(data)
    if isinstance(batch, RawSpanBatch):
        batch.derive(BLOCK_TIME, GENESIS_TIME, CHAIN_ID)
    else:
        SingularBatch.decode(batch.encode()[1:])
