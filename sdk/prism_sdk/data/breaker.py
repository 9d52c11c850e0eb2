"""A circuit breaker: after a connection failure, fail fast for a cooldown.

A dead server would otherwise cost a full timeout on every read of every request.
While open, :meth:`CircuitBreaker.check` raises at once; when the cooldown ends, the
next call probes the server (the others keep failing fast for another cooldown) and
its success closes the breaker. Recovery needs no restart and causes no reconnect
storm: at most one probe per cooldown per process.

Reads carry a time budget (per scene). A timeout only shows the server was slower
than *that* budget, so it opens the breaker for reads with no larger budget; a read
allowed to wait longer still tries (and, timing out too, raises the bar). A refused
connection opens it for every read.
"""

from __future__ import annotations

from math import inf
from time import monotonic


class BackendUnavailable(ConnectionError):
    """Refused without trying: the backend failed less than a cooldown ago."""


class CircuitBreaker:
    """``check(budget_s)`` before a call, ``failure(exc, budget_s)`` on a connection
    error or timeout (``budget_s``: what the call could wait; ``inf`` for a refused
    connection), ``success()`` after."""

    __slots__ = ("_cause", "_failed_budget_s", "_open_until", "cooldown_s")

    def __init__(self, cooldown_s: float = 1.0) -> None:
        self.cooldown_s = cooldown_s
        self._open_until = 0.0  # 0: closed
        self._failed_budget_s = 0.0
        self._cause = ""

    @property
    def is_open(self) -> bool:
        return self._open_until > 0.0

    def check(self, budget_s: float = inf) -> None:
        """Raise :class:`BackendUnavailable` while open for ``budget_s``; let one probe
        through after the cooldown."""
        if self._open_until:
            now = monotonic()
            if now < self._open_until:
                if budget_s > self._failed_budget_s:
                    return  # may wait longer than the read that failed: try
                left = self._open_until - now
                raise BackendUnavailable(f"circuit open for {left:.2f} s after {self._cause}")
            self._open_until = now + self.cooldown_s

    def failure(self, exc: BaseException, budget_s: float = inf) -> None:
        now = monotonic()
        if now >= self._open_until:
            self._failed_budget_s = budget_s
        else:
            self._failed_budget_s = max(self._failed_budget_s, budget_s)
        self._cause = f"{type(exc).__name__}: {exc}"
        self._open_until = now + self.cooldown_s

    def success(self) -> None:
        self._open_until = 0.0
