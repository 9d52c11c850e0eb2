"""Hung strategies: a sync script blocked where the deadline's interrupt cannot reach it
(``time.sleep``, a long C call, a lock) holds the thread it runs on — the node's event
loop — and with it every request of the worker.

The runner's watchdog tells :meth:`Hangs.report` when a call is still running
``PRISM_HANG_GRACE_S`` after its interrupt fired. The node then

1. logs ``event=strategy_hung`` with the script's stack, at error level;
2. opens the route's circuit breaker and records the route in ``var/hung.json``;
3. restarts the stuck worker (:func:`restart_worker`: under ``--workers N`` the worker
   exits and the supervisor starts a fresh one while the others serve; a single worker
   re-executes itself and binds its port again) — only in processes started by
   ``prism serve``; an app embedded elsewhere keeps its thread and only reports.

A node opens, when it starts, the breakers of the routes recorded within their
cool-down (doubled for each hang of the same route, up to the breaker's maximum), so the
restarted worker answers them from the fallback instead of hanging again; the breaker's
trial requests after the cool-down find out whether the script still hangs.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prism_platform.serving.breaker import BreakerKey, Breakers

log = logging.getLogger("prism.hang")

HUNG_FILE = "hung.json"
RESTART_EXIT_CODE = 70  # EX_SOFTWARE; not 3, uvicorn's STARTUP_FAILURE (it would stop the node)


class HungRoutes:
    """``var/hung.json``: each hung route's last hang (wall-clock time) and count."""

    def __init__(self, var_dir: Path) -> None:
        self.path = Path(var_dir) / HUNG_FILE
        self._lock = threading.Lock()

    def load(self) -> dict[BreakerKey, tuple[float, int]]:
        try:
            rows = json.loads(self.path.read_text())
            return {
                (r["scene"], r["bucket"], r["strategy"], r["version"]): (
                    float(r["at"]),
                    int(r["hangs"]),
                )
                for r in rows
            }
        except (OSError, ValueError, KeyError, TypeError):
            return {}

    def record(self, key: BreakerKey, now: float) -> int:
        """Count a hang of ``key``; how many it has had (atomic replace of the file)."""
        with self._lock:
            routes = self.load()
            hangs = routes.get(key, (0.0, 0))[1] + 1
            routes[key] = (now, hangs)
            rows = [
                {"scene": k[0], "bucket": k[1], "strategy": k[2], "version": k[3]}
                | {"at": at, "hangs": n}
                for k, (at, n) in routes.items()
            ]
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(rows, indent=1))
            os.replace(tmp, self.path)
            return hangs


class Hangs:
    """What a node does about a hung strategy (see the module's docstring)."""

    def __init__(
        self,
        breakers: Breakers,
        routes: HungRoutes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.breakers = breakers
        self.routes = routes
        self.clock = clock
        self.restart: Callable[[], None] | None = None
        """Set in processes ``prism serve`` started: restarts this worker."""

    def report(self, label: Any, tid: int, stuck_s: float) -> None:
        """The runner's ``on_hang``: ``label`` is the route's breaker key; called from the
        watchdog's thread while the call is still blocked in thread ``tid``."""
        key: BreakerKey = label
        frame = sys._current_frames().get(tid)
        stack = "".join(traceback.format_stack(frame)) if frame is not None else "?"
        hangs = self.routes.record(key, self.clock())
        cool_down = self._cool_down(hangs)
        self.breakers.force_open(key, cool_down, "hung")
        log.error(
            "event=strategy_hung scene=%s bucket=%s strategy=%s@%s stuck_s=%.1f hangs=%d "
            "cool_down_s=%.0f restart=%s\n%s",
            *key, stuck_s, hangs, cool_down, self.restart is not None, stack,
        )  # fmt: skip
        if self.restart is not None:
            for handler in logging.getLogger().handlers:
                handler.flush()
            self.restart()

    def reopen(self) -> int:
        """At start: open the breakers of the routes that hung within their cool-down;
        how many."""
        now = self.clock()
        opened = 0
        for key, (at, hangs) in self.routes.load().items():
            left = at + self._cool_down(hangs) - now
            if left > 0:
                self.breakers.force_open(key, left, "hung")
                opened += 1
                log.warning(
                    "event=breaker_open_after_hang scene=%s bucket=%s strategy=%s@%s "
                    "retry_in_s=%.0f",
                    *key, left,
                )  # fmt: skip
        return opened

    def _cool_down(self, hangs: int) -> float:
        p = self.breakers.policy
        return float(min(p.cool_down_s * 2 ** (hangs - 1), p.max_cool_down_s))


def restart_worker() -> None:
    """Replace this stuck worker: exit for the supervisor under ``--workers N``, else
    re-execute the same command line (the listening socket closes on exec and the new
    process binds the port again)."""
    if int(os.environ.get("PRISM_WORKERS", "1")) > 1:
        os._exit(RESTART_EXIT_CODE)
    os.execv(sys.executable, sys.orig_argv)
