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

    def allowed(self, user: str, address: str) -> bool:
        """Whether another attempt may be made now."""
        with self._lock:
            return self._count(f"u:{user}") < self.per_user and (
                self._count(f"a:{address}") < self.per_address
            )

    def failed(self, user: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key in (f"u:{user}", f"a:{address}"):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{user}", None)

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
