"""RedisBackend against a private Redis that the test freezes, stops and restarts.

The breakers run on a stopped clock (``breaker_clock``): a test opens one, finds it
open, and closes it by advancing the clock past the cooldown, instead of racing and
then sleeping through the real one. Socket timeouts are real: a read that times out is
checked to have waited at least its budget and well under ten times it (and under the
longer wait a wrong budget would mean); reads refused by an open breaker are checked
to have sent nothing."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from prism_sdk import DataBackend, DataClient, Event, RedisBackend
from prism_sdk.data import redis_budget
from prism_testkit.services import RedisServer

from ..conftest import FakeClock
from .conftest import serve_backend

TIMEOUT_MS = 30
BREAKER_S = 0.2  # on the breaker's stopped clock: nothing ever waits for it


@pytest.fixture
def server(private_redis: RedisServer) -> RedisServer:
    return private_redis


@pytest.fixture
def backend(server: RedisServer, breaker_clock: FakeClock) -> Iterator[RedisBackend]:
    b = RedisBackend.from_url(server.url, timeout_ms=TIMEOUT_MS, breaker_s=BREAKER_S)
    b.replace_table("i2i", {"1": [("2", 0.9)]})
    b.append_events("u1", [Event(time.time() - 10, "7", "exposure")])
    yield b
    b.close()


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per write to a Redis socket by a read client: a round trip on an open
    connection is one, (re)connecting adds the handshake's."""
    calls: list[int] = []
    send = redis_budget.ReadBudget.send_packed_command

    def counted(self: Any, command: Any, check_health: bool = True) -> None:
        calls.append(1)
        send(self, command, check_health)

    monkeypatch.setattr(redis_budget.ReadBudget, "send_packed_command", counted)
    return calls


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
    server: RedisServer, backend: RedisBackend, breaker_clock: FakeClock, sends: list[int]
) -> None:
    assert _read(backend)[0].ok
    os.kill(server.process.pid, signal.SIGSTOP)  # accepts connections, never answers
    del sends[:]
    slow, ms = _read(backend)
    assert not slow.ok and slow.errors[0].startswith("redis: TimeoutError")
    assert len(sends) == 1, "one round trip, no retries"
    assert TIMEOUT_MS <= ms < 10 * TIMEOUT_MS  # the client's own timeout, once
    fast, _ = _read(backend)
    assert "circuit open" in fast.errors[0] and len(sends) == 1  # refused: nothing sent
    os.kill(server.process.pid, signal.SIGCONT)
    assert "circuit open" in _read(backend)[0].errors[0]  # until the cooldown is over
    breaker_clock.advance(BREAKER_S)
    assert _read(backend)[0].ok


def test_a_stopped_redis_fails_reads_and_a_restarted_one_serves_again(
    server: RedisServer, backend: RedisBackend, breaker_clock: FakeClock
) -> None:
    assert _read(backend)[0].ok
    server.stop(keep_data=True)
    down, _ = _read(backend)
    assert not down.ok and down.errors[0].startswith("redis: ConnectionError")
    server.restart()
    assert "circuit open" in _read(backend)[0].errors[0]  # no reconnect until the cooldown
    breaker_clock.advance(BREAKER_S)
    assert _read(backend)[0].ok  # the same pool reconnects, the data survived the restart


def test_writes_keep_their_own_client_without_the_read_budget(backend: RedisBackend) -> None:
    reader = backend._reader.get_connection_kwargs()  # type: ignore[union-attr]
    writer = backend.client.get_connection_kwargs()  # type: ignore[union-attr]
    assert reader["socket_timeout"] == TIMEOUT_MS / 1000
    assert writer.get("socket_timeout") is None


def _budgeted(b: DataBackend, budget_ms: float) -> tuple[DataClient, float]:
    """One read of a DataClient with a read budget; elapsed ms."""
    client = DataClient(b, read_budget_ms=budget_ms)
    t0 = time.perf_counter()
    client.table("i2i", "1")
    return client, (time.perf_counter() - t0) * 1000


def test_a_frozen_redis_times_out_at_each_callers_own_budget(
    server: RedisServer, backend: RedisBackend, breaker_clock: FakeClock, sends: list[int]
) -> None:
    """Budgets shorter and longer than the client's own timeout (30 ms); a timeout opens
    the breaker only for reads that may not wait longer than the one that timed out."""
    assert _budgeted(backend, 1000)[0].ok
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        short, short_ms = _budgeted(backend, 40)
        sent = len(sends)
        long_, long_ms = _budgeted(backend, 250)  # may wait longer: still tries
        assert len(sends) > sent
        sent = len(sends)
        again, _ = _budgeted(backend, 250)
        assert len(sends) == sent  # refused: nothing sent
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    # each waited its own budget (not the client's 30 ms), and well under ten times it
    assert short.errors[0].startswith("redis: TimeoutError") and 40 <= short_ms < 400
    assert long_.errors[0].startswith("redis: TimeoutError") and 250 <= long_ms < 2500
    assert "circuit open" in again.errors[0]
    assert _budgeted(backend, 1000)[0].ok  # a longer budget still tries, and closes it
    assert _budgeted(backend, 40)[0].ok


def test_a_request_spends_one_budget_over_its_round_trips(
    server: RedisServer, backend: RedisBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow but successful round trip leaves the next one only what is left."""
    budgets: list[float] = []  # what each round trip was given...
    took: list[float] = []  # ...and how long it took, timed inside the client's own timing
    read_within = backend.read_within

    def timed(reads: Any, budget_s: float) -> Any:
        budgets.append(budget_s)
        t0 = time.monotonic()
        try:
            return read_within(reads, budget_s)
        finally:
            took.append(time.monotonic() - t0)

    monkeypatch.setattr(backend, "read_within", timed)
    client = DataClient(backend, read_budget_ms=400)
    os.kill(server.process.pid, signal.SIGSTOP)
    thaw = threading.Timer(0.1, os.kill, (server.process.pid, signal.SIGCONT))
    thaw.start()
    t0 = time.perf_counter()
    try:
        assert client.table("i2i", "1") == [("2", 0.9)]  # waited for the thaw
        os.kill(server.process.pid, signal.SIGSTOP)
        client.items(["1"])
        total_ms = (time.perf_counter() - t0) * 1000
        client.features("user", "u1")  # nothing left: not sent
    finally:
        thaw.join()
        os.kill(server.process.pid, signal.SIGCONT)
    assert client.errors[0].startswith("redis: TimeoutError")
    assert "budget" in client.errors[1] and client.round_trips == 2
    assert budgets[0] == 0.4 and len(budgets) == 2
    assert budgets[1] <= 0.4 - took[0]  # the second round trip got what the first left
    assert took[1] >= budgets[1]  # and spent it
    assert 400 <= total_ms < 4000  # the whole budget, once: not 400 ms per round trip


def test_a_remote_read_gives_up_at_its_budget(server: RedisServer) -> None:
    """A node whose own reads may wait 5 s, read remotely within 60 ms."""
    node = RedisBackend.from_url(server.url, timeout_ms=5000, breaker_s=BREAKER_S)
    node.replace_table("i2i", {"1": [("2", 0.9)]})
    remote = serve_backend(node)
    try:
        assert _budgeted(remote, 1000)[0].ok
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            slow, ms = _budgeted(remote, 60)
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        assert slow.errors[0].startswith("remote: ReadTimeout") and 60 <= ms < 600
    finally:
        remote.close()
        node.close()
