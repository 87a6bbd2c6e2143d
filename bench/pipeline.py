"""Derivation throughput: L2 blocks/s through the whole pipeline over a long in-memory L1 range of mainnet-like
span batches (brotli channels of 100 blocks, 12 signed transactions per block), next to the codec floor on the same
channels (decompress + keccak of the transactions) measured in the same run."""

import time

from bench.timing import header
from derivation.protocol.batch_reader import BatchReader
from derivation.protocol.compression import Decompressor
from derivation.protocol.crypto import keccak256
from derivation.protocol.frames import parse_frames
from derivation.protocol.rollup_config import MAX_RLP_BYTES_PER_CHANNEL_FJORD
from opnode.testing.harness import World
from opnode.testing.harness.world import Verifier
from opnode.testing.txgen import KEYS, make_tx

BLOCKS, TXS_PER_BLOCK, CHANNEL_BLOCKS = 600, 12, 102
ROUNDS = int(__import__("os").environ.get("PIPE_ROUNDS", 5))


def _world() -> World:
    w = World({"holocene": 0}, seq_window_size=3600)
    nonces = [0] * len(KEYS)
    sent = 0
    while len(w.blocks) < BLOCKS:
        w.l1.mine()
        for _ in range(6):
            txs = []
            for j in range(TXS_PER_BLOCK):
                k = (len(w.blocks) + j) % len(KEYS)
                txs.append(make_tx(2, w.cfg.l2_chain_id, KEYS[k], nonces[k], data=bytes(range(68))))
                nonces[k] += 1
            w.sequence(1, txs=txs)
        if len(w.blocks) - sent >= CHANNEL_BLOCKS:
            w.post(w.blocks[sent:], span=True, compression="brotli")
            sent = len(w.blocks)
    if sent < len(w.blocks):
        w.post(w.blocks[sent:], span=True, compression="brotli")
    w.l1.mine()
    return w


def _channels(w: World) -> list[bytes]:
    out = []
    for b in w.l1.canonical:
        frames = [f for t in b.txs for f in parse_frames(t.data)]
        if frames:
            out.append(b"".join(f.data for f in sorted(frames, key=lambda f: f.number)))
    return out


def run() -> None:
    header(f"pipeline: {BLOCKS} L2 blocks x {TXS_PER_BLOCK} txs in span batches (brotli, calldata), best of {ROUNDS} rounds, CPU time")
    t = time.perf_counter()
    w = _world()
    print(f"  (building the chain took {time.perf_counter() - t:.1f} s)")
    channels = _channels(w)
    txs = [tx for b in w.blocks for tx in b.batch.transactions]

    def pipeline() -> None:
        r = Verifier(w).run()
        assert len(r.derived) == BLOCKS and r.failure is None

    def floor() -> None:
        for c in channels:
            d = Decompressor(c, True)
            while d.read(1 << 20):
                pass
        for tx in txs:
            keccak256(tx)

    def codecs() -> None:
        for c in channels:
            for raw in BatchReader(c, MAX_RLP_BYTES_PER_CHANNEL_FJORD, True):
                for tx in (t for e in raw.derive(2, w.cfg.genesis.l2_time, w.cfg.l2_chain_id).elements
                           for t in e.transactions):
                    keccak256(tx)

    # CPU time of this process, not wall time: other processes on a shared machine then cost a measurement little
    # (cache and frequency effects remain); rounds interleave the three and each keeps its best round.
    best = {f: float("inf") for f in (pipeline, floor, codecs)}
    for _ in range(ROUNDS):
        for f in best:
            t = time.process_time()
            f()
            best[f] = min(best[f], time.process_time() - t)
    t_pipe, t_floor, t_codec = best[pipeline], best[floor], best[codecs]
    print(f"  whole pipeline (L1 → payload attributes, stand-in engine): {BLOCKS / t_pipe:8.0f} blocks/s "
          f"{len(txs) / t_pipe:9.0f} txs/s")
    print(f"  codecs alone (decompress + span batch + signed txs + hashes): {BLOCKS / t_codec:6.0f} blocks/s "
          f"{len(txs) / t_codec:9.0f} txs/s")
    print(f"  floor (decompress + keccak of the txs):                  {BLOCKS / t_floor:8.0f} blocks/s "
          f"{len(txs) / t_floor:9.0f} txs/s")
    print(f"  ratios: pipeline / codecs {t_pipe / t_codec:.2f}x, pipeline / floor {t_pipe / t_floor:.2f}x")
