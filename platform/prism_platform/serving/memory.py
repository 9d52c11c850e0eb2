"""Memory growth per route: a strategy that keeps objects alive request after request
(a module-level list it appends to, a cache without a bound) is reported while the node
keeps serving.

**What is measured.** One recommend request in ``every`` (a countdown per request, no
other cost) is measured whole, from before routing until its answer is bytes: the young
generation is collected, then the interpreter's allocated memory blocks are counted
(``sys.getallocatedblocks``, less the item ids the process vocabulary learned: a cache
the platform keeps, bounded by the catalogue), before and after. The difference is what
the request left alive: for a well-behaved route, a small constant (~5-20 objects of the
platform's own that die just after), whose bounded caches free an old entry for each
new one. A request the feature log or the replay log keeps is not measured (their
writer threads keep it alive a while: growth that is not the strategy's): the next
request is, instead; nothing is left out of the logs. The replay log's users are known
before the request (:meth:`MemoryWatch.skip`: passed on at no cost); the feature log's
requests only after it, when the measurement is paid for, so at most ``RETRIES`` of
those in a row pass it on before the watch waits ``every`` requests again
(:meth:`MemoryWatch.again`) — a scene whose every request a log keeps costs a measurement
or two per ``every`` requests, not one per request. It is attributed to the route
(``scene, bucket, strategy@version``) the request called.

**The verdict.** Each route's measured requests are taken ``window`` at a time; a window
whose mean exceeds the scene's ``retained_objects`` budget is over. Two windows over in
a row (a first one can hold a cold start: imports, caches filling) and the route is
reported: ``event=strategy_leak`` in the log, ``prism_strategy_leaks_total`` counts each
window over from then on, and ``memory`` in ``prism status`` and the workbench overview
show it, until a window is under again. The route keeps being called: its answers are
fine, and the verdict may name the wrong route (below), so rolling back is an
operator's call.

**Limits.** Blocks are counted, not bytes: a leaked 10 MB array is one or two; the
node's RSS shows bytes. CPython keeps freed small objects of some types on free lists
(tuples, floats, lists, dicts) still allocated: a route that frees them into the list and
one that takes them out swap that much growth, so with routes interleaved growth can be
blamed on a route that churns the same small objects as the one keeping them (the total
is right: a report means the node grows). A sync strategy runs without yielding the
event loop, so its request is measured alone but for other threads (the data backend's,
the writers'), noise around zero; an async one yields while it awaits, and requests that
run meanwhile count in its window (more noise, as many start as end).
A route whose every request a log keeps (a ranker's with ``PRISM_FEATURE_LOG_RATE=1``, a
scene sampling every user) is never measured: lower the rate to measure it.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Iterable
from typing import Any

from prism_platform.metrics.registry import Metrics
from prism_platform.serving.breaker import BreakerKey
from prism_sdk.data.vocabulary import VOCABULARY

log = logging.getLogger("prism.memory")

STREAK = 2
"""Windows over the budget in a row before a route is reported."""
RETRIES = 2
"""Measured requests a log kept in a row before the watch waits a whole period."""


def _older_collections() -> int:
    stats = gc.get_stats()
    return int(stats[1]["collections"] + stats[2]["collections"])


class _Route:
    __slots__ = ("budget", "kept", "last", "leaking", "over", "samples", "windows")

    def __init__(self) -> None:
        self.samples = 0
        self.kept = 0
        """Objects kept by the current window's samples so far."""
        self.last: float | None = None
        """The mean of the last full window."""
        self.budget = 0
        self.over = 0
        """Windows over the budget in a row."""
        self.windows = 0
        self.leaking = False


class MemoryWatch:
    """Samples requests (``every``: one in that many; ``0``: none) and judges each route
    on ``window`` of its samples at a time (see the module docstring)."""

    def __init__(self, metrics: Metrics, every: int = 256, window: int = 16) -> None:
        self.metrics = metrics
        self.every = every
        self.window = max(window, 1)
        self._left = every if every > 0 else -1
        self._retries = 0
        self._routes: dict[BreakerKey, _Route] = {}

    def due(self) -> bool:
        """Whether this request is measured (called once per request)."""
        self._left -= 1
        if self._left:
            return False
        self._left = self.every
        return True

    def skip(self) -> None:
        """The request :meth:`due` chose goes to a log, as known before it ran (nothing
        paid): the next one is measured instead."""
        if self.every > 0:
            self._left = 1

    def again(self) -> None:
        """The request :meth:`due` chose, measured, went to a log after all: the next one
        is measured, unless ``RETRIES`` in a row did; then one ``every`` requests on."""
        if self.every <= 0:
            return
        self._retries += 1
        if self._retries <= RETRIES:
            self._left = 1
        else:
            self._retries = 0
            self._left = self.every

    @staticmethod
    def mark() -> tuple[int, int]:
        """Before a measured request: the young garbage collected (so a collection during
        the request frees only the request's), the process's allocated blocks less the
        vocabulary's ids, and the collections of the older generations so far."""
        gc.collect(0)
        return sys.getallocatedblocks() - len(VOCABULARY), _older_collections()

    @staticmethod
    def kept(mark: tuple[int, int]) -> int | None:
        """After it: the blocks it left alive, its garbage collected; ``None`` when an
        older generation was collected meanwhile (it freed what earlier requests left:
        not this request's to count)."""
        gc.collect(0)
        blocks = sys.getallocatedblocks() - len(VOCABULARY)
        if _older_collections() != mark[1]:
            return None
        return blocks - mark[0]

    def record(self, key: BreakerKey, kept: int, budget: int) -> None:
        """A sampled request of route ``key`` left ``kept`` objects alive."""
        self._retries = 0
        r = self._routes.get(key)
        if r is None:
            r = self._routes[key] = _Route()
        r.samples += 1
        r.kept += kept
        if r.samples < self.window:
            return
        mean = r.kept / r.samples
        r.samples = r.kept = 0
        r.last, r.budget = mean, budget
        r.windows += 1
        if mean <= budget:
            if r.leaking:
                log.info(
                    "event=strategy_leak_ended scene=%s bucket=%s strategy=%s@%s "
                    "kept_per_request=%.1f budget=%d",
                    *key, mean, budget,
                )  # fmt: skip
            r.over, r.leaking = 0, False
            return
        r.over += 1
        if r.over < STREAK:
            return
        if not r.leaking:
            r.leaking = True
            log.warning(
                "event=strategy_leak scene=%s bucket=%s strategy=%s@%s kept_per_request=%.1f "
                "budget=%d windows=%d sampled_every=%d (it keeps objects alive request after "
                "request; still served: roll it back or fix it)",
                *key, mean, budget, r.over, self.every,
            )  # fmt: skip
        self.metrics.strategy_leaks.inc(key)

    def keep_only(self, live: Iterable[BreakerKey]) -> None:
        """Forget the routes no longer served (after a swap)."""
        keep = set(live)
        self._routes = {k: r for k, r in self._routes.items() if k in keep}

    def leaking(self, key: BreakerKey) -> bool:
        r = self._routes.get(key)
        return r is not None and r.leaking

    def status(self) -> dict[str, Any]:
        """For ``prism status``: how requests are sampled, and every route judged at
        least once (its last window's objects kept per request, its budget, whether it
        is reported)."""
        routes = []
        for (scene, bucket, strategy, version), r in list(self._routes.items()):
            if r.last is None:
                continue
            routes.append(
                {
                    "scene": scene,
                    "bucket": bucket,
                    "strategy": strategy,
                    "version": version,
                    "kept_per_request": round(r.last, 1),
                    "budget": r.budget,
                    "windows": r.windows,
                    "windows_over": r.over,
                    "leaking": r.leaking,
                }
            )
        return {"sample_every": self.every, "window": self.window, "routes": routes}
