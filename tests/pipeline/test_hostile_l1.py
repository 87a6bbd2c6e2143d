"""Whatever the batcher posts, derivation only ever answers with its defined results: random bytes, random frames,
random channels and random batches never raise out of the pipeline and never stop it."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derivation.protocol import rlp
from derivation.protocol.batches import SingularBatch
from derivation.protocol.compression import BROTLI, ZLIB, compress
from derivation.protocol.frames import Frame, encode_frames
from opnode.testing.harness import World

CIDS = [bytes([i]) * 16 for i in range(3)]


def _payload(kind: int, seed: int) -> bytes:
    rng = random.Random(seed)
    if kind == 0:
        return rng.randbytes(rng.randint(0, 300))
    if kind == 1:
        return b"\x00" + rng.randbytes(rng.randint(0, 300))
    frames = []
    for _ in range(rng.randint(1, 4)):
        if kind == 2:
            data = rng.randbytes(rng.randint(0, 100))
        else:  # a plausible channel: compressed RLP of random or half-valid batches
            items = []
            for _ in range(rng.randint(1, 4)):
                if rng.random() < 0.5:
                    items.append(rlp.encode_bytes(SingularBatch(rng.randbytes(32), rng.randint(0, 5), rng.randbytes(32),
                                                                rng.randint(0, 2**40), (rng.randbytes(5),)).encode()))
                else:
                    items.append(rlp.encode_bytes(bytes([rng.randint(0, 3)]) + rng.randbytes(rng.randint(0, 60))))
            data = compress(b"".join(items), rng.choice([ZLIB, BROTLI]))
            data = data[: rng.randint(1, len(data))] if rng.random() < 0.3 else data
        frames.append(Frame(rng.choice(CIDS), rng.randint(0, 3), data, rng.random() < 0.5))
    return encode_frames(frames)


blocks_st = st.lists(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**32)), max_size=4), min_size=1,
                     max_size=8)


@given(blocks_st, st.sampled_from([{"granite": 0}, {"holocene": 0}]))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_batcher_data(blocks, forks):
    w = World(forks, seq_window_size=4)
    for payloads in blocks:
        w.post_payloads([_payload(k, s) for k, s in payloads])
    w.l1.mine(n=6)
    r = w.derive()  # raises on anything unexpected
    assert r.failure is None
    # With no valid batches, the expired windows give a contiguous chain of deposit-only blocks.
    ts = [a.attributes.timestamp for a in r.derived]
    assert ts == list(range(w.cfg.genesis.l2_time + 2, w.cfg.genesis.l2_time + 2 + 2 * len(ts), 2))
    assert all(a.attributes.is_deposits_only for a in r.derived)
