"""The open-loop sender against a real server of known capacity: latency runs from each
request's scheduled time, so a queue at the server shows; the in-flight cap drops
requests; the HTTP client survives a server that drops kept-alive connections."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from prism_testkit.stress.engine import StepResult, client_ceiling, new_client, run_step
from prism_testkit.stress.http import Client, HTTPFailure

from .conftest import DelayServer

BODIES = [b'{"scene": "s", "user_id": "1"}', b'{"scene": "s", "user_id": "2"}']


def step(
    server: DelayServer,
    rate: float,
    duration_s: float,
    max_in_flight: int = 256,
    timeout_s: float = 5,
) -> StepResult:
    async def go() -> StepResult:
        async with new_client(server.url, max_in_flight, timeout_s) as client:
            return await run_step(
                client, BODIES, rate, duration_s, max_in_flight=max_in_flight, path="/"
            )

    return asyncio.run(go())


def test_below_capacity_latency_is_the_service_time(
    delay_server: Callable[..., DelayServer],
) -> None:
    server = delay_server(0.02)  # holds 50 requests a second
    result = step(server, rate=20, duration_s=1.0)
    assert result.scheduled == 20
    assert result.ok == 20 and not result.errors
    # the sender keeps its schedule within 10 ms (LAG_BUDGET_S) unless the machine starves
    # it (a busy CI: a few late launches); latency runs from the schedule either way
    assert result.on_time >= 0.75
    p50 = result.percentile(0.5)
    assert p50 is not None and 20 <= p50 < 60


def test_above_capacity_latency_counts_the_wait_from_the_schedule(
    delay_server: Callable[..., DelayServer],
) -> None:
    server = delay_server(0.02)  # 50/s, offered 100/s: the queue grows all step long
    result = step(server, rate=100, duration_s=1.0)
    assert result.ok == 100 and not result.errors
    assert result.on_time >= 0.75  # the sender kept (most of) its schedule: the server is the wait
    # the last request is due at 0.99 s and served after all 100 (2 s): ~1 s in the queue;
    # a closed-loop client would have measured each one at the 20 ms service time
    p99 = result.percentile(0.99)
    assert p99 is not None and p99 > 800
    assert result.achieved_rps < 60


def test_requests_over_the_in_flight_cap_are_dropped_as_errors(
    delay_server: Callable[..., DelayServer],
) -> None:
    server = delay_server(0.05)  # 20/s; 5 may wait; 100/s offered
    result = step(server, rate=100, duration_s=0.5, max_in_flight=5)
    assert result.scheduled == 50
    assert result.errors["dropped"] > 20
    assert result.ok + result.errors["dropped"] == 50
    assert result.error_rate == result.errors["dropped"] / 50


def test_a_request_unanswered_within_the_timeout_is_an_error(
    delay_server: Callable[..., DelayServer],
) -> None:
    server = delay_server(0.3)
    result = step(server, rate=10, duration_s=0.3, timeout_s=0.1)
    assert result.errors["timeout"] == 3
    assert result.ok == 0 and result.percentile(0.99) is None


def test_answers_are_checked(delay_server: Callable[..., DelayServer]) -> None:
    for body, kind in [(b'{"degraded": true}', "degraded"), (b"<html>", "not_json")]:
        result = step(delay_server(0.0, body=body), rate=20, duration_s=0.2)
        assert (result.ok, dict(result.errors)) == (0, {kind: 4})
        assert len(result.latencies_ms) == 4  # answered: their latency counts


def test_a_connection_the_server_dropped_is_replaced(
    delay_server: Callable[..., DelayServer],
) -> None:
    server = delay_server(0.0, close_after_answer=True)

    async def go() -> list[int]:
        async with Client(server.url, 4, 5) as client:
            return [(await client.post("/", BODIES[0])).status for _ in range(5)]

    assert asyncio.run(go()) == [200] * 5
    assert server.served == 5


def test_a_closed_port_is_a_transport_error(
    delay_server: Callable[..., DelayServer],
) -> None:
    url = delay_server(0.0).url
    gone = url.rsplit(":", 1)[0] + ":1"  # nothing listens on port 1

    async def go() -> str:
        async with Client(gone, 4, 5) as client:
            try:
                await client.get("/")
            except HTTPFailure as exc:
                return str(exc)
        return "answered"

    assert "cannot connect" in asyncio.run(go())
    result = step(DelayServer(0, port=1), rate=10, duration_s=0.2)
    assert result.errors["transport"] == 2


def test_the_client_ceiling_is_what_it_completes(
    delay_server: Callable[..., DelayServer],
) -> None:
    async def ceiling(server: DelayServer) -> float:
        async with Client(server.url, 32, 5) as client:
            return await client_ceiling(client, seconds=0.5, concurrency=8, path="/")

    # a GET served one at a time in 10 ms: at most 100 a second
    assert 30 < asyncio.run(ceiling(delay_server(0, get_delay_s=0.01))) <= 105
    # a GET answered at once: the client's own pace
    assert asyncio.run(ceiling(delay_server(0))) > 300
