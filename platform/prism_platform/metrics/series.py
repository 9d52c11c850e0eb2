"""The node's metrics over the last 30 minutes, for the workbench's overview charts.

:class:`MetricsSampler` reads the cumulative registry every ``interval_s`` seconds (a
daemon thread, off the request path), takes the difference since its previous sample per
scene and per ``scene/bucket`` (requests, strategy errors, fallbacks, degraded answers,
and the latency histogram's bucket counts) and adds it to a ring buffer of fixed size:
``window_s / interval_s`` slots (360 at 5 s over 30 minutes), a preallocated array per
key, no allocation per sample once the keys are known. Every ``publish_every_s`` it
hands the window, compacted (:func:`~prism_platform.metrics.series_window.encode`), to
``publish`` so other nodes can add it to theirs.

A sample covers the time since the previous one and lands in the slot that holds the
middle of that time; the thread wakes just after each slot boundary, so each slot gets
one sample. A sample delayed by more than a slot lands whole in one slot, and the slot
it skipped has no data. The first sample is only the starting point.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from prism_platform.metrics.registry import Metrics
from prism_platform.metrics.series_window import (
    N_COUNTS,
    Rows,
    SeriesWindow,
    empty_window,
    encode,
)

log = logging.getLogger("prism.metrics")

INTERVAL_S = 5.0
WINDOW_S = 1800.0
PUBLISH_EVERY_S = 15.0
_WAKE_AFTER_S = 0.05
"""The thread wakes this long after a slot boundary."""

Totals = dict[str, np.ndarray]


class MetricsSampler:
    def __init__(
        self,
        source: Callable[[], Metrics],
        *,
        interval_s: float = INTERVAL_S,
        window_s: float = WINDOW_S,
        fallback_name: str = "fallback",
        publish: Callable[[bytes], None] | None = None,
        publish_every_s: float = PUBLISH_EVERY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s!r}")
        self.source = source
        """The registry to read: this process's, or (embedded, several workers) the sum
        of the node's workers."""
        self.interval_s = float(interval_s)
        self.window_s = float(window_s)
        self.capacity = max(1, math.ceil(window_s / interval_s - 1e-9))
        self.fallback_name = fallback_name
        self.publish = publish
        self.publish_every = max(1, round(publish_every_s / interval_s))
        self.clock = clock
        self.bounds: tuple[float, ...] = source().latency.buckets
        self.width = N_COUNTS + len(self.bounds) + 1
        self._slots = np.full(self.capacity, -1, dtype=np.int64)
        self._rows: dict[str, Rows] = {}
        self._last_slot = -1
        self._prev: Totals | None = None
        self._prev_t = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- sampling ---------------------------------------------------------------------
    def totals(self) -> Totals:
        """Cumulative counts by scene and by ``scene/bucket``: :data:`COUNTS`, then the
        latency histogram's bucket counts."""
        m = self.source()
        acc: dict[str, list[float]] = {}
        width, fallback = self.width, self.fallback_name

        def rows(scene: str, bucket: str) -> tuple[list[float], list[float]]:
            where = f"{scene}/{bucket}"
            a = acc.get(scene)
            if a is None:
                a = acc[scene] = [0.0] * width
            b = acc.get(where)
            if b is None:
                b = acc[where] = [0.0] * width
            return a, b

        for (scene, bucket, strategy, _v, outcome), n in m.requests.values.copy().items():
            for row in rows(scene, bucket):
                row[0] += n
                if strategy == fallback:
                    row[2] += n
                if outcome == "degraded":
                    row[3] += n
        for (scene, bucket, *_rest), n in m.strategy_errors.values.copy().items():
            for row in rows(scene, bucket):
                row[1] += n
        for (scene, bucket, *_sv), counts in m.latency.series.copy().items():
            hist = counts[: width - N_COUNTS]
            for row in rows(scene, bucket):
                for j, c in enumerate(hist, N_COUNTS):
                    row[j] += c
        return {key: np.asarray(row) for key, row in acc.items()}

    def sample(self, now: float | None = None) -> None:
        """Add what happened since the previous sample (``now``: epoch seconds)."""
        now = self.clock() if now is None else now
        totals = self.totals()
        with self._lock:
            prev, prev_t = self._prev, self._prev_t
            self._prev, self._prev_t = totals, now
            if prev is None:
                return
            slot = max(math.floor((prev_t + now) / 2 / self.interval_s), self._last_slot)
            idx = slot % self.capacity
            if self._slots[idx] != slot:
                for rows in self._rows.values():
                    rows[idx] = 0
                self._slots[idx] = slot
            self._last_slot = slot
            for key, total in totals.items():
                before = prev.get(key)
                delta = np.rint(total if before is None else total - before).astype(np.int64)
                np.maximum(delta, 0, out=delta)  # a counter never goes back; be sure
                if not delta.any():
                    continue
                if key not in self._rows:
                    self._rows[key] = np.zeros((self.capacity, self.width), np.int64)
                self._rows[key][idx] += delta

    def window(self, window_s: float | None = None, *, buckets: bool = False) -> SeriesWindow:
        """The last ``window_s`` seconds (at most the ring's) as of the latest sample;
        per scene, and per ``scene/bucket`` too when ``buckets``."""
        span = self.window_s if window_s is None else min(window_s, self.window_s)
        n = max(1, min(self.capacity, math.ceil(span / self.interval_s - 1e-9)))
        with self._lock:
            end = self._last_slot
            if end < 0:
                end = math.floor(self.clock() / self.interval_s) - 1
                return empty_window(self.interval_s, end, n, self.bounds)
            slots = np.arange(end - n + 1, end + 1, dtype=np.int64)
            idx = slots % self.capacity
            sampled = self._slots[idx] == slots
            data = {
                key: rows[idx] * sampled[:, None]
                for key, rows in self._rows.items()
                if buckets or "/" not in key
            }
        return SeriesWindow(self.interval_s, end, sampled, data, self.bounds)

    def encoded(self) -> bytes:
        """The per-scene window in its published form."""
        return encode(self.window())

    def publish_now(self) -> None:
        if self.publish is not None:
            self.publish(self.encoded())

    # -- the background thread ----------------------------------------------------------
    def start(self) -> MetricsSampler:
        self._stop.clear()
        self.sample()
        self._thread = threading.Thread(target=self._run, name="prism-series", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _until_next_slot(self) -> float:
        return self.interval_s - self.clock() % self.interval_s + _WAKE_AFTER_S

    def _run(self) -> None:
        samples = 0
        while not self._stop.wait(self._until_next_slot()):
            try:
                self.sample()
                samples += 1
                if samples % self.publish_every == 0:
                    self.publish_now()
            except Exception:  # the thread must outlive a bad sample or publication
                log.exception("event=metrics_series_failed")

    def info(self) -> dict[str, Any]:
        return {"interval_s": self.interval_s, "window_s": self.window_s, "slots": self.capacity}
