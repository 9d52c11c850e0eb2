"""The deploy gate: a smoke run of a strategy on sample requests before it goes live.

It passes when no request raises, every result is a well-formed non-empty list of
items, and the p90 latency (nearest rank: the 36th of 40 timed requests) stays within
the scene's deadline. The gate claims no p99: 40 samples cannot measure one (it would be
their maximum, and one scheduler pause would reject a good deploy); p90 tolerates four
such pauses and still rejects a script that overruns on one request in ten. Requests are the
node's recorded traffic for the scene when it has enough (:mod:`.traffic`), else
synthetic: user ids taken from the data (users with recent behaviour when the
backend can say, else ``1..n``) and a context carrying popular item ids as
``item_id`` / ``cart_items``, so item- and cart-based scenes have something to read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from time import perf_counter, sleep
from typing import Any

from prism_platform.scripts.invoke import invoke_blocking
from prism_platform.scripts.strategy import Strategy
from prism_sdk import DataBackend, DataClient, Item, Read, Request, StrategyConfig

SAMPLE_SIZE = 40
MIN_RECORDED = 10
WARMUP = 2
ENFORCED_PERCENTILE = 90


def percentile(sorted_ms: list[float], p: float) -> float:
    """Nearest-rank percentile of ascending values (0 when there are none)."""
    if not sorted_ms:
        return 0.0
    rank = max(1, -(-len(sorted_ms) * p // 100))  # ceil(n * p / 100)
    return sorted_ms[min(int(rank), len(sorted_ms)) - 1]


@dataclass(frozen=True)
class GateResult:
    ok: bool
    requests: int
    p50_ms: float
    p90_ms: float
    max_ms: float
    empty: int
    reasons: list[str] = field(default_factory=list)
    source: str = "synthetic"

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "requests": self.requests,
            "p50_ms": round(self.p50_ms, 3),
            "p90_ms": round(self.p90_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "empty": self.empty,
            "reasons": self.reasons,
            "source": self.source,
        }


def sample_requests(
    backend: DataBackend, scene: str, fallback: Read, n: int = SAMPLE_SIZE
) -> list[Request]:
    users = list(getattr(backend, "events", {}) or {})[:n] or [str(i) for i in range(1, n + 1)]
    rows = DataClient(backend).execute([fallback])[0][0]  # empty if the backend fails
    items = [i for i, _ in rows][:n] or ["1"]
    return [
        Request(
            scene=scene,
            user_id=users[k % len(users)],
            size=20,
            context={
                "item_id": items[k % len(items)],
                "cart_items": items[k % len(items) : k % len(items) + 2],
            },
        )
        for k in range(n)
    ]


def smoke_run(
    strategy: Strategy,
    config: StrategyConfig,
    requests: list[Request],
    backend: DataBackend,
    deadline_ms: float | None,
    source: str = "synthetic",
) -> GateResult:
    times: list[float] = []
    reasons: list[str] = []
    empty = 0

    def call(req: Request) -> list[Item]:
        return invoke_blocking(strategy, req, config, DataClient(backend))

    for req in requests[:WARMUP]:  # untimed: first calls pay for lazy imports and caches
        try:
            call(req)
        except Exception:
            break  # the timed run below reports it
    for req in requests:
        sleep(0)  # let a serving event loop in this process take the GIL between calls
        t0 = perf_counter()
        try:
            items = call(req)
        except Exception as exc:
            reasons.append(f"user {req.uid}: {type(exc).__name__}: {exc}")
            break
        times.append((perf_counter() - t0) * 1000.0)
        if not items:
            empty += 1
    times.sort()
    p50, p90 = percentile(times, 50), percentile(times, ENFORCED_PERCENTILE)
    slowest = times[-1] if times else 0.0
    if times and empty == len(times):
        reasons.append(f"returned no items for any of {len(times)} sample requests")
    if deadline_ms is not None and p90 > deadline_ms:
        reasons.append(
            f"p{ENFORCED_PERCENTILE} {p90:.1f} ms of {len(times)} smoke requests exceeds the "
            f"scene deadline of {deadline_ms:.0f} ms (p50 {p50:.1f} ms, max {slowest:.1f} ms)"
        )
    return GateResult(not reasons, len(times), p50, p90, slowest, empty, reasons, source)
