"""The safe-head database (``--safedb.path``): which L2 block was safe once each L1 block had been derived
(op-node ``op-node/node/safedb/safedb.go``; served by ``optimism_safeHeadAtL1Block``, read by op-proposer and
op-challenger).

One row per L1 block number (the key, as op-node's ``safeByL1BlockNum`` column): ``l1 number → (l1 hash, l2 hash,
l2 number)``. Rows are written in sqlite WAL mode with ``synchronous=FULL``, one transaction per change, so a
process killed with SIGKILL leaves every acknowledged row and never half a row. op-node's rules:
- :meth:`record` (``SafeHeadUpdated``): the safe head advanced while deriving from L1 block ``l1``; a later record
  for the same L1 block replaces the earlier one (so there are no duplicates). Rows for later L1 blocks are stale
  when this happens (the caller reset without telling us) and are removed in the same transaction;
- :meth:`truncate_after` (``SafeHeadReset``): on a pipeline reset to ``safe``, drop the rows from the first one at or
  after ``safe``'s L1 origin whose L2 block is not below ``safe``, and re-record ``safe`` at that row's L1 block unless
  it was the very first row (then nobody knows where ``safe`` became safe);
- :meth:`truncate_from`: an L1 reorg invalidates every row derived from L1 block ``n`` on;
- :meth:`safe_head_at` (``SafeHeadAtL1``): the row at or before an L1 block number.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass

from derivation.protocol.types import BlockID, L2BlockRef
from opnode.node.sqlite import open_db, transaction

MAX_UINT64 = (1 << 64) - 1
# sqlite integers are signed 64-bit: numbers are stored offset so that every uint64 fits and order is kept.
_OFFSET = 1 << 63

_SCHEMA = """
CREATE TABLE IF NOT EXISTS safe_heads (
    l1_number INTEGER PRIMARY KEY,
    l1_hash   BLOB NOT NULL CHECK (length(l1_hash) = 32),
    l2_hash   BLOB NOT NULL CHECK (length(l2_hash) = 32),
    l2_number INTEGER NOT NULL
) WITHOUT ROWID;
"""


class SafeDBError(Exception):
    """The safe-head database cannot be used (corrupt, unwritable, or closed)."""


class SafeHeadNotFound(SafeDBError):
    """No safe head is recorded at or before the requested L1 block (op-node ``ErrNotFound``: "not found")."""

    def __init__(self):
        super().__init__("not found")


@dataclass(frozen=True, slots=True)
class SafeHeadEntry:
    l1: BlockID
    safe_head: BlockID

    def to_json(self) -> dict:
        """op-node's ``SafeHeadResponse``."""
        return {"l1Block": self.l1.to_json(), "safeHead": self.safe_head.to_json()}


def _enc(n: int) -> int:
    if not 0 <= n <= MAX_UINT64:
        raise ValueError(f"block number {n} does not fit in a uint64")
    return n - _OFFSET


def _dec(n: int) -> int:
    return n + _OFFSET


class SafeDB:
    """The safe-head database in one sqlite file. Methods are synchronous and short; safe to share between the
    driver and RPC handlers (a lock serialises access)."""

    def __init__(self, path: str | os.PathLike, *, durable: bool = True):
        path = os.fspath(path)
        if os.path.isdir(path):
            # op-node's --safedb.path names a pebble directory; keep the same flag value working.
            path = os.path.join(path, "safedb.sqlite")
        self.path = path
        self._lock = threading.Lock()
        try:
            self._db: sqlite3.Connection | None = open_db(path, _SCHEMA, durable=durable)
        except sqlite3.Error as e:
            raise SafeDBError(f"cannot open safe-head database {path}: {e}") from None

    # ------------------------------------------------------------------------------------------ writes

    def record(self, l1: BlockID, safe_head: BlockID | L2BlockRef) -> None:
        """The safe head became ``safe_head`` while deriving from L1 block ``l1``."""
        l2 = safe_head.id if isinstance(safe_head, L2BlockRef) else safe_head
        self._write([
            ("DELETE FROM safe_heads WHERE l1_number > ?", (_enc(l1.number),)),
            ("INSERT OR REPLACE INTO safe_heads VALUES (?, ?, ?, ?)",
             (_enc(l1.number), bytes(l1.hash), bytes(l2.hash), _enc(l2.number))),
        ])

    def truncate_after(self, safe: L2BlockRef) -> None:
        """op-node ``SafeHeadReset``: the safe head was reset to ``safe``."""
        with self._lock:
            db = self._conn()
            row = db.execute("SELECT l1_number, l1_hash FROM safe_heads WHERE l1_number >= ? AND l2_number >= ? "
                             "ORDER BY l1_number LIMIT 1", (_enc(safe.l1_origin.number), _enc(safe.number))).fetchone()
            if row is None:
                return
            l1_key, l1_hash = row
            has_prev = db.execute("SELECT 1 FROM safe_heads WHERE l1_number < ? LIMIT 1", (l1_key,)).fetchone()
            stmts = [("DELETE FROM safe_heads WHERE l1_number >= ?", (l1_key,))]
            if has_prev:
                stmts.append(("INSERT INTO safe_heads VALUES (?, ?, ?, ?)",
                              (l1_key, l1_hash, bytes(safe.hash), _enc(safe.number))))
            self._transaction(db, stmts)

    def truncate_from(self, l1_number: int) -> None:
        """Forget every row derived from L1 block ``l1_number`` or later (those L1 blocks were reorged out)."""
        self._write([("DELETE FROM safe_heads WHERE l1_number >= ?", (_enc(l1_number),))])

    def _write(self, stmts) -> None:
        with self._lock:
            self._transaction(self._conn(), stmts)

    @staticmethod
    def _transaction(db: sqlite3.Connection, stmts) -> None:
        try:
            transaction(db, stmts)
        except sqlite3.Error as e:
            raise SafeDBError(f"safe-head database write failed: {e}") from None

    # ------------------------------------------------------------------------------------------ reads

    def safe_head_at(self, l1_number: int) -> SafeHeadEntry:
        """The most recent row at or before L1 block ``l1_number``; :class:`SafeHeadNotFound` if there is none."""
        if l1_number < 0:
            raise SafeHeadNotFound()
        with self._lock:
            row = self._conn().execute("SELECT * FROM safe_heads WHERE l1_number <= ? ORDER BY l1_number DESC "
                                       "LIMIT 1", (_enc(min(l1_number, MAX_UINT64)),)).fetchone()
        if row is None:
            raise SafeHeadNotFound()
        return _entry(row)

    def l1_at_safe_head(self, l2_number: int) -> SafeHeadEntry | None:
        """The first row whose safe head is at or past L2 block ``l2_number``: the L1 block that made it safe (its
        L1 inclusion, op-supernode ``L1AtSafeHead``); None if it is not safe yet."""
        with self._lock:
            row = self._conn().execute("SELECT * FROM safe_heads WHERE l2_number >= ? ORDER BY l1_number LIMIT 1",
                                       (_enc(min(l2_number, MAX_UINT64)),)).fetchone()
        return None if row is None else _entry(row)

    def entries(self) -> list[SafeHeadEntry]:
        """Every row in L1 order (tests, tools)."""
        with self._lock:
            rows = self._conn().execute("SELECT * FROM safe_heads ORDER BY l1_number").fetchall()
        return [_entry(r) for r in rows]

    def first(self) -> SafeHeadEntry | None:
        with self._lock:
            row = self._conn().execute("SELECT * FROM safe_heads ORDER BY l1_number LIMIT 1").fetchone()
        return None if row is None else _entry(row)

    def latest(self) -> SafeHeadEntry | None:
        with self._lock:
            row = self._conn().execute("SELECT * FROM safe_heads ORDER BY l1_number DESC LIMIT 1").fetchone()
        return None if row is None else _entry(row)

    # ------------------------------------------------------------------------------------------ lifecycle

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise SafeDBError("safe-head database is closed")
        return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> SafeDB:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _entry(row) -> SafeHeadEntry:
    l1_number, l1_hash, l2_hash, l2_number = row
    return SafeHeadEntry(BlockID(bytes(l1_hash), _dec(l1_number)), BlockID(bytes(l2_hash), _dec(l2_number)))
