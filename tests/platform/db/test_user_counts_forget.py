"""The per-user hourly counts of the experiment reports, on SQLite and PostgreSQL: one
user's rows are deleted (after any aggregation in flight), and rows of hours past the
age limit go; the anonymous counts per bucket stay."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from prism_platform.db import MetadataStore
from prism_platform.db.event_schema import EventCount, EventOffset, EventUserCount
from prism_platform.events.aggregate import forget_user_counts, trim_user_counts
from prism_platform.events.fold import user_key

HOUR = datetime(2026, 1, 1, tzinfo=UTC)


def row(user: str, hour: datetime, bucket: str = "base") -> dict[str, Any]:
    return {
        "scene": "home_feed", "layer": "main", "bucket": bucket, "hour": hour,
        "user_key": user_key(user), "exposures": 3, "clicks": 1, "carts": 0, "orders": 0,
        "order_value": 0.0,
    }  # fmt: skip


def count(store: MetadataStore, user: str | None = None) -> int:
    stmt = sa.select(sa.func.count()).select_from(EventUserCount)
    if user is not None:
        stmt = stmt.where(EventUserCount.user_key == user_key(user))
    with store.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def test_forget_deletes_the_users_rows_only(store: MetadataStore) -> None:
    hours = [HOUR + timedelta(hours=h) for h in range(3)]
    rows = [row(u, h, b) for u in ("alice", "bob") for h in hours for b in ("base", "b")]
    bucket = {
        "scene": "home_feed", "layer": "main", "bucket": "base", "strategy": "s",
        "version": "v", "channel": "c", "hour": HOUR, "exposures": 12, "requests": 2,
        "clicks": 4, "carts": 0, "orders": 0, "order_value": 0.0,
    }  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(sa.insert(EventUserCount), rows)
        conn.execute(sa.insert(EventCount), [bucket])
    assert forget_user_counts(store.engine, "alice") == 6
    assert (count(store, "alice"), count(store, "bob")) == (0, 6)
    assert forget_user_counts(store.engine, "alice") == 0
    with store.engine.connect() as conn:  # the anonymous counts name no user: kept
        assert conn.execute(sa.select(EventCount.exposures)).scalar_one() == 12


def test_forget_waits_for_an_aggregation_in_flight(store: MetadataStore) -> None:
    """An aggregation that read the user's events before they left the log commits its
    per-user rows after the forget began: they are deleted too (the forget waits)."""
    engine = store.engine
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    offset = {"sink": "log", "offset": "", "events": 0, "updated_at": datetime.now(UTC)}
    done = threading.Event()
    gone: list[int] = []

    def forget() -> None:
        gone.append(forget_user_counts(engine, "alice"))
        done.set()

    begin = {"prism_sqlite_begin": "BEGIN IMMEDIATE"} if engine.dialect.name == "sqlite" else {}
    with engine.connect().execution_options(**begin) as conn, conn.begin():
        # as aggregate_once begins: its offset row (a log never aggregated before), then rows
        conn.execute(insert(EventOffset).values(offset).on_conflict_do_nothing())
        conn.execute(sa.insert(EventUserCount), [row("alice", HOUR), row("bob", HOUR)])
        thread = threading.Thread(target=forget)
        thread.start()
        time.sleep(0.5)
        assert not done.is_set()  # held until the aggregation commits
    thread.join(30)
    assert gone == [1]
    assert (count(store, "alice"), count(store, "bob")) == (0, 1)


def test_rows_of_hours_past_the_age_limit_go(store: MetadataStore) -> None:
    hours = [HOUR + timedelta(hours=h) for h in range(5)]
    with store.engine.begin() as conn:
        conn.execute(sa.insert(EventUserCount), [row(u, h) for u in ("a", "b") for h in hours])
    cutoff = (HOUR + timedelta(hours=2)).timestamp()
    assert trim_user_counts(store.engine, cutoff) == 4  # hours 0 and 1 of both users
    assert count(store) == 6
    assert trim_user_counts(store.engine, cutoff) == 0
    with store.engine.connect() as conn:
        left = conn.execute(sa.select(sa.func.min(EventUserCount.hour))).scalar_one()
    assert left.replace(tzinfo=UTC) == HOUR + timedelta(hours=2)
