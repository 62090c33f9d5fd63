"""SQLite persistence shared by both halves of the sandbox.

Each half declares its tables as DDL strings; `Store` creates them once and hands out
short-lived connections, because FastAPI runs sync endpoints on a thread pool and a
`sqlite3.Connection` must not cross threads.
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
        self._write_lock = threading.Lock()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        # executescript() manages its own transaction, so the schema gets a plain connection.
        conn = sqlite3.connect(db_path)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            for ddl in schemas:
                conn.executescript(ddl)
        finally:
            conn.close()
        # Closing the last connection to a WAL database checkpoints it with an fsync; one
        # connection held open for the store's lifetime keeps per-request connections cheap.
        self._keeper: sqlite3.Connection | None = sqlite3.connect(db_path, check_same_thread=False)

    def close(self) -> None:
        """Release the long-lived connection (the file stays; reopening resumes from it)."""
        if self._keeper is not None:
            self._keeper.close()
            self._keeper = None

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection that commits on success and rolls back on error.

        Writes are serialised with a process-wide lock: SQLite allows one writer at a
        time, and waiting on a Python lock is cheaper and clearer than `database is locked`.
        """
        conn = sqlite3.connect(self.db_path, timeout=10, isolation_level=None)
        conn.row_factory = sqlite3.Row
        # With WAL, NORMAL still never corrupts the file; it only skips an fsync per commit,
        # which would otherwise dominate every sandbox request (a stand-in, not a ledger).
        conn.execute("PRAGMA synchronous=NORMAL")
        try:
            with self._write_lock:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        finally:
            conn.close()
