"""A host for making witnesses: the preimages a fault-proof run would ask a live host for (kona-host's online mode),
served from a replay recording (L1 headers, transactions, receipts, blobs and L2 blocks, each already checked when
the recording was made or read) and from an engine's state database (trie nodes and code by hash, headers).

Running the witness run over this host and keeping what it read (:attr:`Oracle.touched`) gives a witness that
holds exactly the preimages a client reads; :func:`export_from_recording` writes it in kona's file-per-key layout.
Blob field elements are keyed by roots of unity, as current kona and op-program read them; the L1 transaction and
receipt tries are stored node by node as kona-host does (``store_ordered_trie``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from derivation.protocol.hexutil import to_hex
from derivation.protocol.kzg import blob_to_commitment
from derivation.protocol.trie import ordered_trie_nodes, ordered_trie_root
from engine.execution.evm.header import Header
from engine.execution.stateless import StatelessExecutor, spec_for
from opnode.tools.replay.store import Store
from opnode.tools.witness.export import ExportError, write_witness
from opnode.tools.witness.keys import FIELD_ELEMENTS_PER_BLOB, KeyType, blob_element_key, keccak_key, typed
from opnode.tools.witness.oracle import Oracle, PreimageError
from opnode.tools.witness.run import Inputs, Result, WitnessRun
from opnode.tools.witness.stores import PreimageStore


class HostStore(PreimageStore):
    """Prepared preimages by typed key; other keccak preimages by full hash from ``by_hash`` (the engine)."""

    def __init__(self, prepared: dict[bytes, bytes], by_hash: Callable[[bytes], bytes | None],
                 description: str = "host"):
        self.prepared = prepared
        self.by_hash = by_hash
        self.description = description

    def get(self, key: bytes) -> bytes | None:
        return self.prepared.get(key)

    def get_keccak(self, h: bytes) -> bytes | None:
        v = self.prepared.get(keccak_key(h))
        return v if v is not None else self.by_hash(h)

    def keys(self) -> Iterator[bytes]:
        return iter(list(self.prepared))


def _put_trie(out: dict[bytes, bytes], items: list[bytes]) -> bytes:
    for h, node in ordered_trie_nodes(items).items():
        out[keccak_key(h)] = node
    return ordered_trie_root(items)


def preimages_from_recording(rec: Store) -> dict[bytes, bytes]:
    out: dict[bytes, bytes] = {}
    for h, header in rec.l1_headers.items():
        out[keccak_key(h)] = header.raw
        txs = rec.l1_txs.get(h)
        if txs is not None and _put_trie(out, [t.raw for t in txs]) != header.transactions_root:
            raise ExportError(f"L1 block {header.info.number}: the recorded transactions do not make its "
                              "transactions root (an anvil recording with blob transactions?); cannot export it")
        receipts = rec.l1_receipts.get(h)
        if receipts is not None:
            _put_trie(out, list(receipts))
        for _index, (vhash, blob) in rec.blobs.get(h, {}).items():
            commitment = blob_to_commitment(blob)
            out[typed(KeyType.SHA256, vhash)] = commitment
            for i in range(FIELD_ELEMENTS_PER_BLOB):
                out[blob_element_key(commitment, i, True)] = blob[32 * i:32 * i + 32]
    for h, entry in rec.l2.items():
        if entry.block.header is not None:
            out[keccak_key(h)] = entry.block.header
        _put_trie(out, list(entry.block.transactions))
    return out


class EngineDB:
    """An engine ``--datadir`` (``engine.sqlite``, :mod:`engine.execution.store`) opened read-only: state nodes and code by
    hash, and block headers by hash."""

    def __init__(self, datadir: str | Path):
        path = Path(datadir) / "engine.sqlite"
        if not path.is_file():
            raise ExportError(f"{datadir} is not an engine data directory (no engine.sqlite)")
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def __call__(self, h: bytes) -> bytes | None:
        row = self.conn.execute("SELECT v FROM kv WHERE k = ?", (h,)).fetchone()
        if row is None:
            row = self.conn.execute("SELECT header FROM blocks WHERE hash = ?", (h,)).fetchone()
        return None if row is None else bytes(row[0])

    def close(self) -> None:
        self.conn.close()


def export_from_recording(rec: Store, by_hash: Callable[[bytes], bytes | None], directory: str | Path, *,
                          agreed_number: int, claimed_number: int, l1_head: bytes | None = None) -> Result:
    """Run the fault proof from L2 block ``agreed_number`` to ``claimed_number`` over the recording and the engine,
    check the result against the recorded blocks, and write the witness it read to ``directory``."""
    cfg = rec.cfg
    entry = rec.l2_entry_by_number(agreed_number)
    if entry is None:
        raise ExportError(f"the recording holds no L2 block {agreed_number} to agree on")
    raw = by_hash(entry.block.hash)
    if raw is None:
        raise ExportError(f"the engine does not know L2 block {agreed_number} ({to_hex(entry.block.hash)})")
    agreed_header = Header.decode(raw)
    prepared = preimages_from_recording(rec)
    host = HostStore(prepared, by_hash, "recording and engine")
    ex = StatelessExecutor(spec_for(cfg), by_hash, lambda h: by_hash(h) is not None, lambda h: Header.decode(by_hash(h)))
    output = ex.output(agreed_header)
    agreed = output.root()
    prepared[keccak_key(agreed)] = output.marshal()
    head = l1_head or rec.l1_canonical.get(rec.meta.to_l1)
    if head is None:
        raise ExportError(f"the recording holds no L1 block {rec.meta.to_l1} to use as the L1 head")
    inputs = Inputs(head, agreed, bytes(32), claimed_number, cfg, rec.meta.l1_chain)
    oracle = Oracle(host)
    try:
        result = WitnessRun(inputs, oracle).run()
    except PreimageError as e:
        raise ExportError(f"the recording and engine lack data the run needs: {e}") from None
    if result.failed or result.safe_head != claimed_number:
        raise ExportError(f"the run did not reach L2 block {claimed_number}: {result.message}")
    for b in result.executed:
        recorded = rec.l2_entry_by_number(b.number)
        if recorded is not None and recorded.block.hash != b.header.hash:
            raise ExportError(f"L2 block {b.number} derived and executed is {to_hex(b.header.hash)}, the recording "
                              f"says {to_hex(recorded.block.hash)}")
    inputs = replace(inputs, claimed_output_root=result.computed_output_root)
    write_witness(directory, oracle.touched, inputs)
    return replace(result, inputs=inputs, claim_holds=True,
                   message=f"L2 block {claimed_number} has output root {to_hex(result.computed_output_root)}: "
                           f"{len(oracle.touched)} preimages written to {directory}")

