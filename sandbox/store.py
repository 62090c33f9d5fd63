"""SQLite persistence shared by both halves of the sandbox.

Each half declares its tables as DDL strings; `Store` creates them once and runs every
transaction on one connection, one transaction at a time.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Store:
    """A SQLite file with a schema made of the DDL of every sandbox module."""

    def __init__(self, db_path: Path, schemas: list[str]) -> None:
        self.db_path = db_path
        db_path.parent.mkdir(parents=True, exist_ok=True)
        # executescript() manages its own transaction, so the schema gets a plain connection.
        setup = sqlite3.connect(db_path)
        try:
            setup.execute("PRAGMA journal_mode=WAL")
            for ddl in schemas:
                setup.executescript(ddl)
        finally:
            setup.close()
        # SQLite allows one writer at a time, and waiting on a Python lock is cheaper and
        # clearer than `database is locked`. Since every transaction holds the lock, one
        # connection serves all threads in turn: opening one per request cost more than the
        # request's own work (profiled under bench/load_pendula.py).
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            db_path, timeout=10, isolation_level=None, check_same_thread=False
        )
        self._conn.row_factory = sqlite3.Row
        # With WAL, NORMAL still never corrupts the file; it only skips an fsync per commit
        # (a stand-in, not a ledger).
        self._conn.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        """Close the connection (the file stays; a new Store resumes from it)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """The connection inside a transaction that commits on success, rolls back on error."""
        with self._lock:
            conn = self._conn
            if conn is None:
                raise RuntimeError(f"the sandbox store {self.db_path} is closed")
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
