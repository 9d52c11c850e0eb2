"""An open-loop sender: requests leave at a fixed arrival rate whatever the target does,
and each one's latency runs from the time it was *scheduled*, so a target that stalls shows
the queue it causes (no coordinated omission, which a closed-loop generator such as
``prism_testkit.load`` has: it waits for an answer before it asks again).

Request ``i`` of a step is due at ``t0 + i / rate``. Requests are launched as they fall
due; at most ``max_in_flight`` are outstanding, and one due while the cap is reached is
not sent and counts as an error (``dropped``). Launching later than ``LAG_BUDGET_S``
after its due time marks a request late: a step with many late requests is beyond what
this client (one asyncio loop) can drive, not a verdict on the target."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson

from prism_testkit.stress.http import Client, HTTPFailure

LAG_BUDGET_S = 0.01


@dataclass
class StepResult:
    rate: float
    duration_s: float
    scheduled: int = 0
    late: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    """Of the answered requests (any status), from their due time."""
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    """``http_<status>``, ``degraded``, ``not_json`` (a 200 that is no JSON object),
    ``timeout``, ``transport``, ``dropped``."""
    wall_s: float = 0.0
    """From the first due time to the last answer."""

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def error_rate(self) -> float:
        return self.error_count / self.scheduled if self.scheduled else 0.0

    @property
    def on_time(self) -> float:
        return 1 - self.late / self.scheduled if self.scheduled else 1.0

    @property
    def achieved_rps(self) -> float:
        """Answered requests per second of the step's wall time."""
        return (
            (self.ok + self.error_count - self.errors["dropped"]) / self.wall_s
            if self.wall_s
            else 0.0
        )

    def percentile(self, q: float) -> float | None:
        """The ``q`` quantile (0–1, nearest rank) of the latencies; None without answers."""
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def new_client(url: str, max_in_flight: int, timeout_s: float) -> Client:
    """A client with a connection for each request that may be in flight."""
    return Client(url, max_in_flight, timeout_s)


async def run_step(
    client: Client,
    bodies: Sequence[bytes],
    rate: float,
    duration_s: float,
    *,
    max_in_flight: int,
    first: int = 0,
    path: str = "/v1/recommend",
) -> StepResult:
    """Send ``rate`` requests a second for ``duration_s`` (bodies ``first``, ``first+1``…
    round the list), then wait for the answers."""
    loop = asyncio.get_running_loop()
    step = StepResult(rate, duration_s, scheduled=max(1, round(rate * duration_s)))
    in_flight: set[asyncio.Task[None]] = set()

    async def send(body: bytes, due: float) -> None:
        if loop.time() - due > LAG_BUDGET_S:
            step.late += 1
        try:
            r = await client.post(path, body)
        except TimeoutError:
            step.errors["timeout"] += 1
            return
        except HTTPFailure:
            step.errors["transport"] += 1
            return
        step.latencies_ms.append((loop.time() - due) * 1000)
        if r.status != 200:
            step.errors[f"http_{r.status}"] += 1
            return
        try:
            degraded = orjson.loads(r.body).get("degraded")
        except (orjson.JSONDecodeError, AttributeError):
            step.errors["not_json"] += 1
            return
        if degraded:
            step.errors["degraded"] += 1
        else:
            step.ok += 1

    t0 = loop.time() + 0.005
    i = 0
    while i < step.scheduled:
        now = loop.time()
        due = t0 + i / rate
        if due > now:
            await asyncio.sleep(due - now)
            continue
        while i < step.scheduled and t0 + i / rate <= now:  # every request due by now
            if len(in_flight) >= max_in_flight:
                step.errors["dropped"] += 1
            else:
                body = bodies[(first + i) % len(bodies)]
                task = loop.create_task(send(body, t0 + i / rate))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            i += 1
    if in_flight:
        await asyncio.wait(set(in_flight))
    step.wall_s = loop.time() - t0
    return step


async def client_ceiling(
    client: Client, seconds: float = 1.5, concurrency: int = 32, path: str = "/healthz"
) -> float:
    """The most requests a second this client completes against a trivial endpoint of the
    target (closed loop, ``concurrency`` at a time): above it, a step measures the client."""
    done = 0
    stop = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < stop:
            try:
                await client.get(path)
            except (HTTPFailure, TimeoutError):
                continue
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.monotonic() - started)
