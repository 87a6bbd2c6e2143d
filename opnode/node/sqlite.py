"""The node's durable sqlite files (the safe-head DB, the supernode's interop store): how one is opened and how a
change is written, in one place.

WAL mode (readers never block the writer); ``synchronous=FULL`` when every acknowledged change must survive a
power loss, ``NORMAL`` where a lost tail is re-derived. Autocommit connection (``isolation_level=None``): every
change is one explicit ``BEGIN IMMEDIATE`` … ``COMMIT``, so a killed process leaves whole changes only. The
connection is shared between threads (the driver, RPC handlers) under the owner's lock. Errors are
:class:`sqlite3.Error`; the owner turns them into its own type.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

Statement = tuple[str, Sequence[Any]]


def open_db(path: str, schema: str, *, durable: bool = True) -> sqlite3.Connection:
    """Open (or create) ``path`` in WAL mode and apply ``schema`` (``CREATE … IF NOT EXISTS`` statements)."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        db.executescript(schema)
    except BaseException:
        db.close()
        raise
    return db


def transaction(db: sqlite3.Connection, stmts: Iterable[Statement]) -> None:
    """Run ``stmts`` as one transaction: all of them or, on any error, none."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for sql, args in stmts:
            db.execute(sql, args)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
