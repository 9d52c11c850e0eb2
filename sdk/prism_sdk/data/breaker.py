"""A circuit breaker: after a connection failure, fail fast for a cooldown.

A dead server would otherwise cost a full timeout on every read of every request.
While open, :meth:`CircuitBreaker.check` raises at once; when the cooldown ends, the
next call probes the server (the others keep failing fast for another cooldown) and
its success closes the breaker. Recovery needs no restart and causes no reconnect
storm: at most one probe per cooldown per process.
"""

from __future__ import annotations

from time import monotonic


class BackendUnavailable(ConnectionError):
    """Refused without trying: the backend failed less than a cooldown ago."""


class CircuitBreaker:
    """``check()`` before a call, ``failure(exc)`` on a connection error, ``success()`` after."""

    __slots__ = ("_cause", "_open_until", "cooldown_s")

    def __init__(self, cooldown_s: float = 1.0) -> None:
        self.cooldown_s = cooldown_s
        self._open_until = 0.0  # 0: closed
        self._cause = ""

    @property
    def is_open(self) -> bool:
        return self._open_until > 0.0

    def check(self) -> None:
        """Raise :class:`BackendUnavailable` while open; let one probe through after."""
        if self._open_until:
            now = monotonic()
            if now < self._open_until:
                left = self._open_until - now
                raise BackendUnavailable(f"circuit open for {left:.2f} s after {self._cause}")
            self._open_until = now + self.cooldown_s

    def failure(self, exc: BaseException) -> None:
        self._cause = f"{type(exc).__name__}: {exc}"
        self._open_until = monotonic() + self.cooldown_s

    def success(self) -> None:
        self._open_until = 0.0
