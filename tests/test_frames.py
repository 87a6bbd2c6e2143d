import pytest
from hypothesis import given
from hypothesis import strategies as st

from derivation.protocol.errors import ParseError
from derivation.protocol.frames import Frame, FrameError, encode_frames, parse_frames
from derivation.protocol.transactions import decode as decode_tx
from tests.vectors import blob, load

V = load("frames_channels.json")


def test_real_batcher_tx_frames():
    vec = V["vectors"][0]
    tx = decode_tx(blob("op_mainnet_batcher_tx_e69d9433.hex"))
    assert "0x" + tx.hash.hex() == vec["input"]["raw_tx"]["keccak256"]
    assert len(tx.data) == vec["expected"]["kona_asserted"]["calldata_len"]
    frames = parse_frames(tx.data)
    exp = vec["expected"]["frames"]
    assert [(f"0x{f.channel_id.hex()}", f.number, len(f.data), int(f.is_last)) for f in frames] == [
        (e["channel_id"], e["frame_number"], e["frame_data_length"], e["is_last"]) for e in exp]
    assert encode_frames(frames) == tx.data


def _input(vec) -> bytes:
    data = bytes.fromhex(vec["input"][2:])
    # Two vectors are bare frames (kona's Frame::decode tests): put them in a batcher data item.
    return b"\x00" + data if data[:1] == b"\xff" else data


@pytest.mark.parametrize("vec", [v for v in V["frame_codec_vectors"] if "input" in v], ids=lambda v: v["name"])
def test_frame_error_vectors(vec):
    with pytest.raises(FrameError):
        parse_frames(_input(vec))


def test_frame_encoding_vectors():
    enc = V["frame_codec_vectors"][0]
    f = enc["frame"]
    frame = Frame(bytes.fromhex(f["id"][2:]), f["number"], bytes.fromhex(f["data"][2:]), f["is_last"])
    assert "0x" + frame.encode().hex() == enc["encoded"]
    assert len(frame.encode()) == enc["encoded_len"]
    many = V["frame_codec_vectors"][1]
    frames = parse_frames(bytes.fromhex(many["calldata"][2:]))
    assert len(frames) == many["expected_frames"] and all(x == frame for x in frames)


def test_max_frame_length_is_enforced():
    over = Frame(b"\x01" * 16, 0, b"\x00" * 1_000_001, True)
    with pytest.raises(FrameError, match="exceeds"):
        parse_frames(encode_frames([over]))
    exact = Frame(b"\x01" * 16, 0, b"\x00" * 1_000_000, True)
    assert parse_frames(encode_frames([exact])) == [exact]


def test_trailing_garbage_rejects_all_frames():
    good = encode_frames([Frame(b"\x02" * 16, 0, b"abc", False), Frame(b"\x02" * 16, 1, b"def", True)])
    assert len(parse_frames(good)) == 2
    with pytest.raises(FrameError):
        parse_frames(good + b"\x00")


frames_st = st.lists(st.builds(Frame, st.binary(min_size=16, max_size=16), st.integers(0, 0xFFFF),
                               st.binary(max_size=300), st.booleans()), min_size=1, max_size=8)


@given(frames_st)
def test_frames_round_trip(frames):
    assert parse_frames(encode_frames(frames)) == frames


@given(st.binary(max_size=400))
def test_random_bytes_raise_only_parse_errors(data):
    try:
        frames = parse_frames(data)
    except ParseError:
        return
    assert encode_frames(frames) == data


@given(frames_st, st.integers(0, 10_000), st.integers(0, 255))
def test_mutated_frames_raise_only_parse_errors(frames, where, byte):
    data = bytearray(encode_frames(frames))
    data[where % len(data)] = byte
    try:
        parse_frames(bytes(data))
    except ParseError:
        pass
