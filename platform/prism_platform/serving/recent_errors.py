"""Errors and fallbacks per scene and bucket over the last minutes, for ``prism status``:
the node's cumulative counters sampled every ``step_s`` (a daemon thread), a window's
figures being the difference between now and the oldest sample inside it."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from time import monotonic
from typing import Any

from prism_platform.metrics.registry import Metrics
from prism_platform.serving.dispatcher import FALLBACK_NAME

Totals = dict[str, dict[str, float]]
FIELDS = ("requests", "degraded", "fallbacks", "errors")


class RecentErrors:
    def __init__(
        self,
        metrics: Metrics,
        window_s: float = 300.0,
        step_s: float = 10.0,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        self.metrics = metrics
        self.window_s = window_s
        self.step_s = step_s
        self.clock = clock
        self._samples: deque[tuple[float, Totals]] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def totals(self) -> Totals:
        """Cumulative counts by ``scene/bucket``."""
        out: Totals = {}

        def add(scene: str, bucket: str, field: str, value: float) -> None:
            row = out.setdefault(f"{scene}/{bucket}", dict.fromkeys(FIELDS, 0.0))
            row[field] += value

        for (scene, bucket, name, _v, outcome), n in _series(self.metrics.requests):
            add(scene, bucket, "requests", n)
            if outcome == "degraded":
                add(scene, bucket, "degraded", n)
            if name == FALLBACK_NAME:
                add(scene, bucket, "fallbacks", n)
        for (scene, bucket, *_rest), n in _series(self.metrics.strategy_errors):
            add(scene, bucket, "errors", n)
        return out

    def sample(self) -> None:
        now = self.clock()
        with self._lock:
            self._samples.append((now, self.totals()))
            while len(self._samples) > 1 and self._samples[1][0] <= now - self.window_s:
                self._samples.popleft()

    def summary(self) -> dict[str, Any]:
        """``{"window_s", "buckets": {scene/bucket: {requests, degraded, fallbacks,
        errors}}}`` over the window (since start while it is younger)."""
        now_totals = self.totals()
        with self._lock:
            start = self._samples[0] if self._samples else (self.clock(), {})
        since, base = start
        buckets = {}
        for where, row in sorted(now_totals.items()):
            old = base.get(where, {})
            delta = {f: int(row[f] - old.get(f, 0.0)) for f in FIELDS}
            if any(delta.values()):
                buckets[where] = delta
        span = min(self.window_s, max(self.clock() - since, 0.0))
        return {"window_s": round(span, 1), "buckets": buckets}

    def start(self) -> None:
        self.sample()
        self._thread = threading.Thread(target=self._run, name="prism-recent-errors", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.step_s):
            self.sample()


def _series(metric: Any) -> list[tuple[list[str], float]]:
    return [(key, float(value)) for key, value in metric.state()]
