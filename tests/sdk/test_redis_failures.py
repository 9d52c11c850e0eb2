"""RedisBackend against a private Redis that the test freezes, stops and restarts."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from prism_sdk import DataClient, Event, RedisBackend
from prism_testkit.services import RedisServer

TIMEOUT_MS = 30
BREAKER_S = 0.2


@pytest.fixture
def server(private_redis: RedisServer) -> RedisServer:
    return private_redis


@pytest.fixture
def backend(server: RedisServer) -> Iterator[RedisBackend]:
    b = RedisBackend.from_url(server.url, timeout_ms=TIMEOUT_MS, breaker_s=BREAKER_S)
    b.replace_table("i2i", {"1": [("2", 0.9)]})
    b.append_events("u1", [Event(time.time() - 10, "7", "exposure")])
    yield b
    b.close()


def _read(b: RedisBackend) -> tuple[DataClient, float]:
    client = DataClient(b)
    t0 = time.perf_counter()
    with client.batch() as batch:
        t = batch.tables("i2i", ["1"])
        seen = batch.unclicked(["u1"], 3600)
    ms = (time.perf_counter() - t0) * 1000
    if client.ok:
        assert t.value == [[("2", 0.9)]] and seen.value == [{"7": 1}]
    else:
        assert not t.value[0] and seen.value == [{}]
    return client, ms


def test_a_frozen_redis_times_out_within_the_budget_then_fails_fast(
    server: RedisServer, backend: RedisBackend
) -> None:
    assert _read(backend)[0].ok
    os.kill(server.process.pid, signal.SIGSTOP)  # accepts connections, never answers
    slow, ms = _read(backend)
    assert not slow.ok and slow.errors[0].startswith("redis: TimeoutError")
    assert ms < TIMEOUT_MS * 4, "one socket timeout, no retries"
    fast, ms = _read(backend)
    assert "circuit open" in fast.errors[0] and ms < 5
    os.kill(server.process.pid, signal.SIGCONT)
    time.sleep(BREAKER_S + 0.05)
    assert _read(backend)[0].ok


def test_a_stopped_redis_fails_reads_and_a_restarted_one_serves_again(
    server: RedisServer, backend: RedisBackend
) -> None:
    assert _read(backend)[0].ok
    server.stop(keep_data=True)
    down, _ = _read(backend)
    assert not down.ok and down.errors[0].startswith("redis: ConnectionError")
    server.restart()
    assert "circuit open" in _read(backend)[0].errors[0]  # no reconnect until the cooldown
    time.sleep(BREAKER_S + 0.05)
    assert _read(backend)[0].ok  # the same pool reconnects, the data survived the restart


def test_writes_keep_their_own_client_without_the_read_budget(backend: RedisBackend) -> None:
    reader = backend._reader.get_connection_kwargs()  # type: ignore[union-attr]
    writer = backend.client.get_connection_kwargs()  # type: ignore[union-attr]
    assert reader["socket_timeout"] == TIMEOUT_MS / 1000
    assert writer.get("socket_timeout") is None
