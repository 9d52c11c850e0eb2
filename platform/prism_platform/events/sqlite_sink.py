"""The embedded event log: SQLite in WAL mode with ``synchronous=FULL``.

Why FULL: with WAL, ``NORMAL`` skips the fsync at commit, so a committed batch survives
a crash of the process but not of the machine (power loss, kernel panic). An accepted
event must survive both, so every batch commit fsyncs the WAL (``FULL``); batching
amortises that one fsync over up to 1,000 events. Readers (the aggregator) use their
own connection and never block the writer. ``seq`` is ``AUTOINCREMENT``, so offsets keep
growing after :meth:`SqliteSink.trim` deletes the oldest rows (in batches, between
appends). ``event_keys`` holds what each stored event claimed (its token's count keys),
deleted with it.

A consumer group is one cursor, ``consumer_groups.acked``: every consumer reads the
entries after it (so an entry left unacknowledged is delivered again at once, whatever
the claim idle time), and acknowledging an entry moves it there, acknowledging the
entries before it too. One machine, one aggregator: a second consumer is harmless (the
aggregator counts each entry once) but shares no work.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec

from prism_platform.events.event import StoredEvent, claims

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(StoredEvent).decode
TRIM_BATCH = 5000
SCAN_PAGE = 10_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS event_keys (
    key TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS event_keys_seq ON event_keys (seq);
CREATE TABLE IF NOT EXISTS consumer_groups (
    name TEXT PRIMARY KEY,
    acked INTEGER NOT NULL
) WITHOUT ROWID;
"""


def connect_wal(path: Path, synchronous: str) -> sqlite3.Connection:
    """An autocommit connection in WAL mode, usable from any thread (callers lock)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


class SqliteSink:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.name = f"sqlite:{self.path}"
        self._writer = self._connect()
        self._writer.executescript(SCHEMA)
        self._reader = self._connect()
        self._wlock = threading.Lock()
        self._rlock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        return connect_wal(self.path, "FULL")

    def append(self, events: Sequence[StoredEvent]) -> list[bool]:
        if not events:
            return []
        with self._wlock:
            cur = self._writer.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                new = _insert(cur, events)
                cur.execute("COMMIT")  # fsyncs the WAL (synchronous=FULL)
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return new

    def read(self, after: str, limit: int) -> list[tuple[str, StoredEvent]]:
        start = int(after) if after else 0
        with self._rlock:
            rows = self._reader.execute(
                "SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (start, limit)
            ).fetchall()
        return [(str(seq), _decode(body)) for seq, body in rows]

    def trim(self, before: str, older_than: float) -> int:
        """Delete the oldest rows up to ``before`` and every group's cursor while they were
        received before ``older_than`` (stopping at the first younger one)."""
        with self._rlock:
            cursors = [n for (n,) in self._reader.execute("SELECT acked FROM consumer_groups")]
        last, done = min([int(before) if before else 0, *cursors]), 0
        sql = "SELECT seq, body FROM events WHERE seq <= ? ORDER BY seq LIMIT ?"
        while True:
            with self._wlock:
                rows = self._writer.execute(sql, (last, TRIM_BATCH)).fetchall()
                upto = _old_prefix(rows, older_than)
                if upto:
                    cur = self._writer.execute("DELETE FROM events WHERE seq <= ?", (upto,))
                    done += cur.rowcount
                    self._writer.execute("DELETE FROM event_keys WHERE seq <= ?", (upto,))
            if len(rows) < TRIM_BATCH or upto != rows[-1][0]:
                return done

    def join(self, group: str, start: str, rewind: bool = False) -> None:
        verb = "OR REPLACE" if rewind else "OR IGNORE"
        sql = f"INSERT {verb} INTO consumer_groups (name, acked) VALUES (?, ?)"
        with self._wlock:
            self._writer.execute(sql, (group, int(start) if start else 0))

    def consume(
        self, group: str, consumer: str, limit: int, claim_idle_s: float
    ) -> list[tuple[str, StoredEvent]]:
        """The entries after the group's cursor (any consumer, at once: see the module)."""
        return self.read(str(self._cursor(group)), limit)

    def ack(self, group: str, offsets: Sequence[str]) -> None:
        if offsets:
            sql = "UPDATE consumer_groups SET acked = max(acked, ?) WHERE name = ?"
            with self._wlock:
                self._writer.execute(sql, (max(map(int, offsets)), group))

    def present(self, offsets: Sequence[str]) -> set[str]:
        found: set[str] = set()
        seqs = [int(o) for o in offsets]
        for start in range(0, len(seqs), 500):
            chunk = seqs[start : start + 500]
            sql = f"SELECT seq FROM events WHERE seq IN ({','.join('?' * len(chunk))})"
            with self._rlock:
                found.update(str(seq) for (seq,) in self._reader.execute(sql, chunk))
        return found

    def acked(self, group: str) -> str:
        try:
            return str(self._cursor(group) or "")
        except LookupError:
            return ""

    def _cursor(self, group: str) -> int:
        sql = "SELECT acked FROM consumer_groups WHERE name = ?"
        with self._rlock:
            row = self._reader.execute(sql, (group,)).fetchone()
        if row is None:
            raise LookupError(f"no consumer group {group!r} in {self.path}: join it first")
        return int(row[0])

    def forget_user(self, user_id: str) -> int:
        """Scan the log in pages (read connection), delete the user's rows of each page
        (a short write between appends); their ``event_keys`` stay, so a resent copy of a
        deleted event is still a duplicate until the retention forgets its keys."""
        return forget_rows(
            self._reader, self._rlock, self._writer, self._wlock, "events", user_id, _user_of
        )

    def close(self) -> None:
        with self._wlock, self._rlock:
            self._writer.close()
            self._reader.close()


def _user_of(body: bytes) -> str:
    return _decode(body).user_id


def forget_rows(
    reader: sqlite3.Connection,
    rlock: threading.Lock,
    writer: sqlite3.Connection,
    wlock: threading.Lock,
    table: str,
    user_id: str,
    user_of: Callable[[bytes], str],
) -> int:
    """Delete the rows of ``table`` (``seq``, msgpack ``body``) whose body names
    ``user_id``, a page at a time: a body that does not hold the id's bytes is not
    decoded. Rows appended while it runs are scanned too when they land past its page."""
    needle = user_id.encode()
    sql = f"SELECT seq, body FROM {table} WHERE seq > ? ORDER BY seq LIMIT ?"
    last, done = 0, 0
    while True:
        with rlock:
            rows = reader.execute(sql, (last, SCAN_PAGE)).fetchall()
        if not rows:
            return done
        last = rows[-1][0]
        gone = [seq for seq, body in rows if needle in body and user_of(body) == user_id]
        for start in range(0, len(gone), 500):
            chunk = gone[start : start + 500]
            with wlock:
                marks = ",".join("?" * len(chunk))
                done += writer.execute(
                    f"DELETE FROM {table} WHERE seq IN ({marks})", chunk
                ).rowcount
        if len(rows) < SCAN_PAGE:
            return done


def _insert(cur: sqlite3.Cursor, events: Sequence[StoredEvent]) -> list[bool]:
    """Store the events whose id and claims (:func:`~.event.claims`) are new, in order;
    per event whether it was. Two lookups and two inserts for the whole batch."""
    wanted = [claims(ev) for ev in events]
    taken = _existing(
        cur, "event_keys", "key", [k for key, sl in wanted if key for k in (key, *sl)]
    )
    ids = _existing(cur, "events", "event_id", [ev.event_id for ev in events])
    new, rows, keys = [], [], []
    for ev, (key, slots) in zip(events, wanted, strict=True):
        free = next((s for s in slots if s not in taken), None)
        if ev.event_id in ids or key in taken or (slots and free is None):
            new.append(False)
            continue
        new.append(True)
        ids.add(ev.event_id)
        rows.append((ev.event_id, _encode(ev)))
        for k in (key, free):
            if k:
                taken.add(k)
                keys.append((k, ev.event_id))
    cur.executemany("INSERT INTO events (event_id, body) VALUES (?, ?)", rows)
    sql = "INSERT INTO event_keys (key, seq) SELECT ?, seq FROM events WHERE event_id = ?"
    cur.executemany(sql, keys)
    return new


def _existing(cur: sqlite3.Cursor, table: str, column: str, values: list[str]) -> set[str]:
    """Which of ``values`` the table's unique ``column`` holds."""
    found: set[str] = set()
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT {column} FROM {table} WHERE {column} IN ({marks})"
        found.update(v for (v,) in cur.execute(sql, chunk))
    return found


def _old_prefix(rows: list[tuple[int, bytes]], older_than: float) -> int:
    """The seq of the last row of the leading run received before ``older_than`` (0: none)."""
    upto = 0
    for seq, body in rows:
        if _decode(body).received >= older_than:
            break
        upto = seq
    return upto
