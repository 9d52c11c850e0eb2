"""Attribution: fold the durable event log into hourly counts in SQL.

The aggregator reads the log as a consumer of the log's :data:`GROUP` (one per process,
:func:`consumer_name`), attributes every event to the (scene, layer, bucket,
strategy@version, primary channel, hour) its acm token names (once for the main layer
and once for every other layer in the token), to its user in that bucket and hour, and
the log's rejection records to their buckets (:mod:`.fold`). It adds the counts of the
entries not counted before and records them as counted in one transaction
(:mod:`.counted`), then acknowledges the page. Delivery is at least once, counting once:
a crash before the commit leaves the page unacknowledged, to be delivered again (on
Redis, claimed by another consumer once idle for the claim time); a crash after the
commit and before the acknowledgement delivers entries already recorded, which do not
count again. Several aggregators of one Redis log share its entries; on SQLite a second
one does no extra work. :func:`trim_log` moves the log's offset up to what the group has
acknowledged, then drops what it covers once older than the retention.
:func:`forget_user_counts` deletes one user's per-user counts, :func:`trim_user_counts`
those of hours past their age limit.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from prism_platform.db._engine import SQLITE_BEGIN
from prism_platform.db.event_schema import (
    COUNT_COLUMNS,
    USER_COLUMNS,
    EventCount,
    EventOffset,
    EventRejection,
    EventUserCount,
)
from prism_platform.events.counted import (
    add_counted,
    advance,
    lock_offset,
    record,
    uncounted,
    upsert,
)
from prism_platform.events.event import StoredEvent
from prism_platform.events.fold import Folded, fold, user_key
from prism_platform.events.sink import EventSink

log = logging.getLogger("prism.events")

KEY = ("scene", "layer", "bucket", "strategy", "version", "channel", "hour")
USER_KEY = ("scene", "layer", "bucket", "hour", "user_key")
REJECTION_KEY = ("scene", "layer", "bucket", "hour", "reason")
PAGE = 10_000
GROUP = "aggregator"
CLAIM_IDLE_S = 60.0


def consumer_name() -> str:
    """This process's name in the aggregator group: ``<host>#<pid>``."""
    return f"{socket.gethostname()}#{os.getpid()}"


def aggregate_once(
    sink: EventSink,
    engine: Engine,
    limit: int = PAGE,
    consumer: str | None = None,
    claim_idle_s: float = CLAIM_IDLE_S,
) -> int:
    """Count up to ``limit`` entries the group delivers to ``consumer`` (default: this
    process); how many were new."""
    join(sink, engine)
    return _count_page(sink, engine, limit, consumer or consumer_name(), claim_idle_s)[1]


def aggregate_all(
    sink: EventSink,
    engine: Engine,
    limit: int = PAGE,
    consumer: str | None = None,
    claim_idle_s: float = CLAIM_IDLE_S,
) -> int:
    """Count pages until the group delivers a short one; how many entries were new."""
    join(sink, engine)
    me, done = consumer or consumer_name(), 0
    while True:
        delivered, counted = _count_page(sink, engine, limit, me, claim_idle_s)
        done += counted
        settle(sink, engine)
        if delivered < limit:
            return done


def join(sink: EventSink, engine: Engine, rewind: bool = False) -> None:
    """Create the log's aggregator group unless it exists, after the counted offset (a
    log counted before groups starts where its count stopped). With ``rewind`` (as an
    aggregator process starts), move the group back to the counted offset: the entries
    after it were counted and recorded (they count no more) or not counted at all (the
    counts restored from a backup older than the log), and now are."""
    stmt = sa.select(EventOffset.offset).where(EventOffset.sink == sink.name)
    with engine.connect() as conn:
        offset = conn.execute(stmt).scalar()
    sink.join(GROUP, offset or "", rewind)


def count_entries(
    sink: EventSink, engine: Engine, entries: Sequence[tuple[str, StoredEvent]]
) -> int:
    """Add the entries not counted before to the counts and record them as counted, in
    one transaction; how many were new.

    Only the entries still in the log, checked once the offset row is locked: a user's
    events that ``prism user forget`` deleted after they were delivered are left out
    (its deletion of the user's counts waits for this transaction, or this one for it).
    """
    name = sink.name
    folded = fold(ev for _, ev in entries)  # before the lock: usually every entry counts
    with _writing(engine) as conn:
        offset, total = lock_offset(conn, name)
        new = uncounted(conn, name, offset, (o for o, _ in entries))
        if new:
            kept = sink.present(new)
            new = [o for o in new if o in kept]
        if not new:
            return 0
        if len(new) < len(entries):
            fresh = set(new)
            folded = fold(ev for o, ev in entries if o in fresh)
        _add(conn, folded)
        record(conn, name, new)
        add_counted(conn, name, total, len(new))
    return len(new)


def settle(sink: EventSink, engine: Engine) -> str:
    """Move the log's counted offset up to what the group has acknowledged, forgetting
    the records of counted entries it covers; the offset."""
    acked = sink.acked(GROUP)
    with _writing(engine) as conn:
        return advance(conn, sink.name, acked)


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    """A transaction that writes (on SQLite, ``BEGIN IMMEDIATE``: it queues for the lock
    rather than failing to upgrade a read)."""
    opts = {SQLITE_BEGIN: "BEGIN IMMEDIATE"} if engine.dialect.name == "sqlite" else {}
    with engine.connect().execution_options(**opts) as conn, conn.begin():
        yield conn


def _count_page(
    sink: EventSink, engine: Engine, limit: int, consumer: str, claim_idle_s: float
) -> tuple[int, int]:
    """How many entries were delivered, and how many of them were new."""
    page = sink.consume(GROUP, consumer, limit, claim_idle_s)
    if not page:
        return 0, 0
    counted = count_entries(sink, engine, page)
    sink.ack(GROUP, [o for o, _ in page])
    return len(page), counted


def trim_log(sink: EventSink, engine: Engine, keep_s: float, now: float | None = None) -> int:
    """Drop the log's events that the group has acknowledged (so counted) and that were
    received more than ``keep_s`` ago (see :func:`~.sink.retention_s`); how many."""
    offset = settle(sink, engine)
    if not offset:
        return 0
    return sink.trim(offset, (time.time() if now is None else now) - keep_s)


def forget_user_counts(engine: Engine, user_id: str) -> int:
    """Delete the user's per-user hourly counts (by :func:`~.fold.user_key`); how many.

    Call it once the user's events have left the log. Its transaction first waits for
    every aggregation in flight and holds off new ones (:func:`_aggregations_held`): one
    that read the user's events before they left has committed by then, and its rows go
    too; one that starts later no longer finds them. The anonymous counts per bucket and
    hour keep what the user's events added.
    """
    t = EventUserCount
    with _aggregations_held(engine) as conn:
        gone = conn.execute(sa.delete(t).where(t.user_key == user_key(user_id))).rowcount
    return int(gone)


def trim_user_counts(engine: Engine, older_than: float) -> int:
    """Delete the per-user counts of the hours that began before unix time
    ``older_than``; how many rows."""
    cutoff = datetime.fromtimestamp(older_than, UTC)
    t = EventUserCount
    with _aggregations_held(engine) as conn:
        gone = conn.execute(sa.delete(t).where(t.hour < cutoff)).rowcount
    return int(gone)


@contextmanager
def _aggregations_held(engine: Engine) -> Iterator[Connection]:
    """A transaction that starts once no aggregation is in flight and keeps new ones
    waiting until it ends: SQLite's ``BEGIN IMMEDIATE`` (one writer at a time), and on
    PostgreSQL a ``SHARE ROW EXCLUSIVE`` lock of ``event_offsets``, which conflicts with
    the row lock an aggregation's first statement (its offset row's upsert) takes, even
    for a log whose offset row does not exist yet."""
    sqlite_db = engine.dialect.name == "sqlite"
    opts = {SQLITE_BEGIN: "BEGIN IMMEDIATE"} if sqlite_db else {}
    with engine.connect().execution_options(**opts) as conn, conn.begin():
        if not sqlite_db:
            conn.exec_driver_sql("LOCK TABLE event_offsets IN SHARE ROW EXCLUSIVE MODE")
        yield conn


def _add(conn: Connection, folded: Folded) -> None:
    counts = [_flat(KEY, k, v, COUNT_COLUMNS) for k, v in folded.counts.items()]
    _upsert_adding(conn, EventCount.__table__, KEY, counts)
    users = [_flat(USER_KEY, k, v, USER_COLUMNS) for k, v in folded.users.items()]
    _upsert_adding(conn, EventUserCount.__table__, USER_KEY, users)
    rejections = [
        {**dict(zip(REJECTION_KEY, k, strict=True)), "events": n}
        for k, n in folded.rejections.items()
    ]
    _upsert_adding(conn, EventRejection.__table__, REJECTION_KEY, rejections)


def _flat(
    names: tuple[str, ...], key: tuple[Any, ...], v: dict[str, float], columns: tuple[str, ...]
) -> dict[str, Any]:
    row: dict[str, Any] = dict(zip(names, key, strict=True))
    return row | {c: int(v[c]) for c in columns} | {"order_value": v["order_value"]}


def _upsert_adding(
    conn: Connection, table: Any, key: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    """Insert ``rows``, adding their non-key columns to the rows already there."""
    if not rows:
        return
    added = [c for c in rows[0] if c not in key]
    for start in range(0, len(rows), 500):
        stmt = upsert(conn)(table).values(rows[start : start + 500])
        values = {c: table.c[c] + stmt.excluded[c] for c in added}
        conn.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=values))
