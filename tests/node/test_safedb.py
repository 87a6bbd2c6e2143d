"""The safe-head DB: op-node's own cases, reorg truncation, and consistency after SIGKILL mid-write."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derivation.protocol.hexutil import from_hex
from derivation.protocol.types import BlockID, L2BlockRef
from opnode.node.safedb import SafeDB, SafeDBError, SafeHeadNotFound
from tests.vectors import load

ROOT = Path(__file__).resolve().parents[2]


def _bid(d) -> BlockID:
    return BlockID(from_hex(d["hash"], 32), d["number"])


def _ref(d) -> L2BlockRef:
    return L2BlockRef(from_hex(d["hash"], 32), d["number"], bytes(32), 0, _bid(d["l1origin"]), 0)


@pytest.mark.parametrize("case", load("safedb_op_node.json")["cases"], ids=lambda c: c["name"])
def test_op_node_cases(tmp_path, case):
    path = tmp_path / "safedb"
    db = SafeDB(path)
    for op in case["ops"]:
        if "record" in op:
            db.record(_bid(op["record"]["l1"]), _bid(op["record"]["l2"]))
        else:
            db.truncate_after(_ref(op["reset"]))
    if case.get("reopen"):
        db.close()
        db = SafeDB(path)
    for lookup in case["lookups"]:
        if lookup["expect"] == "not found":
            with pytest.raises(SafeHeadNotFound, match="^not found$"):
                db.safe_head_at(lookup["l1_number"])
        else:
            assert db.safe_head_at(lookup["l1_number"]).to_json() == lookup["expect"]
    db.close()


def h(i: int) -> bytes:
    return i.to_bytes(32, "big")


def test_directory_path_is_accepted_like_op_nodes_pebble_dir(tmp_path):
    db = SafeDB(tmp_path)
    db.record(BlockID(h(1), 5), BlockID(h(2), 9))
    db.close()
    assert (tmp_path / "safedb.sqlite").exists()
    assert SafeDB(tmp_path).safe_head_at(7).safe_head == BlockID(h(2), 9)


def test_same_l1_block_replaces_and_later_rows_are_dropped(tmp_path):
    db = SafeDB(tmp_path / "db")
    db.record(BlockID(h(1), 10), BlockID(h(11), 100))
    db.record(BlockID(h(1), 10), BlockID(h(12), 101))  # a second safe advance from the same L1 block
    db.record(BlockID(h(2), 12), BlockID(h(13), 105))
    db.record(BlockID(h(3), 14), BlockID(h(14), 110))
    assert [e.l1.number for e in db.entries()] == [10, 12, 14]
    assert db.safe_head_at(10).safe_head.number == 101
    db.record(BlockID(h(4), 12), BlockID(h(15), 104))  # re-derived from a new L1 block 12: 14 is stale
    assert [(e.l1.number, e.safe_head.number) for e in db.entries()] == [(10, 101), (12, 104)]
    assert db.latest().l1 == BlockID(h(4), 12)


def test_truncate_from_an_l1_reorg(tmp_path):
    db = SafeDB(tmp_path / "db")
    for i in range(10):
        db.record(BlockID(h(i), 100 + i), BlockID(h(50 + i), 1000 + 10 * i))
    db.truncate_from(105)
    assert [e.l1.number for e in db.entries()] == [100, 101, 102, 103, 104]
    assert db.safe_head_at(200).l1.number == 104
    db.truncate_from(0)
    assert db.entries() == []
    with pytest.raises(SafeHeadNotFound):
        db.safe_head_at(10**6)


def test_uint64_extremes_keep_their_order(tmp_path):
    db = SafeDB(tmp_path / "db")
    big = (1 << 64) - 1
    for n in (0, 1, (1 << 32) - 1, 1 << 32, (1 << 63) - 1, 1 << 63, big - 1, big):
        db.record(BlockID(h(n % 1000), n), BlockID(h(7), n))
    assert [e.l1.number for e in db.entries()] == [0, 1, (1 << 32) - 1, 1 << 32, (1 << 63) - 1, 1 << 63, big - 1, big]
    assert db.safe_head_at(1 << 63).l1.number == 1 << 63
    assert db.safe_head_at(big).safe_head.number == big
    with pytest.raises(ValueError):
        db.record(BlockID(h(0), 1 << 64), BlockID(h(0), 0))


def test_closed_and_unusable_databases_are_errors(tmp_path):
    db = SafeDB(tmp_path / "db")
    db.close()
    with pytest.raises(SafeDBError, match="closed"):
        db.safe_head_at(1)
    bad = tmp_path / "garbage"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SafeDBError, match="cannot open"):
        SafeDB(bad)


WRITER = """
import sys
from derivation.protocol.types import BlockID
from opnode.node.safedb import SafeDB
db = SafeDB(sys.argv[1])
start = len(db.entries())
for i in range(start, start + 1_000_000):
    db.record(BlockID(i.to_bytes(32, "big"), 1000 + i), BlockID((i * 7).to_bytes(32, "big"), 10 * i))
    print(i, flush=True)
"""


def test_consistent_after_sigkill_mid_write(tmp_path):
    """A writer killed with SIGKILL while recording: every acknowledged row survives, no row is torn, no gap or
    duplicate appears, and a second writer continues where the first stopped."""
    path = tmp_path / "safedb.sqlite"
    for round_ in range(2):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                                text=True)
        acked = []
        deadline = time.monotonic() + 60
        try:
            while len(acked) < 150 and time.monotonic() < deadline:
                line = proc.stdout.readline()
                assert line, "writer died"
                acked.append(int(line))
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL
        assert len(acked) >= 150
        con = sqlite3.connect(path)
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        con.close()
        db = SafeDB(path)
        entries = db.entries()
        db.close()
        numbers = [e.l1.number - 1000 for e in entries]
        assert numbers == list(range(len(numbers))), f"gap or duplicate after kill (round {round_})"
        assert numbers[-1] >= acked[-1]  # every acknowledged write is there (at most one unacknowledged beyond)
        assert numbers[-1] <= acked[-1] + 1
        for e, i in zip(entries, numbers, strict=True):
            assert e.l1.hash == i.to_bytes(32, "big")
            assert e.safe_head == BlockID((i * 7).to_bytes(32, "big"), 10 * i)
