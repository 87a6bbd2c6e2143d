"""Channel decompression and batch reading, on real OP Mainnet channels and hostile ones."""

import brotli
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zlib_ng import zlib_ng

from derivation.protocol import rlp
from derivation.protocol.batch_reader import BatchReader
from derivation.protocol.batches import SingularBatch
from derivation.protocol.compression import BROTLI, ZLIB, CompressionError, Decompressor, StreamCompressor, compress
from derivation.protocol.crypto import keccak256, sha256
from derivation.protocol.errors import ParseError
from derivation.protocol.frames import parse_frames
from derivation.protocol.transactions import decode as decode_tx
from tests.vectors import blob, load

V = load("frames_channels.json")
FJORD_LIMIT, BEDROCK_LIMIT = 100_000_000, 10_000_000


def _drain(d: Decompressor) -> bytes:
    out = bytearray()
    while chunk := d.read(1 << 16):
        out += chunk
    return bytes(out)


def _unterminated_channel() -> bytes:
    tx = decode_tx(blob("op_mainnet_batcher_tx_e69d9433.hex"))
    return parse_frames(tx.data)[0].data


@pytest.mark.parametrize("data, vec", [(_unterminated_channel, 0), (lambda: blob("op_mainnet_channel_zlib_span143.hex"), 1)])
def test_real_channels_decompress(data, vec):
    exp = V["vectors"][vec]["expected"]["channel"]
    d = Decompressor(data(), brotli_allowed=False)
    out = _drain(d)
    assert d.algorithm == exp["compression"] == "zlib"
    assert len(out) == exp["decompressed_len"]
    assert "0x" + keccak256(out).hex() == exp["decompressed_keccak"]
    assert sha256(out).hex() == exp["decompressed_sha256"]
    # The first channel has no final deflate block: the stream just ends (op-node reads it the same way).
    assert d.error is None and d.unterminated != exp["zlib_stream_terminated"]


@pytest.mark.parametrize("data, vec", [(_unterminated_channel, 0), (lambda: blob("op_mainnet_channel_zlib_span143.hex"), 1)])
def test_real_channels_hold_one_span_batch(data, vec):
    exp = V["vectors"][vec]["expected"]["batches"]
    reader = BatchReader(data(), FJORD_LIMIT, brotli_allowed=True)
    items = list(reader)
    assert len(items) == len(exp) == 1 and reader.error is None
    assert reader.last_size == exp[0]["batch_len"] and exp[0]["batch_type"] == 1
    assert reader.consumed == exp[0]["rlp_header_len"] + exp[0]["batch_len"]


def test_truncated_channel_yields_nothing_and_says_why():
    data = blob("op_mainnet_channel_zlib_span143.hex")
    reader = BatchReader(data[: len(data) // 2], FJORD_LIMIT, brotli_allowed=True)
    assert list(reader) == []
    assert "ends inside a batch" in reader.error


def test_batches_before_a_truncation_are_kept():
    batches = [SingularBatch(bytes([i]) * 32, i, bytes([i + 1]) * 32, 1000 + i, (b"\x02tx",)) for i in range(5)]
    stream = b"".join(rlp.encode_bytes(b.encode()) for b in batches)
    channel = compress(stream, ZLIB)
    cut = BatchReader(channel[:-12], FJORD_LIMIT, True)  # drop the adler32 and the end of the last block
    got = list(cut)
    assert got == batches[: len(got)] and 1 <= len(got) < 5
    bad_checksum = channel[:-4] + bytes(4)
    assert list(BatchReader(bad_checksum, FJORD_LIMIT, True)) == batches


def test_brotli_vectors():
    tiny, single = V["vectors"][2], V["vectors"][3]
    d = Decompressor(b"\x01" + bytes.fromhex(tiny["input"]["brotli_stream_without_version_byte"][2:]), True)
    assert "0x" + _drain(d).hex() == tiny["expected"]["decompressed"]
    channel = b"\x01" + bytes.fromhex(single["input"]["brotli_stream_without_version_byte"][2:])
    assert "0x" + _drain(Decompressor(channel, True)).hex() == single["expected"]["decompressed"]
    items = list(BatchReader(channel, FJORD_LIMIT, True))
    assert len(items) == 1 and isinstance(items[0], SingularBatch)


@pytest.mark.parametrize("case", load("frames_channels.json")["compression_behaviour"]["cases"], ids=lambda c: c["algo"])
def test_compression_behaviour_by_fork(case):
    stream = rlp.encode_bytes(SingularBatch(b"\x01" * 32, 1, b"\x02" * 32, 3, ()).encode())
    algo = case["algo"]
    data = compress(stream, ZLIB) if algo == "zlib" else (
        compress(stream, BROTLI) if "brotli" in algo else b"\x02" + b"zstd-ish")
    for fork, fjord in (("pre_fjord", False), ("post_fjord", True)):
        if fork not in case:
            continue
        if case[fork] == "ok":
            assert len(list(BatchReader(data, FJORD_LIMIT, fjord))) == 1
        else:
            with pytest.raises(CompressionError):
                BatchReader(data, FJORD_LIMIT, fjord)


def test_zlib_header_rules():
    with pytest.raises(CompressionError, match="header"):
        Decompressor(b"\x0f\x00", True)  # CM 15 is "zlib" by the version nibble but not a valid zlib stream
    with pytest.raises(CompressionError, match="dictionar"):
        Decompressor(bytes([0x78, 0xBB]) + b"\x00" * 8, True)


def _padded_batch(size: int) -> bytes:
    """An RLP-wrapped singular batch of exactly ``size`` bytes (header included)."""
    pad = size
    while True:
        item = rlp.encode_bytes(SingularBatch(bytes(32), 1, bytes(32), 2, (bytes(pad),)).encode())
        if len(item) == size:
            return item
        pad -= len(item) - size


def test_rlp_limit_counts_headers_and_stops_at_the_crossing_batch():
    items = [_padded_batch(1000)] * 10
    channel = compress(b"".join(items), ZLIB)
    reader = BatchReader(channel, 3500, True)
    assert len(list(reader)) == 3 and reader.consumed == 3000
    assert "exceed" in reader.error
    assert len(list(BatchReader(channel, 10_000, True))) == 10


def test_list_items_and_non_canonical_headers_end_the_channel():
    good = _padded_batch(200)
    for bad in (rlp.encode([b"\x00abc"]), b"\x81\x05", b"\xb8\x03abc", rlp.encode_bytes(b"\x02abc"), b"\x00"):
        reader = BatchReader(compress(good + bad + good, ZLIB), FJORD_LIMIT, True)
        assert len(list(reader)) == 1 and reader.error


def _zlib_stream(chunks, total: int) -> bytes:
    c = zlib_ng.compressobj(1)
    out = []
    n = 0
    while n < total:
        out.append(c.compress(chunks))
        n += len(chunks)
    out.append(c.flush())
    return b"".join(out)


def _brotli_stream(chunks, total: int) -> bytes:
    c = brotli.Compressor(quality=1)
    out = [b"\x01"]
    n = 0
    while n < total:
        out.append(c.process(chunks))
        n += len(chunks)
    out.append(c.finish())
    return b"".join(out)


class CountingDecompressor:
    def __init__(self, reader: BatchReader):
        self.total = 0
        dec = reader._dec
        orig = dec.read

        def read(n):
            out = orig(n)
            self.total += len(out)
            return out

        dec.read = read


GIB = 1 << 30


@pytest.mark.parametrize("make", [_zlib_stream, _brotli_stream], ids=["zlib", "brotli"])
def test_decompression_bomb_of_zeros_stops_at_once(make):
    bomb = make(bytes(1 << 20), GIB)
    reader = BatchReader(bomb, FJORD_LIMIT, True)
    counter = CountingDecompressor(reader)
    # 0x00 is a one-byte RLP string: a singular batch with no content, which fails to decode.
    assert list(reader) == [] and "singular batch" in reader.error
    assert counter.total <= 1 << 20  # ~1 MiB decompressed out of 1 GiB


@pytest.mark.parametrize("make", [_zlib_stream, _brotli_stream], ids=["zlib", "brotli"])
def test_decompression_bomb_of_batches_stops_at_the_bound(make):
    item = _padded_batch(4096)
    bomb = make(item * 256, GIB)  # 1 GiB decompressed
    reader = BatchReader(bomb, BEDROCK_LIMIT, True)
    counter = CountingDecompressor(reader)
    n = sum(1 for _ in reader)
    assert n == BEDROCK_LIMIT // 4096 and "exceed" in reader.error
    assert counter.total <= BEDROCK_LIMIT + (1 << 20)


def test_huge_declared_batch_is_refused_from_its_header():
    bomb = _zlib_stream(b"\xbb" + (2 * GIB).to_bytes(4, "big"), 1 << 20)
    reader = BatchReader(bomb, FJORD_LIMIT, True)
    assert list(reader) == [] and "exceed" in reader.error


@given(st.lists(st.binary(max_size=200), max_size=20), st.sampled_from([ZLIB, BROTLI]))
@settings(max_examples=50, deadline=None)
def test_stream_round_trip(items, algo):
    sc = StreamCompressor(algo)
    batches = [SingularBatch(keccak256(x), len(x), keccak256(x + b"e"), 7 + len(x), (x,) if x else ()) for x in items]
    for b in batches:
        sc.write(rlp.encode_bytes(b.encode()))
        sc.flush()
    assert list(BatchReader(sc.finish(), FJORD_LIMIT, True)) == batches


@given(st.binary(max_size=300), st.booleans())
def test_random_channels_raise_only_parse_errors(data, fjord):
    try:
        list(BatchReader(data, FJORD_LIMIT, fjord))
    except ParseError:
        pass
