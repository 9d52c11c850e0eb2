"""Forgetting a user in every event log (SQLite, Redis, a one-node Redis Cluster): the
user's events go wherever they are in the log, nobody else's, a resent copy is still a
duplicate, and events acknowledged before the forget never survive it while ingestion
goes on."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from prism_platform.db import upgrade
from prism_platform.db._engine import make_engine
from prism_platform.db.event_schema import EventUserCount
from prism_platform.events import redis_sink, sqlite_sink
from prism_platform.events.aggregate import GROUP, count_entries, forget_user_counts, join
from prism_platform.events.event import REJECTED, StoredEvent
from prism_platform.events.fold import user_key
from prism_platform.events.sink import read_all

from .conftest import SinkFactory


def ev(eid: str, user: str, kind: str = "click") -> StoredEvent:
    now = time.time()
    return StoredEvent(eid, kind, f"2.s.b.st@v.c.1.{eid}.-.tag", user, "i1", now, None, now)


def users(sink_factory: SinkFactory) -> list[str]:
    return [e.user_id for e in read_all(sink_factory().read)]


def test_forget_deletes_the_users_events_across_pages(
    open_sink: SinkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_sink, "SCAN_PAGE", 7)  # several pages, not one read
    monkeypatch.setattr(redis_sink, "SCAN_PAGE", 7)
    sink = open_sink()
    batch = [ev(f"e{i}", ("alice", "bob", "alice-2")[i % 3]) for i in range(40)]
    count = StoredEvent("~r", REJECTED, "1.s.b.-.-.-.1.-", "", "", 1.0, 3.0, 1.0, None, "stale")
    assert all(sink.append([*batch, count])[:40])
    assert sink.forget_user("alice") == 14
    assert users(open_sink) == [u for u in users(open_sink) if u != "alice"]
    assert sorted(set(users(open_sink))) == ["", "alice-2", "bob"]  # a prefix is another user
    assert len(users(open_sink)) == 27
    assert open_sink().forget_user("alice") == 0  # idempotent
    # the ids and count keys stay until the retention: a resent copy is not stored again
    assert sink.append([ev("e0", "alice"), ev("e3", "alice")]) == [False, False]
    assert "alice" not in users(open_sink)


def test_events_acknowledged_before_a_forget_never_survive_it(open_sink: SinkFactory) -> None:
    sink = open_sink()
    acknowledged: list[tuple[float, str]] = []  # (when its append returned, event id)
    stop = threading.Event()

    def ingest() -> None:
        writer, n = open_sink(), 0
        while not stop.is_set():
            n += 1
            writer.append([ev(f"a{n}", "alice"), ev(f"b{n}", "bob")])
            acknowledged.append((time.monotonic(), f"a{n}"))

    thread = threading.Thread(target=ingest)
    thread.start()
    try:
        while len(acknowledged) < 200:
            time.sleep(0.01)
        started = time.monotonic()
        sink.forget_user("alice")
        time.sleep(0.05)  # some arrive after it: new data
    finally:
        stop.set()
        thread.join(30)
    left = {e.event_id for e in read_all(open_sink().read) if e.user_id == "alice"}
    before = {eid for at, eid in acknowledged if at < started}
    assert len(before) >= 200 and not before & left
    bobs = [e for e in read_all(open_sink().read) if e.user_id == "bob"]
    assert len(bobs) == len(acknowledged)  # nobody else's event went


def test_a_page_delivered_before_a_forget_adds_no_counts_of_the_user(
    open_sink: SinkFactory, tmp_path: Path
) -> None:
    """An aggregator that took the user's events before the forget and counts them after
    it (the forget's deletion of the user's counts came first) leaves them out."""
    url = f"sqlite:///{tmp_path / 'meta.db'}"
    upgrade(url)
    engine = make_engine(url)
    sink = open_sink()
    sink.append([ev("a1", "alice"), ev("b1", "bob")])
    try:
        join(sink, engine)
        page = sink.consume(GROUP, "a", 10, 60.0)
        assert sink.forget_user("alice") == 1
        forget_user_counts(engine, "alice")
        assert count_entries(sink, engine, page) == 1
        with engine.connect() as conn:
            keys = set(conn.execute(sa.select(EventUserCount.user_key)).scalars())
    finally:
        engine.dispose()
    assert keys == {user_key("bob")}
