"""Attribution killed mid-way (``SIGKILL`` of the process folding the log, at whatever
point it had reached, several times) neither loses nor double-counts an event: counts
and offset move in one transaction, and the next run resumes from the committed offset."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from prism_platform.db import MetadataStore, upgrade
from prism_platform.db.event_schema import EventCount, EventOffset
from prism_platform.events.aggregate import aggregate_all
from prism_platform.events.event import StoredEvent
from prism_platform.events.sqlite_sink import SqliteSink
from prism_sdk import Acm

N = 6000
CHILD = """
import sys
from sqlalchemy import create_engine
from prism_platform.events.aggregate import aggregate_all
from prism_platform.events.sqlite_sink import SqliteSink
sink, engine = SqliteSink(sys.argv[1]), create_engine(sys.argv[2])
aggregate_all(sink, engine, limit=25)
"""


def _events(now: float) -> list[StoredEvent]:
    out = []
    for n in range(N):
        bucket = "a" if n % 3 else "b"
        acm = Acm("feed", bucket, "home_feed", "v1", ("i2i",), 1, f"r{n}")
        token = acm.sign(b"k", f"u{n}", "i")
        out.append(StoredEvent(f"e{n}", "exposure", token, f"u{n}", "i", now, None, now))
    return out


def _folded(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(EventOffset.events)).scalar() or 0)
    finally:
        engine.dispose()


def test_killed_aggregation_resumes_without_losing_or_double_counting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'meta.db'}"
    upgrade(url)
    log_path = tmp_path / "events.db"
    sink = SqliteSink(log_path)
    sink.append(_events(time.time()))
    kills = 0
    for _ in range(3):  # killed three times, each after it had folded some pages
        before = _folded(url)
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(log_path), url])
        deadline = time.monotonic() + 60
        while _folded(url) <= before and child.poll() is None:
            assert time.monotonic() < deadline, "the aggregator made no progress"
            time.sleep(0.005)
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            kills += 1
        child.wait()
    assert kills >= 2, "the aggregator finished before it could be killed: use more events"
    committed = _folded(url)
    assert 0 < committed < N  # partway: what was committed before the last kill

    store = MetadataStore(url)
    try:
        assert aggregate_all(sink, store.engine) == N - committed  # resumes at the offset
        assert _folded(url) == N
        with store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(EventCount.bucket, EventCount.exposures, EventCount.requests)
            ).all()
        totals = {b: (0, 0) for b in "ab"}
        for bucket, exposures, requests in rows:
            e, r = totals[bucket]
            totals[bucket] = (e + exposures, r + requests)
        assert totals == {"a": (4000, 4000), "b": (2000, 2000)}  # each event exactly once
    finally:
        store.dispose()
