"""Failed-login limits per user and per address, over a sliding window."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from time import monotonic


class LoginLimiter:
    def __init__(
        self,
        per_user: int = 5,
        per_address: int = 20,
        window_s: float = 300.0,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        self.per_user = per_user
        self.per_address = per_address
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def attempt(self, user: str, address: str) -> bool:
        """Reserve an attempt, counted as a failure until :meth:`succeeded` says otherwise:
        checking and counting in one step, so parallel guesses cannot all pass the check
        before any is counted. ``False``: too many; the attempt is refused uncounted."""
        now = self.clock()
        with self._lock:
            keys = (f"u:{user}", f"a:{address}")
            if self._count(keys[0]) >= self.per_user or self._count(keys[1]) >= self.per_address:
                return False
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > 100_000:  # many names tried: forget the expired ones
                for key in list(self._failures):
                    self._count(key)
            return True

    def succeeded(self, user: str, address: str) -> None:
        """The reserved attempt was right: the user starts afresh, the address gets it back."""
        with self._lock:
            self._failures.pop(f"u:{user}", None)
            times = self._failures.get(f"a:{address}")
            if times:
                times.pop()

    def _count(self, key: str) -> int:
        times = self._failures.get(key)
        if not times:
            return 0
        horizon = self.clock() - self.window_s
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._failures[key]
        return len(times)
