"""How long the cyclic garbage collector stops a serving process: every collection is
timed (``gc.callbacks``) into ``prism_gc_pause_seconds{generation}``, and one at or over
``log_ms`` is logged (``event=gc_pause``), so a p99 spike or a burst of ``503
overloaded`` with no change near it can be matched to a full collection.

The serving process installs it (``prism_platform.asgi``); the long-lived data a node
loads at start is frozen out of the collector's sight (``app.create_app``), so a full
collection walks only what was made since. About 1 µs a collection."""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

from prism_platform.metrics.registry import Metrics

log = logging.getLogger("prism.gc")


class GcPauses:
    def __init__(self, metrics: Metrics, log_ms: float) -> None:
        self.metrics = metrics
        self.log_ms = log_ms
        self._started = 0.0

    def install(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def uninstall(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        seconds = time.perf_counter() - self._started
        generation = int(info["generation"])
        self.metrics.gc_pause.observe((str(generation),), seconds)
        if self.log_ms and seconds * 1000 >= self.log_ms:
            log.warning(
                "event=gc_pause generation=%d ms=%.1f collected=%d",
                generation,
                seconds * 1000,
                int(info["collected"]),
            )
