"""Where the engine keeps state and blocks: in memory, or in one sqlite file (WAL) under ``--datadir``.

Everything a block import or a forkchoice update writes goes into one sqlite transaction that is committed before
the Engine API call answers, so a process killed at any moment restarts with the head it last acknowledged (sqlite's
WAL survives a crash of the process; ``synchronous=FULL`` also survives power loss).

Tables: ``kv`` (state trie nodes and contract code, keyed by hash, as py-evm writes them), ``blocks`` (header, body,
receipts by block hash), ``canonical`` (number -> hash), ``meta`` (head/safe/finalized hashes and the genesis hash).
"""

from __future__ import annotations

import os
import sqlite3
import threading

from eth.db.atomic import AtomicDB
from eth.db.backends.base import BaseDB
from eth.db.backends.memory import MemoryDB


class _SqliteKV(BaseDB):
    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock):
        self.conn = conn
        self.lock = lock

    def __getitem__(self, key: bytes) -> bytes:
        with self.lock:
            row = self.conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return row[0]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        with self.lock:
            self.conn.execute("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", (key, value))

    def _exists(self, key: bytes) -> bool:
        with self.lock:
            return self.conn.execute("SELECT 1 FROM kv WHERE k = ?", (key,)).fetchone() is not None

    def __delitem__(self, key: bytes) -> None:
        with self.lock:
            self.conn.execute("DELETE FROM kv WHERE k = ?", (key,))


class Store:
    """Blocks, canonical index and heads. ``state_db`` is the py-evm database for trie nodes and code."""

    def __init__(self, path: str | None = None):
        self.path = path
        self.lock = threading.RLock()
        if path is None:
            self.conn = None
            self.state_db = AtomicDB(MemoryDB())
            self._blocks: dict[bytes, tuple[bytes, bytes, bytes]] = {}
            self._canonical: dict[int, bytes] = {}
            self._meta: dict[str, bytes] = {}
            self._txs: dict[bytes, list[tuple[bytes, int]]] = {}
            return
        os.makedirs(path, exist_ok=True)
        self.conn = sqlite3.connect(os.path.join(path, "engine.sqlite"), isolation_level=None,
                                    check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript("""
            CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS blocks (hash BLOB PRIMARY KEY, number INTEGER NOT NULL, header BLOB NOT NULL,
                                               body BLOB NOT NULL, receipts BLOB NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS canonical (number INTEGER PRIMARY KEY, hash BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS txs (hash BLOB NOT NULL, block BLOB NOT NULL, idx INTEGER NOT NULL,
                                            PRIMARY KEY (hash, block)) WITHOUT ROWID;
        """)
        self.state_db = AtomicDB(_SqliteKV(self.conn, self.lock))
        self._depth = 0

    # ------------------------------------------------------------------------------------------------ txns

    def begin(self) -> None:
        if self.conn is not None:
            with self.lock:
                if self._depth == 0:
                    self.conn.execute("BEGIN")
                self._depth += 1

    def commit(self) -> None:
        if self.conn is not None:
            with self.lock:
                self._depth -= 1
                if self._depth == 0:
                    self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn is not None:
            with self.lock:
                if self._depth:
                    self._depth = 0
                    self.conn.execute("ROLLBACK")

    def close(self) -> None:
        if self.conn is not None:
            with self.lock:
                self.conn.close()
                self.conn = None

    # ------------------------------------------------------------------------------------------------ blocks

    def put_block(self, block_hash: bytes, number: int, header: bytes, body: bytes, receipts: bytes) -> None:
        if self.conn is None:
            self._blocks[block_hash] = (header, body, receipts)
            return
        with self.lock:
            self.conn.execute("INSERT OR REPLACE INTO blocks VALUES (?, ?, ?, ?, ?)",
                              (block_hash, number, header, body, receipts))

    def get_block(self, block_hash: bytes) -> tuple[bytes, bytes, bytes] | None:
        if self.conn is None:
            return self._blocks.get(block_hash)
        with self.lock:
            row = self.conn.execute("SELECT header, body, receipts FROM blocks WHERE hash = ?",
                                    (block_hash,)).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def has_block(self, block_hash: bytes) -> bool:
        if self.conn is None:
            return block_hash in self._blocks
        with self.lock:
            return self.conn.execute("SELECT 1 FROM blocks WHERE hash = ?", (block_hash,)).fetchone() is not None

    def set_canonical(self, number: int, block_hash: bytes | None) -> None:
        if self.conn is None:
            if block_hash is None:
                self._canonical.pop(number, None)
            else:
                self._canonical[number] = block_hash
            return
        with self.lock:
            if block_hash is None:
                self.conn.execute("DELETE FROM canonical WHERE number = ?", (number,))
            else:
                self.conn.execute("INSERT OR REPLACE INTO canonical VALUES (?, ?)", (number, block_hash))

    def canonical_hash(self, number: int) -> bytes | None:
        if self.conn is None:
            return self._canonical.get(number)
        with self.lock:
            row = self.conn.execute("SELECT hash FROM canonical WHERE number = ?", (number,)).fetchone()
        return None if row is None else row[0]

    def delete_canonical_above(self, number: int) -> None:
        if self.conn is None:
            for n in [n for n in self._canonical if n > number]:
                del self._canonical[n]
            return
        with self.lock:
            self.conn.execute("DELETE FROM canonical WHERE number > ?", (number,))

    def get_meta(self, key: str) -> bytes | None:
        if self.conn is None:
            return self._meta.get(key)
        with self.lock:
            row = self.conn.execute("SELECT v FROM meta WHERE k = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: bytes) -> None:
        if self.conn is None:
            self._meta[key] = value
            return
        with self.lock:
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # ------------------------------------------------------------------------------------------------ tx index

    def put_tx(self, tx_hash: bytes, block_hash: bytes, index: int) -> None:
        if self.conn is None:
            self._txs.setdefault(tx_hash, []).append((block_hash, index))
            return
        with self.lock:
            self.conn.execute("INSERT OR REPLACE INTO txs VALUES (?, ?, ?)", (tx_hash, block_hash, index))

    def tx_locations(self, tx_hash: bytes) -> list[tuple[bytes, int]]:
        """Every known block containing the transaction (canonical or not) with its index."""
        if self.conn is None:
            return list(self._txs.get(tx_hash, ()))
        with self.lock:
            return [(r[0], r[1]) for r in
                    self.conn.execute("SELECT block, idx FROM txs WHERE hash = ?", (tx_hash,)).fetchall()]
