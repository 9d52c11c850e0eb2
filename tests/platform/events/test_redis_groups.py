"""What a Redis Stream consumer group adds to the sink contract: its consumers share the
entries (one is never handed another's while that one is not idle), the group's
acknowledged offset stops below the oldest pending entry, whoever took it, and so does
``XTRIM``; consumers with nothing pending and idle long enough are removed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from prism_platform.events.offset import offset_order
from prism_platform.events.redis_sink import RedisSink, redis_client
from prism_testkit.services import RedisServer

from .test_sink_contract import ev

GROUP = "g"


@pytest.fixture
def sink(redis_server: RedisServer) -> Iterator[RedisSink]:
    s = RedisSink(redis_client(redis_server.url), f"t{uuid.uuid4().hex[:8]}:", 3600, 0.0)
    yield s
    s.close()


def test_consumers_share_the_entries_and_the_oldest_pending_one_holds_the_group(
    sink: RedisSink,
) -> None:
    sink.join(GROUP, "")
    sink.append([ev(f"e{i}") for i in range(6)])
    offsets = [o for o, _ in sink.read("", 10)]
    a = sink.consume(GROUP, "a", 2, 60.0)
    b = sink.consume(GROUP, "b", 2, 60.0)  # a is not idle for 60 s: b gets new entries
    assert [e.event_id for _, e in a + b] == ["e0", "e1", "e2", "e3"]
    sink.ack(GROUP, [o for o, _ in b])
    assert offset_order(sink.acked(GROUP)) < offset_order(offsets[0])  # e0 is pending (a's)
    sink.ack(GROUP, [a[0][0]])
    acked = offset_order(sink.acked(GROUP))
    assert offset_order(offsets[0]) <= acked < offset_order(offsets[1])  # e1 is pending
    later = time.time() + 1
    assert sink.trim(offsets[-1], later) == 1  # e0 only: e1 pending, e2 and e3 above it
    sink.ack(GROUP, [a[1][0]])
    assert sink.acked(GROUP) == offsets[3]  # e4 and e5 not delivered yet
    assert sink.trim(offsets[-1], later) == 3


def test_trim_removes_idle_consumers_with_nothing_pending(sink: RedisSink) -> None:
    sink.join(GROUP, "")
    sink.append([ev("e0"), ev("e1")])
    done = sink.consume(GROUP, "done", 1, 60.0)
    sink.ack(GROUP, [o for o, _ in done])
    sink.consume(GROUP, "busy", 1, 60.0)  # pending: kept
    sink.trim(done[0][0], time.time() + 1)
    names = {c["name"] for c in sink.client.xinfo_consumers(sink.stream, GROUP)}
    assert names == {b"busy"}
