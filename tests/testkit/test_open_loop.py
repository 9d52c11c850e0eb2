from __future__ import annotations

import asyncio

from prism_testkit.open_loop import OpenLoop, Run, on_uvloop


async def _read_request(reader: asyncio.StreamReader) -> None:
    """One request off a keep-alive connection: its head and its body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    await reader.readexactly(length)


async def _serve_then_load(
    rate: float, seconds: float, statuses: list[int], bodies: tuple[bytes, ...] = (b"{}",)
) -> Run:
    """A keep-alive HTTP server answering each request with the next of ``statuses`` and
    of ``bodies`` (round), loaded by :class:`OpenLoop`."""
    served = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        try:
            while True:
                await _read_request(reader)
                status = statuses[served % len(statuses)]
                body = bodies[served % len(bodies)]
                served += 1
                head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n\r\n"
                writer.write(head.encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        return await OpenLoop(port, [{"n": 1}, {"n": 2}]).run(rate, seconds)


def test_every_request_sent_is_answered_once_with_its_status_and_times() -> None:
    run = on_uvloop(_serve_then_load(200, 0.5, [200, 200, 503]))
    assert len(run.statuses) == len(run.ms) == len(run.due) == len(run.sent_late_ms) == 100
    assert all(late >= 0 for late in run.sent_late_ms)  # never sent before it was due
    assert run.count(200) == 67 and run.count(503) == 33 and run.kept_up
    assert len(run.latencies(200)) == 67 and all(ms >= 0 for ms in run.ms)
    due = sorted(run.due)  # each due time, once
    assert all(abs(d - i / 200) < 1e-6 for i, d in enumerate(due)), due
    assert run.answers[0][0] in (200, 503) and len(run.answers) == 100
    assert run.failures == {}


def test_a_degraded_answer_is_told_apart_by_its_body() -> None:
    bodies = (b'{"items":[],"degraded":true}', b'{"items":[],"degraded":false}')
    run = on_uvloop(_serve_then_load(100, 0.4, [200], bodies))
    assert run.count(200) == 40 and len(run.degraded_due) == 20
    assert set(run.degraded_due) <= set(run.due)  # when each such request was due


def test_a_closed_port_is_a_failed_connection_counted_by_its_reason() -> None:
    async def load() -> Run:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        return await OpenLoop(port, [{}]).run(50, 0.2)

    run = on_uvloop(load())
    assert run.count(0) == len(run.statuses) == 10
    assert run.failures == {"ConnectionRefusedError": 10}


def test_a_connection_idle_past_the_idle_limit_is_not_reused() -> None:
    """A server that closes an idle connection (its keep-alive timeout) while the client
    picks it up again races the client's request: the generator closes connections idle
    for ``idle_s`` rather than reuse them, and a request on a reused connection the
    server had closed is sent again on a new one."""

    async def load() -> tuple[Run, Run, int]:
        connections = 0

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            await _read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()
            await asyncio.sleep(0.15)  # an idle timeout of 0.15 s: then it closes
            writer.transport.abort()  # with a reset, as a loaded server's kernel may

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            gen = OpenLoop(port, [{}], idle_s=0.1)
            first = await gen.run(20, 0.5)  # one every 50 ms: a connection idles 0.1+ s
            stale = OpenLoop(port, [{}], idle_s=60.0)  # trusts its idle connections
            second = await stale.run(4, 1.0)  # one every 250 ms: each finds its closed
            await asyncio.sleep(0.3)  # the last handler closes its connection
        return first, second, connections

    first, second, connections = on_uvloop(load())
    assert first.count(200) == 10 and first.failures == {}
    assert second.count(200) == 4 and second.failures == {}  # each sent again, answered
    assert connections >= 10  # a connection served one request, then was not reused
