import pytest
from hypothesis import given
from hypothesis import strategies as st

from derivation.protocol.channel import Channel, FrameRejected
from derivation.protocol.frames import Frame
from derivation.protocol.types import L1BlockRef
from tests.vectors import load

CASES = load("frames_channels.json")["channel_add_frame_vectors"]["cases"]
L1 = L1BlockRef(b"\x11" * 32, 100, b"\x10" * 32, 1_000)
CID = bytes.fromhex("ff" + "00" * 15)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_add_frame_vectors(case):
    ch = Channel(CID, L1, require_in_order=case.get("holocene", False))
    for f, should_err, size in zip(case["frames"], case["should_err"], case["sizes"], strict=True):
        frame = Frame(bytes.fromhex(f["id"][2:]), f["frame_number"], f["data_utf8"].encode(), f["is_last"])
        if should_err:
            with pytest.raises(FrameRejected):
                ch.add_frame(frame, L1)
        else:
            ch.add_frame(frame, L1)
        assert ch.size == size


def test_ready_and_data_in_frame_order():
    ch = Channel(CID, L1)
    ch.add_frame(Frame(CID, 2, b"c", True), L1)
    ch.add_frame(Frame(CID, 0, b"a", False), L1)
    assert not ch.is_ready()
    with pytest.raises(ValueError):
        ch.data()
    later = L1BlockRef(b"\x12" * 32, 101, L1.hash, 1_012)
    ch.add_frame(Frame(CID, 1, b"b", False), later)
    assert ch.is_ready() and ch.data() == b"abc"
    assert ch.highest_l1_inclusion_block == later


def test_timeout():
    ch = Channel(CID, L1)
    assert not ch.is_timed_out(L1.number + 300, 300)
    assert ch.is_timed_out(L1.number + 301, 300)


@given(st.permutations(list(range(6))))
def test_any_arrival_order_gives_the_same_channel(order):
    ch = Channel(CID, L1)
    for n in order:
        ch.add_frame(Frame(CID, n, bytes([n]) * (n + 1), n == 5), L1)
    assert ch.is_ready()
    assert ch.data() == b"".join(bytes([n]) * (n + 1) for n in range(6))
