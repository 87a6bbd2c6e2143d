"""The extended peerstore (op-node p2p/store: ``extended.go`` with its scorebook, peer ban book and IP ban book, and
the datastore go-libp2p's ``pstoreds`` and ``BasicConnectionGater`` persist to), as one sqlite file.

``--p2p.peerstore.path`` names the file; ``memory`` keeps everything in memory for the life of the process, as
op-node's ``MapDatastore``. What it keeps, by peer id (base58) or IP text:

- known peers' addresses (``peer_addrs``): the addresses a dial reached, re-dialed after a restart;
- gossip scores (``peer_scores``): :class:`p2p.scoring.PeerScores` records with the time they were saved; records
  older than the score retention are dropped when the store opens (op-node ``scoreRetention``, store/gc.go);
- peer and IP bans with their expiry (``peer_bans``, ``ip_bans``; unix seconds), dropped once expired;
- the ``opp2p_block*`` lists (``blocked``: peer ids, IPs and subnets), which op-node's basic connection gater keeps
  in the same datastore, so they survive a restart too.

Followed: the optimism git snapshot of 2024-10-25 (d317e96) and the 2026 file index (store/iface.go,
scorebook.go, peer_ban_book.go, ip_ban_book.go, p2p/cli/load_config.go). The node's sqlite helper (``opnode.node.sqlite``) cannot be used here: p2p imports nothing of opnode (the
architecture rule). Bans are in memory as well (the gate reads them for every connection); writes go through at
once, scores when the service flushes them (op-node writes its score snapshot every minute).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from p2p.errors import P2PError

MEMORY = "memory"

SCHEMA = """
CREATE TABLE IF NOT EXISTS peer_addrs (peer TEXT PRIMARY KEY, addrs TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS peer_scores (peer TEXT PRIMARY KEY, record TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS peer_bans (peer TEXT PRIMARY KEY, expiry REAL NOT NULL);
CREATE TABLE IF NOT EXISTS ip_bans (ip TEXT PRIMARY KEY, expiry REAL NOT NULL);
CREATE TABLE IF NOT EXISTS blocked (kind TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, value));
"""

BLOCK_KINDS = ("peer", "addr", "subnet")


class PeerStoreError(P2PError):
    """The peerstore file cannot be opened or written."""


class PeerStore:
    def __init__(self, path: str, *, now: float, score_retention: float):
        self.path = path
        try:
            if path != MEMORY:  # op-node's leveldb creates its directory with the parents
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(":memory:" if path == MEMORY else path, isolation_level=None,
                                       check_same_thread=False)
            if path != MEMORY:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")  # a lost tail is a lost score tick, not a lost ban
            self._db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as e:
            raise PeerStoreError(f"cannot open the peerstore {path!r}: {e}") from None
        self._lock = threading.Lock()
        self._write(("DELETE FROM peer_bans WHERE expiry <= ?", (now,)),
                    ("DELETE FROM ip_bans WHERE expiry <= ?", (now,)),
                    ("DELETE FROM peer_scores WHERE updated < ?", (now - score_retention,)))
        self.peer_bans: dict[str, float] = dict(self._db.execute("SELECT peer, expiry FROM peer_bans"))
        self.ip_bans: dict[str, float] = dict(self._db.execute("SELECT ip, expiry FROM ip_bans"))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, *stmts: tuple[str, tuple[Any, ...]]) -> None:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for sql, args in stmts:
                        self._db.execute(sql, args)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as e:
                raise PeerStoreError(f"peerstore {self.path!r}: {e}") from None

    # -------------------------------------------------------------------------------- bans (store/*_ban_book.go)

    def set_peer_ban(self, peer: str, expiry: float | None) -> None:
        """Ban ``peer`` until ``expiry`` (unix seconds); None lifts the ban."""
        if expiry is None:
            self.peer_bans.pop(peer, None)
            self._write(("DELETE FROM peer_bans WHERE peer = ?", (peer,)))
        else:
            self.peer_bans[peer] = expiry
            self._write(("INSERT OR REPLACE INTO peer_bans (peer, expiry) VALUES (?, ?)", (peer, expiry)))

    def set_ip_ban(self, ip: str, expiry: float | None) -> None:
        if expiry is None:
            self.ip_bans.pop(ip, None)
            self._write(("DELETE FROM ip_bans WHERE ip = ?", (ip,)))
        else:
            self.ip_bans[ip] = expiry
            self._write(("INSERT OR REPLACE INTO ip_bans (ip, expiry) VALUES (?, ?)", (ip, expiry)))

    # -------------------------------------------------------------------------------- the gater's block lists

    def blocked(self, kind: str) -> list[str]:
        with self._lock:
            return [v for (v,) in self._db.execute("SELECT value FROM blocked WHERE kind = ? ORDER BY value",
                                                   (kind,))]

    def set_blocked(self, kind: str, value: str, blocked: bool) -> None:
        if kind not in BLOCK_KINDS:
            raise ValueError(f"unknown block kind {kind!r}")
        if blocked:
            self._write(("INSERT OR IGNORE INTO blocked (kind, value) VALUES (?, ?)", (kind, value)))
        else:
            self._write(("DELETE FROM blocked WHERE kind = ? AND value = ?", (kind, value)))

    # -------------------------------------------------------------------------------- known peers (address book)

    def add_addrs(self, peer: str, addrs: Iterable[str], now: float) -> None:
        self._write(("INSERT OR REPLACE INTO peer_addrs (peer, addrs, updated) VALUES (?, ?, ?)",
                     (peer, json.dumps(sorted(set(addrs))), now)))

    def known_peers(self) -> dict[str, list[str]]:
        with self._lock:
            rows = list(self._db.execute("SELECT peer, addrs FROM peer_addrs ORDER BY updated DESC"))
        return {peer: json.loads(addrs) for peer, addrs in rows}

    # -------------------------------------------------------------------------------- scorebook (store/scorebook.go)

    def save_scores(self, records: dict[str, Any], now: float) -> None:
        """Write the score records (:meth:`p2p.scoring.PeerScores.records`); a peer without a record is removed."""
        self._write(("DELETE FROM peer_scores", ()),
                    *(("INSERT INTO peer_scores (peer, record, updated) VALUES (?, ?, ?)", (p, json.dumps(r), now))
                      for p, r in records.items()))

    def load_scores(self) -> tuple[dict[str, Any], float | None]:
        """The saved records and when they were saved (None: none saved)."""
        with self._lock:
            rows = list(self._db.execute("SELECT peer, record, updated FROM peer_scores"))
        if not rows:
            return {}, None
        return {p: json.loads(r) for p, r, _ in rows}, min(u for _, _, u in rows)
