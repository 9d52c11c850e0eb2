"""The platform on Redis through a faulty link (``prism_testkit.faults.FaultProxy``):
a slow link costs each request its scene's read budget once, dropped connections are a
degraded answer, and both recover by themselves, without a 500 or a restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from prism_testkit.faults import FaultProxy
from prism_testkit.services import RedisServer

from ...conftest import FakeClock
from .test_redis_outage import BREAKER_S, assert_served, rec, served_on_redis


@pytest.fixture
def proxy(private_redis: RedisServer) -> Iterator[FaultProxy]:
    with FaultProxy("127.0.0.1", private_redis.port) as p:
        yield p


@pytest.fixture
def client(
    private_redis: RedisServer, proxy: FaultProxy, tmp_path: Path, strategies_dir: Path
) -> Iterator[TestClient]:
    yield from served_on_redis(
        private_redis.url, proxy.url_for(private_redis.url), tmp_path, strategies_dir
    )


def test_a_slow_link_costs_the_read_budget_once_then_recovers(
    client: TestClient, proxy: FaultProxy, breaker_clock: FakeClock
) -> None:
    assert_served(rec(client))
    proxy.latency_s = 0.2  # each way: far past the scene's 30 ms read budget
    slow = rec(client)
    assert slow["degraded"] is True and slow["items"]  # the standby page, not an empty one
    assert slow["trace"]["data"]["errors"][0].startswith("redis: TimeoutError")
    assert slow["trace"]["ms"] < 200  # the budget, not the link, bounds the request
    proxy.heal()
    breaker_clock.advance(BREAKER_S)
    deadline = time.monotonic() + 10
    while rec(client)["degraded"]:  # late replies on the old connection drain first
        assert time.monotonic() < deadline, "never recovered from the slow link"
        breaker_clock.advance(BREAKER_S)
    assert_served(rec(client))


def test_dropped_connections_are_answered_then_reconnected(
    client: TestClient, proxy: FaultProxy, breaker_clock: FakeClock
) -> None:
    assert_served(rec(client))
    proxy.drop()  # every pooled connection reset under the app
    time.sleep(0.05)
    answers = [rec(client) for _ in range(3)]  # 200s, degraded or served by a reconnect
    assert all(a["items"] for a in answers)
    proxy.refuse = True  # and no new connection either
    proxy.drop()
    down = rec(client)
    assert down["degraded"] is True and down["items"]
    proxy.heal()
    breaker_clock.advance(BREAKER_S)
    assert_served(rec(client))
    assert proxy.connections >= 2  # it reconnected through the proxy
