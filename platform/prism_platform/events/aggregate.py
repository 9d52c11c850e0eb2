"""Attribution: fold the durable event log into hourly counts in SQL.

Each run reads the log from the offset stored for it, attributes every event to the
(scene, layer, bucket, strategy@version, primary channel, hour) its acm token names (once
for the main layer and once for every other layer in the token), to its user in that
bucket and hour, and the log's rejection records to their buckets (:mod:`.fold`), and
adds the counts and the new offset in one transaction: a crash before the commit re-reads the
same events, after it never counts them twice, and two aggregators of one log (two
nodes sharing a Redis stream) serialise on the offset row. :func:`trim_log` then drops
what the committed offset covers once it is older than the retention.
:func:`forget_user_counts` deletes one user's per-user counts, :func:`trim_user_counts`
those of hours past their age limit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite

from prism_platform.db._engine import SQLITE_BEGIN
from prism_platform.db.event_schema import (
    COUNT_COLUMNS,
    USER_COLUMNS,
    EventCount,
    EventOffset,
    EventRejection,
    EventUserCount,
)
from prism_platform.events.fold import Folded, fold, user_key
from prism_platform.events.sink import EventSink

log = logging.getLogger("prism.events")

KEY = ("scene", "layer", "bucket", "strategy", "version", "channel", "hour")
USER_KEY = ("scene", "layer", "bucket", "hour", "user_key")
REJECTION_KEY = ("scene", "layer", "bucket", "hour", "reason")
PAGE = 10_000


def aggregate_once(sink: EventSink, engine: Engine, limit: int = PAGE) -> int:
    """Fold up to ``limit`` new events into the counts; how many were read."""
    opts = {SQLITE_BEGIN: "BEGIN IMMEDIATE"} if engine.dialect.name == "sqlite" else {}
    with engine.connect().execution_options(**opts) as conn, conn.begin():
        offset, total = _lock_offset(conn, sink.name)
        page = sink.read(offset, limit)
        if not page:
            return 0
        _add(conn, fold(ev for _, ev in page))
        conn.execute(
            sa.update(EventOffset)
            .where(EventOffset.sink == sink.name)
            .values(offset=page[-1][0], events=total + len(page), updated_at=datetime.now(UTC))
        )
    return len(page)


def aggregate_all(sink: EventSink, engine: Engine, limit: int = PAGE) -> int:
    """Aggregate until the log is caught up; how many events were folded in."""
    done = 0
    while True:
        n = aggregate_once(sink, engine, limit)
        done += n
        if n < limit:
            return done


def trim_log(sink: EventSink, engine: Engine, keep_s: float, now: float | None = None) -> int:
    """Drop the log's events that the committed offset covers and that were received
    more than ``keep_s`` ago (see :func:`~.sink.retention_s`); how many."""
    stmt = sa.select(EventOffset.offset).where(EventOffset.sink == sink.name)
    with engine.connect() as conn:
        offset = conn.execute(stmt).scalar()
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


def _insert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _lock_offset(conn: Connection, name: str) -> tuple[str, int]:
    row = {"sink": name, "offset": "", "events": 0, "updated_at": datetime.now(UTC)}
    conn.execute(_insert(conn)(EventOffset).values(row).on_conflict_do_nothing())
    stmt = sa.select(EventOffset.offset, EventOffset.events).where(EventOffset.sink == name)
    offset, total = conn.execute(stmt.with_for_update()).one()
    return str(offset), int(total)


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
        stmt = _insert(conn)(table).values(rows[start : start + 500])
        values = {c: table.c[c] + stmt.excluded[c] for c in added}
        conn.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=values))
