"""The supernode's interop state in one sqlite file (``<data-dir>/interop.sqlite``): verified results by timestamp,
the logs of verified blocks (the initiating-log view of the existence check), the denylist of invalidated blocks
and a one-row write-ahead log of the decision being applied.

op-supernode keeps these in three stores (bbolt ``VerifiedAtTimestamp.db`` with a single-slot WAL, #19505; per-chain
``logs.db``; per-chain bbolt ``denylist.db``), so a crash between them needs each apply step to be idempotent. Here
an Advance (verified row, sealed logs, WAL cleared) is one sqlite transaction; an Invalidate's denylist rows are
idempotent inserts and the engine rewind is re-checked on resume. Durable: ``synchronous=FULL`` in WAL mode.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass

from derivation.interop.validity import InitiatingBlock
from derivation.protocol.types import BlockID
from opnode.node.sqlite import open_db, transaction
from opnode.supernode.decisions import Decision, Kind

_SCHEMA = """
CREATE TABLE IF NOT EXISTS verified (
    timestamp  INTEGER PRIMARY KEY,
    l1_hash    BLOB NOT NULL,
    l1_number  INTEGER NOT NULL,
    heads      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS logs (
    chain_id   INTEGER NOT NULL,
    number     INTEGER NOT NULL,
    hash       BLOB NOT NULL,
    parent     BLOB NOT NULL,
    timestamp  INTEGER NOT NULL,
    log_hashes BLOB NOT NULL,
    PRIMARY KEY (chain_id, number)
);
CREATE TABLE IF NOT EXISTS denylist (
    chain_id    INTEGER NOT NULL,
    number      INTEGER NOT NULL,
    hash        BLOB NOT NULL,
    decision_ts INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    PRIMARY KEY (chain_id, hash)
);
CREATE TABLE IF NOT EXISTS wal (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    decision TEXT NOT NULL
);
"""


class StoreError(Exception):
    """The interop database cannot be opened or is inconsistent (one line for the user)."""


@dataclass(frozen=True, slots=True)
class Verified:
    timestamp: int
    l1_inclusion: BlockID
    heads: dict[int, BlockID]


class InteropStore:
    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        try:
            self._db = open_db(self.path, _SCHEMA)
            rows = self._db.execute("SELECT chain_id, number, hash FROM denylist").fetchall()
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the interop database {self.path}: {e}") from None
        self._denied = {(c, n, bytes(h)) for c, n, h in rows}

    def close(self) -> None:
        self._db.close()

    def _tx(self, stmts) -> None:
        with self._lock:
            transaction(self._db, stmts)

    def _one(self, sql: str, args=()):
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    # -------------------------------------------------------------------------------------------- verified

    def last_verified(self) -> Verified | None:
        return _verified(self._one("SELECT * FROM verified ORDER BY timestamp DESC LIMIT 1"))

    def verified_at(self, timestamp: int) -> Verified | None:
        """The verified result covering ``timestamp``: the latest round at or before it, if ``timestamp`` is not past
        the last verified one (rounds skip timestamps where no chain's block changes)."""
        last = self.last_verified()
        if last is None or timestamp > last.timestamp:
            return None
        return _verified(self._one("SELECT * FROM verified WHERE timestamp <= ? ORDER BY timestamp DESC LIMIT 1",
                                   (timestamp,)))

    def final_verified(self, l1_finalized: int) -> Verified | None:
        """The latest verified result whose L1 inclusion is at or below the finalized L1 block ``l1_finalized``."""
        return _verified(self._one("SELECT * FROM verified WHERE l1_number <= ? ORDER BY timestamp DESC LIMIT 1",
                                   (l1_finalized,)))

    def first_verified(self) -> Verified | None:
        return _verified(self._one("SELECT * FROM verified ORDER BY timestamp LIMIT 1"))

    # -------------------------------------------------------------------------------------------- logs

    def block(self, chain_id: int, number: int) -> InitiatingBlock | None:
        """The initiating-log view (:class:`derivation.interop.validity.InitiatingLogView`) over verified blocks."""
        row = self._one("SELECT number, timestamp, log_hashes FROM logs WHERE chain_id = ? AND number = ?",
                        (chain_id, number))
        if row is None:
            return None
        raw = bytes(row[2])
        return InitiatingBlock(row[0], row[1], tuple(raw[i:i + 32] for i in range(0, len(raw), 32)))

    def sealed_hash(self, chain_id: int, number: int) -> bytes | None:
        row = self._one("SELECT hash FROM logs WHERE chain_id = ? AND number = ?", (chain_id, number))
        return None if row is None else bytes(row[0])

    # -------------------------------------------------------------------------------------------- denylist

    def denied(self, chain_id: int, number: int, block_hash: bytes) -> bool:
        return (chain_id, number, bytes(block_hash)) in self._denied

    def denylist(self) -> list[tuple[int, int, bytes, int, str]]:
        with self._lock:
            rows = self._db.execute("SELECT chain_id, number, hash, decision_ts, reason FROM denylist "
                                    "ORDER BY decision_ts, chain_id").fetchall()
        return [(c, n, bytes(h), t, r) for c, n, h, t, r in rows]

    # -------------------------------------------------------------------------------------------- WAL

    def pending(self) -> Decision | None:
        row = self._one("SELECT decision FROM wal WHERE id = 1")
        return None if row is None else Decision.from_json(json.loads(row[0]))

    def write_ahead(self, decision: Decision) -> None:
        """Persist ``decision`` before any of it is applied; one pending decision at a time."""
        if decision.kind is Kind.WAIT:
            raise ValueError("a wait is not applied, so it is not logged")
        if self.pending() is not None:
            raise StoreError("a decision is already pending: apply it first")
        self._tx([("INSERT INTO wal VALUES (1, ?)", (json.dumps(decision.to_json()),))])

    def clear_pending(self) -> None:
        self._tx([("DELETE FROM wal", ())])

    # -------------------------------------------------------------------------------------------- apply steps

    def commit_advance(self, d: Decision) -> None:
        """The verified row, the frontier blocks' logs and the end of the WAL entry, in one transaction."""
        inc = d.l1_inclusion
        heads = {str(b.chain_id): [b.hash.hex(), b.number] for b in d.blocks}
        stmts = [("INSERT OR REPLACE INTO verified VALUES (?, ?, ?, ?)",
                  (d.timestamp, bytes(inc.hash), inc.number, json.dumps(heads, sort_keys=True)))]
        for b in d.blocks:
            stmts.append(("INSERT OR REPLACE INTO logs VALUES (?, ?, ?, ?, ?, ?)",
                          (b.chain_id, b.number, bytes(b.hash), bytes(b.parent_hash), b.timestamp,
                           b"".join(b.log_hashes))))
        stmts.append(("DELETE FROM wal", ()))
        self._tx(stmts)

    def add_denied(self, d: Decision) -> None:
        """The invalid blocks of an Invalidate go to the denylist (idempotent)."""
        self._tx([("INSERT OR IGNORE INTO denylist VALUES (?, ?, ?, ?, ?)",
                   (b.chain_id, b.number, bytes(b.hash), d.timestamp, d.reason)) for b in d.blocks])
        self._denied |= {(b.chain_id, b.number, bytes(b.hash)) for b in d.blocks}

    def rewind(self, timestamp: int) -> Verified | None:
        """Forget verified results at and after ``timestamp``, the logs above the heads that remain and the denylist
        entries decided at or after it (op-supernode Rewind); the last verified result that remains. Clears the
        WAL in the same transaction."""
        with self._lock:
            prev = _verified(self._db.execute("SELECT * FROM verified WHERE timestamp < ? ORDER BY timestamp DESC "
                                              "LIMIT 1", (timestamp,)).fetchone())
            chains = [r[0] for r in self._db.execute("SELECT DISTINCT chain_id FROM logs").fetchall()]
        stmts = [("DELETE FROM verified WHERE timestamp >= ?", (timestamp,)),
                 ("DELETE FROM denylist WHERE decision_ts >= ?", (timestamp,)), ("DELETE FROM wal", ())]
        for c in chains:
            keep = -1 if prev is None or c not in prev.heads else prev.heads[c].number
            stmts.append(("DELETE FROM logs WHERE chain_id = ? AND number > ?", (c, keep)))
        self._tx(stmts)
        with self._lock:
            rows = self._db.execute("SELECT chain_id, number, hash FROM denylist").fetchall()
        self._denied = {(c, n, bytes(h)) for c, n, h in rows}
        return prev


def _verified(row) -> Verified | None:
    if row is None:
        return None
    ts, l1_hash, l1_number, heads = row
    return Verified(ts, BlockID(bytes(l1_hash), l1_number),
                    {int(c): BlockID(bytes.fromhex(h), n) for c, (h, n) in json.loads(heads).items()})
