"""Attribution: fold the durable event log into hourly counts in SQL.

Each run reads the log from the offset stored for it, attributes every event to the
(scene, layer, bucket, strategy@version, primary channel, hour) its acm token names (once
for the main layer and once for every other layer in the token), and adds
the counts and the new offset in one transaction: a crash before the commit re-reads the
same events, after it never counts them twice, and two aggregators of one log (two
nodes sharing a Redis stream) serialise on the offset row. :func:`trim_log` then drops
what the committed offset covers once it is older than the retention.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite

from prism_platform.db._engine import SQLITE_BEGIN
from prism_platform.db.event_schema import COUNT_COLUMNS, EventCount, EventOffset
from prism_platform.db.records import MAIN_LAYER
from prism_platform.events.event import StoredEvent
from prism_platform.events.sink import EventSink
from prism_sdk import Acm, AcmError, parse_acm

log = logging.getLogger("prism.events")

KEY = ("scene", "layer", "bucket", "strategy", "version", "channel", "hour")
_TYPE_COLUMN = {"exposure": "exposures", "click": "clicks", "cart": "carts", "order": "orders"}
PAGE = 10_000


def hour_of(ts: float) -> datetime:
    return datetime.fromtimestamp(ts - ts % 3600, UTC)


def layer_buckets(acm: Acm) -> dict[str, str]:
    """Layer -> bucket of every layer a token names, the main layer first."""
    return {MAIN_LAYER: acm.bucket} | {la: b for la, b in acm.layers if la != MAIN_LAYER}


def count_events(events: Iterable[StoredEvent]) -> dict[tuple[Any, ...], dict[str, float]]:
    """Counts per aggregation key (events whose token no longer parses are skipped)."""
    out: dict[tuple[Any, ...], dict[str, float]] = {}
    for ev in events:
        try:
            acm = parse_acm(ev.acm)
        except AcmError:  # verified on accept; only a format change could get here
            log.warning("event=unparsable_acm event_id=%s", ev.event_id)
            continue
        channel = acm.channels[0] if acm.channels else "-"
        hour = hour_of(ev.ts)
        for layer, bucket in layer_buckets(acm).items():
            key = (acm.scene, layer, bucket, acm.strategy, acm.version, channel, hour)
            row = out.get(key)
            if row is None:
                row = out[key] = dict.fromkeys((*COUNT_COLUMNS, "order_value"), 0.0)
            row[_TYPE_COLUMN[ev.type]] += 1
            if ev.type == "exposure" and acm.position == 1:
                row["requests"] += 1
            elif ev.type == "order":
                row["order_value"] += ev.value or 0.0
    return out


def aggregate_once(sink: EventSink, engine: Engine, limit: int = PAGE) -> int:
    """Fold up to ``limit`` new events into the counts; how many were read."""
    opts = {SQLITE_BEGIN: "BEGIN IMMEDIATE"} if engine.dialect.name == "sqlite" else {}
    with engine.connect().execution_options(**opts) as conn, conn.begin():
        offset, total = _lock_offset(conn, sink.name)
        page = sink.read(offset, limit)
        if not page:
            return 0
        _add_counts(conn, count_events(ev for _, ev in page))
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


def _insert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _lock_offset(conn: Connection, name: str) -> tuple[str, int]:
    row = {"sink": name, "offset": "", "events": 0, "updated_at": datetime.now(UTC)}
    conn.execute(_insert(conn)(EventOffset).values(row).on_conflict_do_nothing())
    stmt = sa.select(EventOffset.offset, EventOffset.events).where(EventOffset.sink == name)
    offset, total = conn.execute(stmt.with_for_update()).one()
    return str(offset), int(total)


def _add_counts(conn: Connection, counts: dict[tuple[Any, ...], dict[str, float]]) -> None:
    rows = [
        {**dict(zip(KEY, key, strict=True)), **{c: int(v[c]) for c in COUNT_COLUMNS}}
        | {"order_value": v["order_value"]}
        for key, v in counts.items()
    ]
    table = EventCount.__table__
    for start in range(0, len(rows), 500):
        stmt = _insert(conn)(table).values(rows[start : start + 500])
        added = {c: table.c[c] + stmt.excluded[c] for c in (*COUNT_COLUMNS, "order_value")}
        conn.execute(stmt.on_conflict_do_update(index_elements=list(KEY), set_=added))
