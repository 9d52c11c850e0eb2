"""An open-loop load generator: requests sent on a schedule, whatever the answers.

Request ``i`` is due at ``t0 + i / rate``; its latency counts from when it was due, so an
answer that holds up the ones behind it is counted in theirs too (no coordinated
omission). HTTP/1.1 over raw keep-alive connections (opened as needed, up to
``max_connections``) on one asyncio loop (uvloop when installed): a few tens of
microseconds of client work a request, so the generator keeps up with a node well
past its capacity (``Run.achieved`` tells whether it did).

Like any keep-alive client it must not race the server's idle timeout (uvicorn closes a
connection idle 5 s): a connection idle ``idle_s`` (4 s) is closed rather than reused,
and a request on a reused connection that the server closed before answering anything
(end of stream or a reset, no byte of an answer) is sent again once on a new one.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from array import array
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
T = TypeVar("T")


@dataclass(slots=True)
class Run:
    rate: float
    """Requests a second asked for."""
    achieved: float = 0.0
    """Requests a second sent (below ``rate``: the generator fell behind)."""
    t0: float = 0.0
    failures: dict[str, int] = field(default_factory=dict)
    """Why connections failed (status 0): exception name -> how many."""
    statuses: array[int] = field(default_factory=lambda: array("h"))
    """Per answer, in the order they came: its status (0: the connection failed)."""
    ms: array[float] = field(default_factory=lambda: array("d"))
    """Per answer: ms from when its request was due."""
    due: array[float] = field(default_factory=lambda: array("d"))
    """Per answer: when its request was due, in seconds into the run."""
    degraded_due: array[float] = field(default_factory=lambda: array("d"))
    """When the requests answered ``200`` but ``degraded`` were due (seconds into the run):
    a fallback's answer (a strategy that failed, the data down, or the standby page of
    a scene answering overload with it)."""
    sent_late_ms: array[float] = field(default_factory=lambda: array("d"))
    """Per request, in the order sent: how long after it was due the generator sent it
    (a stall of the generator, or of the machine, shows here and not in the server)."""

    @property
    def answers(self) -> list[tuple[int, float, float]]:
        """``(status, ms from when the request was due, when it was due: seconds into the
        run)`` per answer. Kept as three arrays, not a tuple each: a long run's answers
        would otherwise be objects the generator's garbage collector walks, and its
        pauses would hold requests back (and count in their latency)."""
        return list(zip(self.statuses, self.ms, self.due, strict=True))

    def latencies(self, status: int = 200) -> list[float]:
        return [ms for s, ms in zip(self.statuses, self.ms, strict=True) if s == status]

    def count(self, status: int) -> int:
        return self.statuses.count(status)

    def answered(self, status: int, due: float, degraded: bool = False) -> None:
        self.statuses.append(status)
        self.ms.append((time.perf_counter() - due) * 1000)
        self.due.append(due - self.t0)
        if degraded:
            self.degraded_due.append(due - self.t0)

    @property
    def kept_up(self) -> bool:
        return self.achieved >= 0.95 * self.rate


class OpenLoop:
    def __init__(
        self,
        port: int,
        bodies: Sequence[dict[str, object]],
        path: str = "/v1/recommend",
        host: str = "127.0.0.1",
        max_connections: int = 512,
        idle_s: float = 4.0,
    ) -> None:
        self.host, self.port, self.max_connections = host, port, max_connections
        self.idle_s = idle_s
        self.requests = [_request(path, body) for body in bodies]
        self._idle: list[tuple[Connection, float]] = []
        """Idle connections with when each was last released, the newest last."""
        self._opened = 0
        self._waiting: list[asyncio.Future[Connection]] = []

    async def _connection(self, fresh: bool = False) -> tuple[Connection, bool]:
        """A connection, and whether it is an idle one used before."""
        if self._idle and not fresh:
            conn, since = self._idle.pop()
            if time.monotonic() - since < self.idle_s:
                return conn, True
            self._drop(conn)  # this and every older one: near the server's idle timeout
            for old, _ in self._idle:
                self._drop(old)
            self._idle.clear()
        if self._opened < self.max_connections or fresh:
            self._opened += 1
            try:
                return await asyncio.open_connection(self.host, self.port), False
            except OSError:
                self._opened -= 1
                raise
        waiter: asyncio.Future[Connection] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        return await waiter, True

    def _release(self, conn: Connection) -> None:
        while self._waiting:
            waiter = self._waiting.pop(0)
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append((conn, time.monotonic()))

    def _drop(self, conn: Connection) -> None:
        conn[1].close()
        self._opened -= 1

    async def _one(self, request: bytes, due: float, run: Run) -> None:
        status, keep, degraded = 0, False, False
        conn: Connection | None = None
        try:
            conn, reused = await self._connection()
            try:
                status, keep, degraded = await _exchange(conn, request)
            except asyncio.IncompleteReadError as e:
                if not (reused and not e.partial):
                    raise
                # the server closed it while idle (its keep-alive timeout) before
                # reading the request: send it again on a new one, as HTTP clients do
                self._drop(conn)
                conn = None
                conn, _ = await self._connection(fresh=True)
                status, keep, degraded = await _exchange(conn, request)
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as e:
            run.failures[type(e).__name__] = run.failures.get(type(e).__name__, 0) + 1
            status, keep, degraded = 0, False, False
        run.answered(status, due, degraded)
        if conn is None:
            return
        if keep:
            self._release(conn)
            return
        self._drop(conn)
        if self._waiting:  # the freed slot goes to a waiter
            waiter = self._waiting.pop(0)
            try:
                waiter.set_result((await self._connection(fresh=True))[0])
            except OSError as exc:
                waiter.set_exception(exc)

    async def run(self, rate: float, seconds: float) -> Run:
        """Send ``rate * seconds`` requests on schedule (the bodies in turn); wait for
        every answer."""
        t0 = time.perf_counter() + 0.05
        out = Run(rate, t0=t0)
        n = int(rate * seconds)
        pending: set[asyncio.Task[None]] = set()  # only what is in flight stays alive
        broken: list[BaseException] = []

        def done(task: asyncio.Task[None]) -> None:
            pending.discard(task)
            error = None if task.cancelled() else task.exception()
            if error is not None:
                broken.append(error)

        for i in range(n):
            due = t0 + i / rate
            # a loop's timer may fire up to a millisecond early (uvloop rounds to ms):
            # never send a request before it is due
            while (delay := due - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            out.sent_late_ms.append((time.perf_counter() - due) * 1000)
            request = self.requests[i % len(self.requests)]
            task = asyncio.create_task(self._one(request, due, out))
            pending.add(task)
            task.add_done_callback(done)
        out.achieved = n / max(time.perf_counter() - t0, 1e-9)
        await asyncio.gather(*pending)
        if broken:  # a bug in the generator, not a failed request
            raise broken[0]
        for (_, writer), _ in self._idle:
            writer.close()
        self._idle.clear()
        self._opened = 0
        return out


def offer(
    port: int,
    bodies: Sequence[dict[str, object]],
    rate: float,
    seconds: float,
    max_connections: int = 512,
) -> Run:
    """Run :class:`OpenLoop` on a fresh event loop (uvloop when installed)."""
    return on_uvloop(OpenLoop(port, bodies, max_connections=max_connections).run(rate, seconds))


class BackgroundLoad:
    """:class:`OpenLoop` on each of ``ports`` at ``rate`` requests a second for
    ``seconds``, on one event loop in a thread of its own, started at once; the test
    goes on meanwhile and takes the runs (one a port) with :meth:`results`."""

    def __init__(
        self, ports: Sequence[int], bodies: Sequence[dict[str, object]], rate: float, seconds: float
    ) -> None:
        self.seconds = seconds
        self.runs: list[Run] = []
        loops = [OpenLoop(port, bodies) for port in ports]

        async def run_all() -> None:
            self.runs = list(await asyncio.gather(*(g.run(rate, seconds) for g in loops)))

        self._thread = threading.Thread(target=on_uvloop, args=(run_all(),), daemon=True)
        self._thread.start()

    def results(self) -> list[Run]:
        """Every port's run, once the load has ended."""
        self._thread.join(self.seconds + 60)
        if self._thread.is_alive():
            raise TimeoutError("the background load did not end")
        return self.runs


def on_uvloop(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a fresh event loop: uvloop's when installed, else asyncio's."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(coro)
    return uvloop.run(coro)


async def _exchange(conn: Connection, request: bytes) -> tuple[int, bool, bool]:
    """Send one request, read its answer: ``(status, whether the connection stays, whether
    the answer says it is degraded)``. A
    reset before the answer's head is whole is an :class:`asyncio.IncompleteReadError`
    with nothing read, as an end of stream is."""
    reader, writer = conn
    try:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
    except (ConnectionResetError, BrokenPipeError) as exc:  # closed before a whole answer
        raise asyncio.IncompleteReadError(b"", None) from exc
    length, keep = 0, True
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            keep = value.strip().lower() != b"close"
    body = await reader.readexactly(length)
    return int(head[9:12]), keep, b'"degraded":true' in body


def _request(path: str, body: dict[str, object]) -> bytes:
    payload = json.dumps(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: prism\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload
