"""Event-log fixtures: every sink implementation, on real SQLite, a private Redis and a
one-node Redis Cluster (the cluster enforces one hash slot per multi-key command)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from prism_platform.events.redis_sink import RedisSink
from prism_platform.events.sink import EventSink
from prism_platform.events.sqlite_sink import SqliteSink

from ...conftest import sqlite_or_redis

SinkFactory = Callable[[], EventSink]


@pytest.fixture(params=["sqlite", "redis", "redis-cluster"])
def open_sink(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SinkFactory]:
    """Opens (and re-opens) one log: each call is a fresh connection to the same data."""
    yield from sqlite_or_redis(
        request, lambda: SqliteSink(tmp_path / "events.db"), RedisSink.from_url
    )
