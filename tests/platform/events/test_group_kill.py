"""Two aggregator processes share one Redis Stream through its consumer group; one is
killed (``SIGKILL``) holding a page it counted but had not acknowledged and a page it
had not counted. The other claims both once they are idle past the claim time: every
event is counted exactly once (the counted page is recorded as counted, so claiming it
adds nothing)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from prism_platform.db import upgrade
from prism_platform.db._engine import make_engine
from prism_platform.db.event_schema import EventCount, EventCounted, EventOffset
from prism_platform.events.aggregate import GROUP
from prism_platform.events.event import StoredEvent
from prism_platform.events.redis_sink import RedisSink
from prism_sdk import Acm
from prism_testkit.postgres import PostgresServer
from prism_testkit.services import RedisServer

N = 3000
PAGE = 25
PREFIX = "kill:"
OPEN = """
import sys
from prism_platform.db._engine import make_engine
from prism_platform.events.redis_sink import RedisSink
sink, engine = RedisSink.from_url(sys.argv[1], sys.argv[2]), make_engine(sys.argv[3])
"""
# counts two pages and acknowledges them, counts a third, takes a fourth, then waits
HOLDER = (
    OPEN
    + f"""
from prism_platform.events.aggregate import GROUP, aggregate_once, count_entries
for _ in range(2):
    aggregate_once(sink, engine, limit={PAGE}, consumer="a")
count_entries(sink, engine, sink.consume(GROUP, "a", {PAGE}, 60.0))
sink.consume(GROUP, "a", {PAGE}, 60.0)
print("holding", flush=True)
sys.stdin.read()
"""
)
# aggregates until the group has acknowledged the last entry, claiming after 0.5 s idle
CLAIMER = (
    OPEN
    + """
import time
from prism_platform.events.aggregate import GROUP, aggregate_all
from prism_platform.events.offset import offset_order
last, counted, deadline = offset_order(sys.argv[4]), 0, time.monotonic() + 60
while offset_order(sink.acked(GROUP)) < last:
    assert time.monotonic() < deadline, "entries left unacknowledged"
    counted += aggregate_all(sink, engine, limit=500, consumer="b", claim_idle_s=0.5)
    time.sleep(0.05)  # until a's entries are idle long enough to claim
print(counted, flush=True)
"""
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def meta_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated metadata database of this test's own: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'meta.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        url = server.create_database()
    upgrade(url)
    return url


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for child in started:
        if child.poll() is None:
            child.kill()
        child.communicate()  # and closes its pipes


def _events(now: float) -> list[StoredEvent]:
    out = []
    for n in range(N):
        acm = Acm("feed", "a" if n % 3 else "b", "home_feed", "v1", ("i2i",), 1, f"r{n}")
        token = acm.sign(b"k", f"u{n}", "i")
        out.append(StoredEvent(f"e{n}", "exposure", token, f"u{n}", "i", now, None, now))
    return out


def _counted(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(EventOffset.events)).scalar() or 0)
    finally:
        engine.dispose()


def test_a_killed_aggregators_entries_are_claimed_and_counted_once(
    private_redis: RedisServer, meta_url: str, children: list[subprocess.Popen[str]]
) -> None:
    sink = RedisSink.from_url(private_redis.url, PREFIX)
    sink.append(_events(time.time()))
    last = sink.client.xrevrange(sink.stream, count=1)[0][0].decode()

    def start(script: str) -> subprocess.Popen[str]:
        args = [sys.executable, "-c", script, private_redis.url, PREFIX, meta_url, last]
        child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        children.append(child)
        return child

    holder = start(HOLDER)
    assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
    pending = sink.client.xpending(sink.stream, GROUP)
    assert pending["pending"] == 2 * PAGE and _counted(meta_url) == 3 * PAGE

    claimer = start(CLAIMER)
    deadline = time.monotonic() + 30
    while _counted(meta_url) <= 3 * PAGE:  # the other is counting: now kill the holder
        assert claimer.poll() is None, f"b failed: {claimer.communicate()[0]}"
        assert time.monotonic() < deadline, "b made no progress"
        time.sleep(0.005)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    out, _ = claimer.communicate(timeout=60)
    assert claimer.returncode == 0
    assert int(out) == N - 3 * PAGE  # b counted the rest, a's counted page not again

    assert sink.client.xpending(sink.stream, GROUP)["pending"] == 0
    engine = make_engine(meta_url)
    try:
        with engine.connect() as conn:
            offset, total = conn.execute(sa.select(EventOffset.offset, EventOffset.events)).one()
            rows = conn.execute(sa.select(EventCount.bucket, EventCount.exposures)).all()
            records = conn.execute(sa.select(sa.func.count()).select_from(EventCounted)).scalar()
    finally:
        engine.dispose()
        sink.close()
    assert (offset, total, records) == (last, N, 0)  # all acknowledged: the offset covers all
    by_bucket = {"a": 0, "b": 0}
    for bucket, exposures in rows:
        by_bucket[bucket] += exposures
    assert by_bucket == {"a": 2000, "b": 1000}  # each event exactly once
