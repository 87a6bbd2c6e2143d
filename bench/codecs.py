"""Codec throughput on the real 143-block OP Mainnet channel, and decompression bombs.

End-to-end = decompress, decode the span batch, rebuild every block's signed transactions and hash them.
Floor = decompress and keccak the same transaction bytes (what any implementation must at least do).
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.timing import best_of, header
from derivation.protocol.batch_reader import BatchReader
from derivation.protocol.compression import Decompressor
from derivation.protocol.crypto import keccak256
from derivation.protocol.rollup_config import MAX_RLP_BYTES_PER_CHANNEL_FJORD

ROOT = Path(__file__).resolve().parent.parent
CHANNEL = bytes.fromhex((ROOT / "spec-vectors/blobs/op_mainnet_channel_zlib_span143.hex").read_text().strip())
CHAIN_ID, GENESIS_TIME, BLOCK_TIME = 10, 1686068903, 2


def end_to_end() -> list[bytes]:
    (raw,) = list(BatchReader(CHANNEL, MAX_RLP_BYTES_PER_CHANNEL_FJORD, True))
    span = raw.derive(BLOCK_TIME, GENESIS_TIME, CHAIN_ID)
    txs = [t for b in span.elements for t in b.transactions]
    for t in txs:
        keccak256(t)
    return txs


def floor(txs: list[bytes]):
    def run():
        d = Decompressor(CHANNEL, False)
        while d.read(1 << 20):
            pass
        for t in txs:
            keccak256(t)
    return run


_BOMB_CHILD = r"""
import resource, sys, time
from derivation.protocol.batch_reader import BatchReader
data = open(sys.argv[1], "rb").read()
t = time.perf_counter()
reader = BatchReader(data, 100_000_000, True)
n = sum(1 for _ in reader)
dt = time.perf_counter() - t
print(f"{n} {dt:.4f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} {reader.error!r}")
"""

_BASELINE_CHILD = r"""
import resource
import derivation.protocol.batch_reader
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def _bomb(kind: str, item: bytes, total: int) -> bytes:
    import brotli
    from zlib_ng import zlib_ng
    chunk = item * max(1, (1 << 20) // len(item))
    if kind == "zlib":
        c, out = zlib_ng.compressobj(1), []
        for _ in range(total // len(chunk)):
            out.append(c.compress(chunk))
        return b"".join(out) + c.flush()
    c, out = brotli.Compressor(quality=1), [b"\x01"]
    for _ in range(total // len(chunk)):
        out.append(c.process(chunk))
    return b"".join(out) + c.finish()


def bombs() -> None:
    from derivation.protocol import rlp
    from derivation.protocol.batches import SingularBatch
    valid = rlp.encode_bytes(SingularBatch(bytes(32), 1, bytes(32), 2, (bytes(3950),)).encode())
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    base = int(subprocess.run([sys.executable, "-c", _BASELINE_CHILD], env=env, capture_output=True, text=True,
                              check=True).stdout)
    print(f"  interpreter + opnode imports: {base} MiB RSS (baseline)")
    for what, item in (("1 GiB of zeros", bytes(1 << 12)), ("1 GiB of valid batches", valid)):
        for kind in ("zlib", "brotli"):
            data = _bomb(kind, item, 1 << 30)
            with tempfile.NamedTemporaryFile(suffix=".bomb") as f:
                f.write(data)
                f.flush()
                out = subprocess.run([sys.executable, "-c", _BOMB_CHILD, f.name], env=env, capture_output=True,
                                     text=True, check=True).stdout.split(" ", 3)
            n, dt, rss, why = int(out[0]), float(out[1]), int(out[2]), out[3].strip()
            print(f"  {what:24s} {kind:6s} ({len(data) / 1e6:5.2f} MB compressed): refused after {n:6d} batches "
                  f"in {dt:6.3f} s, peak RSS {rss} MiB (+{rss - base} MiB) — {why[:70]}")


def run() -> None:
    header("codecs: 143-block OP Mainnet channel (1766 txs)")
    txs = end_to_end()
    t_e2e = best_of(end_to_end, repeat=7)
    t_floor = best_of(floor(txs), repeat=7)
    n_blocks, n_txs = 143, len(txs)
    print(f"  end-to-end (decompress + span batch + signed txs + hashes): {t_e2e * 1e3:7.2f} ms  "
          f"= {n_blocks / t_e2e:8.0f} blocks/s, {n_txs / t_e2e:8.0f} txs/s")
    print(f"  floor (decompress + keccak of the same tx bytes):          {t_floor * 1e3:7.2f} ms  "
          f"= {n_txs / t_floor:8.0f} txs/s")
    print(f"  ratio end-to-end / floor: {t_e2e / t_floor:.2f}x")
    header("codecs: decompression bombs (post-Fjord bound: 100,000,000 RLP bytes)")
    bombs()
