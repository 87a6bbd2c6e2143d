"""Targets for the fault-proof witness the replay reads (opnode/tools/witness/): the preimage stores as archives
(``stores.py``: kona's file-per-key and op-program's layouts in a plain, gzip or zstd tar, and an executor fixture's
``fixture.json``), and the preimages a run decodes through the oracle (``oracle.py``, ``l1.py``, ``l2.py``,
``mpt.py``: L1 and L2 headers, transaction and receipt tries, their transactions, receipts and L1-info deposits).

Seeds are real: preimages of the Granite OP Sepolia witness (kona-host's store in spec-vectors/witness/, read once
per process) and the ``fixture.json`` of kona's executor fixtures, packed by the target's own encoders (tarfile).
RocksDB stores are not fuzzed here: their bytes are read by the rocksdb C++ library, not by the project's code.
"""

from __future__ import annotations

import functools
import gzip
import io
import tarfile
from pathlib import Path

from derivation.protocol.crypto import keccak256
from derivation.protocol.errors import ParseError
from derivation.protocol.types import L1BlockRef
from fuzz.targets import Cursor, put_chunk, target
from fuzz.vectors import VECTORS
from opnode.node.networks import load_rollup_config
from opnode.tools.witness.fixture import fixture_from_json
from opnode.tools.witness.keys import KeyType, keccak_key
from opnode.tools.witness.l1 import OracleL1
from opnode.tools.witness.l2 import OracleL2
from opnode.tools.witness.oracle import Oracle, PreimageError
from opnode.tools.witness.stores import MemoryStore, open_archive, read_archive

WITNESS = VECTORS / "witness"
ARCHIVE = WITNESS / "granite-op-sepolia-16491249-witness.tar.zst"
FIXTURES = sorted((WITNESS / "kona-executor").glob("block-*.tar.gz"))
L1_BLOCK = bytes.fromhex("33a3e5721faa4dc6f25e75000d9810fd6c41320868f3befcc0c261a71da398e1")  # Sepolia #6582975
L2_HEAD = bytes.fromhex("09b298a83baf4c2e3c6a2e355bb09e27e3fdca435080e8754f8749233d7333b2")  # OP Sepolia 16491248
OP_SEPOLIA = load_rollup_config("op-sepolia")
_NAMES = ("w.tar", "w.tar.gz", "w.tar.zst")


@functools.cache
def _granite() -> dict[bytes, bytes]:
    """Every preimage of the real witness by typed key (3 s: once per process, for seeds only)."""
    return open_archive(ARCHIVE)[0].items


def _tar(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _compressed(kind: int, tar: bytes) -> bytes:
    if kind == 1:
        return gzip.compress(tar, mtime=0)
    if kind == 2:
        import zstandard

        return zstandard.ZstdCompressor().compress(tar)
    return tar


def _archive_seeds():
    items = _granite()
    l1 = items[keccak_key(L1_BLOCK)]
    picks = {keccak_key(L1_BLOCK): l1, keccak_key(L2_HEAD): items[keccak_key(L2_HEAD)]}
    sha = next(k for k in items if k[0] == KeyType.SHA256)
    picks[sha] = items[sha]
    kona = {f"data/{k.hex()}.bin": v for k, v in picks.items()}
    op_file = {"kvformat": b"file", **{f"0x{k.hex()}.txt": v.hex().encode() for k, v in picks.items()}}
    op_dir = {"kvformat": b"directory", **{f"{k.hex()[:4]}/{k.hex()[4:]}.txt": v.hex().encode()
                                          for k, v in picks.items()}}
    for kind in range(3):
        yield bytes((kind,)) + _compressed(kind, _tar(kona))
    yield b"\x00" + _tar(op_file)
    yield b"\x00" + _tar(op_dir)
    for p in FIXTURES:
        with tarfile.open(p) as tf:
            m = next(m for m in tf.getmembers() if m.name.endswith("/fixture.json") and "/._" not in m.name)
            fixture = tf.extractfile(m).read()
        yield b"\x00" + _tar({m.name: fixture, **dict(list(kona.items())[:1])})


@target("witness_archive", allowed=(ParseError, PreimageError), seeds=_archive_seeds, max_len=16384,
        tokens=(b"data/", b".bin", b".txt", b"0x", b"kvformat", b"fixture.json", b"ustar\x0000", b"\x1f\x8b",
                b"\x28\xb5\x2f\xfd"))
def witness_archive_target(data: bytes) -> None:
    """opnode/tools/witness/stores.py and fixture.py: a store archive (first byte: plain, gzip or zstd tar) read from
    memory; every preimage checked by the oracle against its key, a ``fixture.json`` parsed."""
    c = Cursor(data)
    name = _NAMES[c.byte() % 3]
    store, others = read_archive(io.BytesIO(c.rest()), Path(name))
    if "fixture.json" in others:
        fixture_from_json(others["fixture.json"])
    oracle = Oracle(store)
    for key in store.keys():
        value = store.get(key)
        if key[0] == KeyType.KECCAK256:
            h = keccak256(value)
            oracle.keccak(h if keccak_key(h) == key else key, "a fuzzed preimage")
        elif key[0] == KeyType.SHA256:
            oracle.sha256(key, "a fuzzed preimage")


# ------------------------------------------------------------------------------------------------ preimages


def _closure(root: bytes, items: dict[bytes, bytes], limit: int = 512) -> list[bytes]:
    """The trie nodes under ``root`` (by hash references), in the order a walk reads them."""
    from derivation.protocol import rlp

    out, todo = [], [root]
    while todo and len(out) < limit:
        v = items.get(keccak_key(todo.pop(0)))
        if v is None:
            continue
        out.append(v)
        stack = [rlp.decode(v)]
        while stack:
            x = stack.pop()
            if isinstance(x, list):
                stack.extend(x)
            elif len(x) == 32 and keccak_key(x) in items and items[keccak_key(x)][:1] >= b"\xc0":
                todo.append(x)
    return out


def _preimage_seeds():
    """The L1 head and the agreed L2 head alone; the smallest L1 block below the head whose transaction and receipt
    tries the witness holds, with those tries; the L2 head with its transaction trie."""
    from engine.execution.evm.header import Header
    from opnode.tools.replay.store import decode_l1_header

    items = _granite()
    yield b"\x00" + put_chunk(items[keccak_key(L1_BLOCK)])
    yield b"\x01" + put_chunk(items[keccak_key(L2_HEAD)])
    blocks, h = [], L1_BLOCK
    while keccak_key(h) in items:
        head = decode_l1_header(items[keccak_key(h)])
        nodes = _closure(head.transactions_root, items) + _closure(head.info.receipts_root, items)
        if nodes and max(map(len, nodes)) < 1 << 16:
            seed = b"\x00" + put_chunk(items[keccak_key(h)]) + b"".join(put_chunk(n) for n in nodes)
            blocks.append((len(seed), head.info.number, seed))
        h = head.info.parent_hash
    for _, _, seed in sorted(blocks):
        try:
            witness_preimages_target(seed)
        except PreimageError:
            continue  # a trie the witness holds only in part
        yield seed
        break
    l2 = Header.decode(items[keccak_key(L2_HEAD)])
    yield b"\x01" + put_chunk(items[keccak_key(L2_HEAD)]) + b"".join(
        put_chunk(n) for n in _closure(l2.transactions_root, items))


@target("witness_preimages", allowed=(ParseError, PreimageError), seeds=_preimage_seeds, max_len=16384)
def witness_preimages_target(data: bytes) -> None:
    """opnode/tools/witness/l1.py, l2.py, mpt.py: preimages (two-byte length each) in an honest store (keyed by
    their keccak, as the oracle checks); the first is a header: mode 0 reads it as the L1 head and its
    transactions and receipts from their tries, mode 1 as the agreed OP Sepolia L2 head (its ref and L1-info)."""
    c = Cursor(data)
    mode = c.byte() % 2
    chunks = []
    while c.pos < len(c.data):
        chunks.append(c.chunk())
    if not chunks:
        return
    store = MemoryStore({keccak_key(keccak256(v)): v for v in chunks})
    oracle = Oracle(store)
    if mode == 0:
        l1 = OracleL1(oracle, keccak256(chunks[0]))
        info = l1.head.info
        ref = L1BlockRef(info.hash, info.number, info.parent_hash, info.time)
        l1.transactions(ref)
        l1.receipts(ref)
        if info.number > 0 and oracle.has_keccak(info.parent_hash):
            l1.block_by_number(info.number - 1)
    else:
        l2 = OracleL2(OP_SEPOLIA, oracle, keccak256(chunks[0]))
        if l2.safe.number != OP_SEPOLIA.genesis.l2.number:
            l2.system_config(l2.safe.hash)
