"""Logged features in SQLite: ``var/features.db``, WAL with ``synchronous=NORMAL``.

A file of its own beside ``events.db``, so flushing features never queues behind the
event log's fsync-per-batch writer. ``NORMAL`` survives a killed process; a power loss
may lose the last flushes, which only thins a sample.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from prism_platform.events.sqlite_sink import connect_wal, forget_rows
from prism_platform.feature_log.record import LoggedRows, decode, encode

TRIM_BATCH = 5000
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS feature_rows (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        ts REAL NOT NULL,
        body BLOB NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS feature_rows_ts ON feature_rows (ts)",
)


class SqliteFeatureStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.name = f"sqlite:{self.path}"
        self._conn = connect_wal(self.path, "NORMAL")
        for stmt in SCHEMA:
            self._conn.execute(stmt)
        self._lock = threading.Lock()

    def append(self, records: Sequence[LoggedRows]) -> None:
        if not records:
            return
        rows = [(r.ts, encode(r)) for r in records]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany("INSERT INTO feature_rows (ts, body) VALUES (?, ?)", rows)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def read(self, after: str, limit: int) -> list[tuple[str, LoggedRows]]:
        sql = "SELECT seq, body FROM feature_rows WHERE seq > ? ORDER BY seq LIMIT ?"
        with self._lock:
            rows = self._conn.execute(sql, (int(after) if after else 0, limit)).fetchall()
        return [(str(seq), decode(body)) for seq, body in rows]

    def trim(self, older_than: float) -> int:
        """Delete records served before ``older_than``, in batches between appends."""
        sql = (
            "DELETE FROM feature_rows WHERE seq IN "
            "(SELECT seq FROM feature_rows WHERE ts < ? LIMIT ?)"
        )
        done = 0
        while True:
            with self._lock:
                n = self._conn.execute(sql, (older_than, TRIM_BATCH)).rowcount
            done += n
            if n < TRIM_BATCH:
                return done

    def forget_user(self, user_id: str) -> int:
        """Scan the records in pages and delete the user's, a short write per page."""
        return forget_rows(
            self._conn, self._lock, self._conn, self._lock, "feature_rows", user_id, _user_of
        )

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _user_of(body: bytes) -> str:
    return decode(body).user_id
