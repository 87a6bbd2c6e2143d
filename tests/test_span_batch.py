"""Span batches against op-node/kona vectors and real OP Mainnet channels; round trips; hostile input."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivation.protocol import rlp
from derivation.protocol.batch_reader import BatchReader, decode_batch
from derivation.protocol.batches import SingularBatch
from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.frames import parse_frames
from derivation.protocol.hexutil import checksum_address
from derivation.protocol.span_batch import RawSpanBatch, SpanBatchError
from derivation.protocol.transactions import check_access_list
from derivation.protocol.transactions import decode as decode_tx
from derivation.protocol.varint import put_uvarint
from opnode.node.networks import load_rollup_config
from opnode.testing.txgen import KEYS, make_tx, mixed_txs
from tests.vectors import blob, load

OP = load_rollup_config(network="op-mainnet")
KONA = load("span_batch.json")["vectors"][0]


def _bits(v: int, n: int) -> list[int]:
    return [(v >> i) & 1 for i in range(n)]


def _check_columns(raw: RawSpanBatch, e: dict) -> None:
    assert raw.rel_timestamp == e["rel_timestamp"] and raw.l1_origin_num == e["l1_origin_num"]
    assert "0x" + raw.parent_check.hex() == e["parent_check"]
    assert "0x" + raw.l1_origin_check.hex() == e["l1_origin_check"]
    assert raw.block_count == e["block_count"] and list(raw.block_tx_counts) == e["block_tx_counts"]
    assert _bits(raw.origin_bits, raw.block_count) == e["origin_bits"]
    n = raw.total_txs
    assert n == e["total_txs"]
    assert _bits(raw.contract_creation_bits, n) == e["contract_creation_bits"]
    assert _bits(raw.y_parity_bits, n) == e["y_parity_bits"]
    assert _bits(raw.protected_bits, raw.tx_types.count(0)) == e["protected_bits"]
    assert raw.tx_nonces == e["nonces"] and raw.tx_gases == e["gases"] and raw.tx_types == e["tx_types"]
    assert ["0x" + t.hex() for t in raw.tx_tos] == [t.lower() for t in e["tx_tos"]]
    sigs = b"".join(r.to_bytes(32, "big") + s.to_bytes(32, "big") for r, s in raw.tx_sigs)
    assert "0x" + keccak256(sigs).hex() == e["tx_sigs_keccak"]
    assert "0x" + keccak256(b"".join(raw.tx_datas)).hex() == e["tx_datas_keccak"]


def test_kona_raw_span_batch_decodes_and_reencodes_identically():
    data = bytes.fromhex(KONA["input"]["span_batch_without_type_byte"][2:])
    assert len(data) == KONA["input"]["len"]
    raw = RawSpanBatch.decode(data)
    _check_columns(raw, KONA["expected"]["span_batch"])
    assert raw.encode() == b"\x01" + data  # kona test_decode_encode_raw_span_batch
    k = KONA["cross_check"]["kona_batch_queue_constants"]
    assert (raw.rel_timestamp, raw.l1_origin_num) == (k["timestamp"], k["l1_origin_number"])


def _real_channels():
    tx = decode_tx(blob("op_mainnet_batcher_tx_e69d9433.hex"))
    yield 0, parse_frames(tx.data)[0].data
    yield 1, blob("op_mainnet_channel_zlib_span143.hex")


@pytest.mark.parametrize("vec, channel", list(_real_channels()), ids=["27-blocks", "143-blocks"])
def test_real_op_mainnet_span_batches(vec, channel):
    v = load("frames_channels.json")["vectors"][vec]
    ctx = v["context"]
    e = v["expected"]["batches"][0]["span_batch"]
    (raw,) = list(BatchReader(channel, OP.max_rlp_bytes_per_channel(ctx["genesis_l2_time"] + 10**8), True))
    _check_columns(raw, e)
    assert (ctx["l2_chain_id"], ctx["genesis_l2_time"], ctx["block_time"]) == (
        OP.l2_chain_id, OP.genesis.l2_time, OP.block_time)
    span = raw.derive(OP.block_time, OP.genesis.l2_time, OP.l2_chain_id)
    blocks = e["derived_blocks"]
    assert [(x.timestamp, x.epoch_num, len(x.transactions), OP.block_number_at(x.timestamp)) for x in span.elements] \
        == [(b["timestamp"], b["l1_origin_number"], b["tx_count"], b["l2_number"]) for b in blocks]
    txs = [t for x in span.elements for t in x.transactions]
    rec = e["reconstructed_txs"]
    assert "0x" + txs[0].hex() == rec["first_tx_raw"]
    assert ["0x" + keccak256(t).hex() for t in txs] == rec["tx_hashes"]
    senders = [checksum_address(decode_tx(t).sender()) for t in txs]
    assert [s.lower() for s in senders] == [s.lower() for s in rec["senders"]]


def test_derived_origins_walk_back_from_the_last_block():
    txs = mixed_txs(OP.l2_chain_id, 6)
    epochs = [100, 100, 101, 101, 101, 102]
    batches = [SingularBatch(bytes([i]) * 32, ep, bytes([ep % 256]) * 32, OP.genesis.l2_time + 2 * i, (txs[i],))
               for i, ep in enumerate(epochs)]
    raw = RawSpanBatch.from_singular_batches(batches, first_seq_number=3, genesis_time=OP.genesis.l2_time,
                                             chain_id=OP.l2_chain_id)
    assert _bits(raw.origin_bits, 6) == [0, 0, 1, 0, 0, 1]
    span = RawSpanBatch.decode(raw.encode()[1:]).derive(2, OP.genesis.l2_time, OP.l2_chain_id)
    assert [x.epoch_num for x in span.elements] == epochs
    assert [x.transactions for x in span.elements] == [b.transactions for b in batches]
    assert span.parent_check == batches[0].parent_hash[:20] and span.l1_origin_check == batches[-1].epoch_hash[:20]


@given(st.lists(st.integers(0, 12), min_size=1, max_size=12), st.integers(0, 3), st.integers(0, 4))
@settings(max_examples=30, deadline=None)
def test_round_trip_singular_batches_through_a_span(tx_counts, origin_steps, seed):
    chain = OP.l2_chain_id
    all_txs = mixed_txs(chain, sum(tx_counts), seed)
    batches, k, epoch = [], 0, 500
    for i, c in enumerate(tx_counts):
        if i and (i + seed) % (origin_steps + 2) == 0:
            epoch += 1
        batches.append(SingularBatch(keccak256(bytes([i])), epoch, keccak256(epoch.to_bytes(8, "big")),
                                     OP.genesis.l2_time + 100 + 2 * i, tuple(all_txs[k:k + c])))
        k += c
    data = RawSpanBatch.from_singular_batches(batches, 0, OP.genesis.l2_time, chain).encode()
    raw = decode_batch(data)
    assert raw.encode() == data
    span = raw.derive(OP.block_time, OP.genesis.l2_time, chain)
    assert [(x.timestamp, x.epoch_num, x.transactions) for x in span.elements] == [
        (b.timestamp, b.epoch_num, b.transactions) for b in batches]


def _one_tx_span(tx_data: bytes, tx_type_to: bytes = b"\x42" * 20, creation: bool = False) -> bytes:
    """A span batch with one block and one transaction whose tx_data is given raw."""
    parts = [bytes([5]), bytes([7]), b"\x01" * 20, b"\x02" * 20, bytes([1]), bytes([1]), bytes([1]),
             bytes([1 if creation else 0]), bytes([0]), (1).to_bytes(32, "big") * 2,
             b"" if creation else tx_type_to, tx_data, bytes([0]), bytes([21])]
    parts.append(bytes([0]) if tx_data[0] >= 0xC0 else b"")
    return b"".join(parts)


def test_unsupported_tx_types_fail_derivation_not_decoding():
    for bad_type in (0x03, 0x7E, 0x05):
        raw = RawSpanBatch.decode(_one_tx_span(bytes([bad_type]) + rlp.encode([1, 2, b""])))
        with pytest.raises(SpanBatchError, match="unsupported transaction type"):
            raw.derive(2, 0, 10)


@pytest.mark.parametrize("tx_data, why", [
    (rlp.encode([1, 2, b"", b"extra"]), "expected 3 fields"),
    (rlp.encode([b"\x00\x01", 2, b""]), "leading zero"),
    (rlp.encode([b"\x00", 2, b""]), "leading zero"),  # a lone 0x00 byte is a non-canonical zero
    (rlp.encode([b"\x00" + b"\x01" * 60, 2, b""]), "leading zero"),  # long-form string header
    (rlp.encode([[], 2, b""]), "got a list"),
    (rlp.encode([1, 2, [b"x"]]), "got a list"),
    (b"\x02" + rlp.encode([1, 2, b"\x00\x03", b"", []]), "leading zero"),
    (b"\x04" + rlp.encode([b"\x00", 2, 3, b"", [], []]), "leading zero"),
    (b"\x01" + rlp.encode([1, 2, b"", [[b"\x11" * 19, []]]]), "20 bytes"),
    (b"\x02" + rlp.encode([1, 2, 3, b"", [b"x"]]), "access list"),
    (b"\x02" + rlp.encode([1, 2, 3, b"", b""]), "access list must be a list"),  # one byte, not the empty list
    (b"\x02" + rlp.encode([1, 2, 3, b"", [[b"\x11" * 20, [b"\x22" * 31]]]]), "32 bytes"),
    (b"\x02" + rlp.encode([1, 2, 3, b"", [[b"\x11" * 20, b"\x22" * 32]]]), "storage keys must be a list"),
    (b"\x02" + rlp.encode([1, 2, 3, b"", [[[b"\x11" * 20], []]]]), "got a list"),
    (b"\x02" + rlp.encode([1, 2, 3, b"", [[b"\x11" * 20, [], b""]]]), "entry must be"),
    (b"\x04" + rlp.encode([1, 2, 3, b"", [], [[1, b"\x33" * 20, 0, 2, 1]]]), "authorization"),
    (b"\x04" + rlp.encode([1 << 256, 2, 3, b"", [], []]), "256 bits"),
])
def test_malformed_tx_data_fails_derivation(tx_data, why):
    raw = RawSpanBatch.decode(_one_tx_span(tx_data))
    with pytest.raises(SpanBatchError, match=why):
        raw.derive(2, 0, 10)


def test_set_code_values_take_exactly_256_bits():
    raw = RawSpanBatch.decode(_one_tx_span(b"\x04" + rlp.encode([(1 << 256) - 1, 2, 3, b"", [], []])))
    (tx,) = raw.derive(2, 0, 10).elements[0].transactions
    assert rlp.decode(tx[1:])[6] == b"\xff" * 32


def test_set_code_contract_creation_is_invalid():
    raw = RawSpanBatch.decode(_one_tx_span(b"\x04" + rlp.encode([1, 2, 3, b"", [], []]), creation=True))
    with pytest.raises(SpanBatchError, match="cannot create"):
        raw.derive(2, 0, 10)


def test_big_legacy_values_follow_op_node():
    """op-node decodes legacy/1559 values as unbounded big.Int: a 300-bit value derives (the engine rejects it)."""
    raw = RawSpanBatch.decode(_one_tx_span(rlp.encode([1 << 300, 2, b""])))
    (tx,) = raw.derive(2, 0, 10).elements[0].transactions
    assert rlp.decode(tx)[4] == (1 << 300).to_bytes(38, "big")


@pytest.mark.parametrize("mutate, why", [
    (lambda d: d[:42] + bytes([0]) + d[43:], "no blocks"),
    (lambda d: d[:42] + put_uvarint(10_000_001) + d[43:], "exceeds"),
    (lambda d: d[:43] + bytes([2]) + d[44:], "beyond"),  # origin bit 1 set in a 1-bit list
    (lambda d: d[:44] + put_uvarint(10_000_001) + d[45:], "exceeds"),  # block tx count
    (lambda d: b"\xff" * 10 + d, "overflows"),
])
def test_span_batch_wire_errors(mutate, why):
    good = _one_tx_span(rlp.encode([1, 2, b""]))
    RawSpanBatch.decode(good)
    with pytest.raises(SpanBatchError, match=why):
        RawSpanBatch.decode(mutate(good))


def test_non_minimal_uvarints_are_accepted_like_go():
    good = _one_tx_span(rlp.encode([1, 2, b""]))
    assert RawSpanBatch.decode(b"\x85\x00" + good[1:]).rel_timestamp == 5


def test_every_truncation_is_a_parse_error():
    data = RawSpanBatch.from_singular_batches(
        [SingularBatch(bytes(32), 9, bytes(32), OP.genesis.l2_time + 2, tuple(mixed_txs(10, 5)))], 0,
        OP.genesis.l2_time, 10).encode()[1:]
    for cut in range(len(data)):
        with pytest.raises(SpanBatchError):
            RawSpanBatch.decode(data[:cut])


def test_from_singular_batches_rejects_wrong_chain_id():
    tx = make_tx(2, 11, KEYS[0], 0)
    with pytest.raises(ValueError, match="chain id"):
        RawSpanBatch.from_singular_batches([SingularBatch(bytes(32), 1, bytes(32), 3, (tx,))], 0, 1, 10)


@given(st.binary(max_size=300))
def test_random_bytes_raise_only_parse_errors(data):
    try:
        RawSpanBatch.decode(data).derive(2, 0, 10)
    except ParseError:
        pass


@given(st.integers(0, 10_000), st.integers(0, 255))
@settings(max_examples=300)
def test_mutated_span_batches_raise_only_parse_errors(where, byte):
    data = bytearray(bytes.fromhex(KONA["input"]["span_batch_without_type_byte"][2:]))
    data[where % len(data)] = byte
    try:
        RawSpanBatch.decode(bytes(data)).derive(2, 0, 10)
    except ParseError:
        pass


def _sized(*sizes: int):
    return st.sampled_from(sizes).flatmap(lambda n: st.binary(min_size=n, max_size=n))


_ITEM = st.recursive(_sized(0, 1, 19, 20, 21, 31, 32, 33, 56), lambda kids: st.lists(kids, max_size=3), max_leaves=8)
# Near-valid access lists: mostly right entries, each part now and then off by a little or replaced.
_KEY = st.one_of(*[_sized(32)] * 6, _sized(31, 33, 0), _ITEM)
_ENTRY = st.builds(lambda address, keys, extra: [address, keys, *extra],
                   st.one_of(*[_sized(20)] * 4, _sized(19, 21), _ITEM),
                   st.one_of(*[st.lists(_KEY, max_size=3)] * 4, _ITEM),
                   st.one_of(*[st.just([])] * 5, st.lists(_ITEM, min_size=1, max_size=1)))
_ACCESS_LIST = st.one_of(_ITEM, st.lists(_ENTRY, max_size=3), st.lists(_ENTRY, max_size=2))


def _verdict(fn) -> bool:
    try:
        fn()
    except ParseError:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(_ACCESS_LIST, _ITEM)
def test_span_tx_fields_are_judged_like_the_decoded_items(access_list, value):
    """Span tx fields are checked in place, without decoding: the verdict must be that of the typed decoding
    of the same items (an integer field as ``rlp.decode_uint``, the access list as ``check_access_list``)."""
    tx_data = b"\x02" + rlp.encode([value, 2, 3, b"", access_list])
    raw = RawSpanBatch.decode(_one_tx_span(tx_data))
    expected = _verdict(lambda: (rlp.decode_uint(rlp.decode(rlp.encode(value)), 1 << 30),
                                 check_access_list(rlp.decode(rlp.encode(access_list)))))
    assert _verdict(lambda: raw.derive(2, 0, 10)) == expected
