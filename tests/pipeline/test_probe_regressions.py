"""Regressions for inputs found by probing the node as an attacker would (issue 18, "Found by probing").

Each test is built from the probe's input: a batcher channel that halted every deriving node (a batch whose RLP nests
deeper than Python's recursion limit) must now be dropped with a reason while derivation carries on with the next
channel.
"""

import sys

from derivation.protocol import rlp
from derivation.protocol.compression import ZLIB, compress
from derivation.protocol.frames import Frame
from opnode.testing.harness import World


def _nested_rlp(levels: int) -> bytes:
    """``levels`` lists, each holding the next: the probe's batch body (built without recursion)."""
    out = b"\xc0"
    for _ in range(levels - 1):
        out = rlp.encode_list_payload(out)
    return out


def test_rlp_decode_of_deep_nesting_is_a_parse_error_not_a_recursion_error():
    for levels in (1_001, 100_001):  # Python's default recursion limit, and the one py-evm sets at import
        data = _nested_rlp(levels)
        try:
            rlp.decode(data)
        except rlp.RLPError as e:
            assert "nested deeper" in str(e)
        else:
            raise AssertionError("100,001 nested lists decoded")


def test_rlp_decode_keeps_ordinary_nesting():
    item = [b"a", [b"b", [b"c", [[], b""]]], [[[[b"d"]]]]]
    assert rlp.decode(rlp.encode(item)) == item
    deep = b""
    for _ in range(rlp.MAX_DEPTH - 1):
        deep = rlp.encode_list_payload(deep)
    rlp.decode(deep)  # exactly at the limit: fine


def test_channel_with_a_deeply_nested_batch_is_dropped_and_derivation_continues():
    """The probe: a zlib channel whose only batch is a singular batch (type 0) holding 100,001 nested lists, posted
    in calldata. Before the fix ``RecursionError`` left the pipeline and the node exited, and re-derived the same
    channel after every restart. Now the channel's batch is dropped as undecodable and the next channel's batches
    are derived into the safe chain."""
    assert sys.getrecursionlimit() < 200_000  # py-evm may raise it to 100,000: the attack fits under both limits
    w = World({"granite": 0})
    w.l1.mine()
    blocks = w.sequence(4)
    body = b"\x00" + _nested_rlp(100_001)
    channel = compress(rlp.encode_bytes(body), ZLIB)
    assert len(channel) < 300_000  # the probe's channel was 207 KB: cheap to post
    frames = [Frame(b"\x42" * 16, i, channel[i * 100_000:(i + 1) * 100_000], (i + 1) * 100_000 >= len(channel))
              for i in range((len(channel) + 99_999) // 100_000)]
    w.post_frames(frames, frames_per_tx=1)
    w.post(blocks)
    w.l1.mine(n=2)
    r = w.derive()
    assert r.failure is None, r.failure
    undecodable = [d for d in r.drops() if d.reason.value == "batch_undecodable"]
    assert len(undecodable) == 1 and "nested deeper" in undecodable[0].message, r.drop_reasons()
    w.assert_safe_chain_matches(upto=4)


def test_a_decoder_bug_costs_the_input_not_the_node(monkeypatch):
    """Any exception a decoder raises (not only ParseError) ends that channel with a drop naming the exception; the
    pipeline does not raise. Simulated by a decoder that fails with an unexpected error type."""
    import derivation.protocol.batch_reader as br

    w = World({"granite": 0})
    w.l1.mine()
    blocks = w.sequence(2)
    w.post(blocks)
    w.l1.mine(n=2)
    real = br.decode_batch
    calls = []

    def flaky(data):
        calls.append(1)
        if len(calls) == 1:
            raise ZeroDivisionError("a bug")
        return real(data)

    monkeypatch.setattr(br, "decode_batch", flaky)
    r = w.derive()
    assert r.failure is None
    msgs = [d.message for d in r.drops() if d.reason.value == "batch_undecodable"]
    assert any("unexpected ZeroDivisionError" in m for m in msgs), msgs
