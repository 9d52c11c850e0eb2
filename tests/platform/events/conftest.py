"""Event-log fixtures: every sink implementation, on real SQLite and a private Redis."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from prism_platform.events.redis_sink import RedisSink
from prism_platform.events.sink import EventSink
from prism_platform.events.sqlite_sink import SqliteSink
from prism_testkit.services import RedisServer

SinkFactory = Callable[[], EventSink]


@pytest.fixture(params=["sqlite", "redis"])
def open_sink(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SinkFactory]:
    """Opens (and re-opens) one log: each call is a fresh connection to the same data."""
    opened: list[EventSink] = []
    prefix = f"t{uuid.uuid4().hex[:8]}:"

    def make() -> EventSink:
        sink: EventSink
        if request.param == "sqlite":
            sink = SqliteSink(tmp_path / "events.db")
        else:
            server: RedisServer = request.getfixturevalue("redis_server")
            sink = RedisSink.from_url(server.url, prefix)
        opened.append(sink)
        return sink

    yield make
    for s in opened:
        s.close()
