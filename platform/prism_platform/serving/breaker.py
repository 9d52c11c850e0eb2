"""Circuit breakers: a strategy that keeps failing is taken off the request path.

One breaker per (scene, bucket, strategy@version). Every recorded request counts in a
rolling window of one-second slots; when at least ``min_requests`` fell in the window
and ``failure_rate`` of them failed (an exception, the deadline, a bad result), the
breaker opens: the bucket is answered by the scene's fallback, without calling the
strategy, for ``cool_down_s``. Then it is half-open: ``probes`` requests try the
strategy; if they all succeed it closes, if one fails it opens again for twice the
cool-down (up to ``max_cool_down_s``). A rollback or a new version is another key, so it
starts closed; the breakers of routes no longer served are dropped at each swap.

Called from the event loop only (the dispatcher); the status read from other threads
copies the dict first.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("prism.breaker")

BreakerKey = tuple[str, str, str, str]
"""(scene, bucket, strategy, version)."""

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(frozen=True)
class BreakerPolicy:
    failure_rate: float = 0.5  # 0: never open
    min_requests: int = 20
    window_s: int = 10
    cool_down_s: float = 10.0
    max_cool_down_s: float = 300.0
    probes: int = 5

    @property
    def enabled(self) -> bool:
        return self.failure_rate > 0


class Breaker:
    __slots__ = (
        "policy", "state", "_slots", "_stamps", "opened_at", "open_until", "cool_down_s",
        "_probing", "_probed", "last_failure", "opened",
    )  # fmt: skip

    def __init__(self, policy: BreakerPolicy) -> None:
        self.policy = policy
        self.state = CLOSED
        n = max(policy.window_s, 1)
        self._slots = [[0, 0] for _ in range(n)]  # [requests, failures] per second
        self._stamps = [-1] * n
        self.opened_at = 0.0
        self.open_until = 0.0
        self.cool_down_s = policy.cool_down_s
        self._probing = 0  # half-open: trial requests let through
        self._probed = 0  # half-open: of which succeeded
        self.last_failure = ""
        self.opened = 0  # times opened

    def allow(self, now: float) -> bool:
        """Whether this request may call the strategy (half-open: a probe)."""
        if self.state == CLOSED:
            return True
        if self.state == OPEN:
            if now < self.open_until:
                return False
            self.state, self._probing, self._probed = HALF_OPEN, 0, 0
        if self._probing < self.policy.probes:
            self._probing += 1
            return True
        return False

    def record(self, ok: bool, now: float, failure: str = "") -> str | None:
        """Count one request that called the strategy; the new state if it changed."""
        if self.state == OPEN:  # a request that started before it opened
            return None
        if not ok:
            self.last_failure = failure
        if self.state == HALF_OPEN:
            if not ok:
                self.cool_down_s = min(self.cool_down_s * 2, self.policy.max_cool_down_s)
                return self._open(now)
            self._probed += 1
            if self._probed >= self.policy.probes:
                self.state, self.cool_down_s = CLOSED, self.policy.cool_down_s
                self._reset()
                return CLOSED
            return None
        sec = int(now)
        i = sec % len(self._slots)
        if self._stamps[i] != sec:
            self._stamps[i], self._slots[i] = sec, [0, 0]
        self._slots[i][0] += 1
        self._slots[i][1] += not ok
        if ok:
            return None
        requests, failures = self.window(now)
        p = self.policy
        if requests >= p.min_requests and failures >= p.failure_rate * requests:
            return self._open(now)
        return None

    def window(self, now: float) -> tuple[int, int]:
        """Requests and failures recorded in the last ``window_s`` seconds."""
        oldest = int(now) - len(self._slots)
        live = [s for s, t in zip(self._slots, self._stamps, strict=True) if t > oldest]
        return sum(s[0] for s in live), sum(s[1] for s in live)

    def _open(self, now: float) -> str:
        """Open now, for the current cool-down."""
        self.state, self.opened_at = OPEN, now
        self.open_until = now + self.cool_down_s
        self.opened += 1
        self._reset()
        return OPEN

    def _reset(self) -> None:
        self._stamps = [-1] * len(self._stamps)


class Breakers:
    """Every breaker of a node, by route key; ``on_change(key, state, breaker)`` is called
    at each transition (metrics, log)."""

    def __init__(
        self,
        policy: BreakerPolicy = BreakerPolicy(),
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerKey, str, Breaker], None] | None = None,
    ) -> None:
        self.policy = policy
        self.clock = clock
        self._on_change = on_change
        self._breakers: dict[BreakerKey, Breaker] = {}

    def allow(self, key: BreakerKey) -> bool:
        if not self.policy.enabled:
            return True
        b = self._breakers.get(key)
        if b is None:
            return True
        was = b.state
        allowed = b.allow(self.clock())
        if b.state != was:
            self._changed(key, b)
        return allowed

    def record(self, key: BreakerKey, ok: bool, failure: str = "") -> None:
        if not self.policy.enabled:
            return
        b = self._breakers.get(key)
        if b is None:
            b = self._breakers[key] = Breaker(self.policy)
        if b.record(ok, self.clock(), failure) is not None:
            self._changed(key, b)

    def force_open(self, key: BreakerKey, cool_down_s: float, failure: str) -> None:
        """Open ``key``'s breaker for ``cool_down_s`` whatever its counts (a hung
        strategy: see ``hang``)."""
        b = self._breakers.get(key)
        if b is None:
            b = self._breakers[key] = Breaker(self.policy)
        now = self.clock()
        b.last_failure, b.cool_down_s = failure, cool_down_s
        b._open(now)
        self._changed(key, b)

    def keep_only(self, live: Iterable[BreakerKey]) -> None:
        """Drop the breakers of routes no longer served (after a swap)."""
        keep = set(live)
        self._breakers = {k: b for k, b in self._breakers.items() if k in keep}

    def state(self, key: BreakerKey) -> str:
        b = self._breakers.get(key)
        return CLOSED if b is None else b.state

    def status(self) -> list[dict[str, Any]]:
        """The breakers not closed (open or half-open), for ``prism status``."""
        now = self.clock()
        out = []
        for (scene, bucket, strategy, version), b in list(self._breakers.items()):
            if b.state == CLOSED:
                continue
            out.append(
                {
                    "scene": scene,
                    "bucket": bucket,
                    "strategy": strategy,
                    "version": version,
                    "state": b.state,
                    "open_for_s": round(now - b.opened_at, 1),
                    "retry_in_s": round(max(b.open_until - now, 0.0), 1),
                    "opened": b.opened,
                    "last_failure": b.last_failure,
                }
            )
        return out

    def _changed(self, key: BreakerKey, b: Breaker) -> None:
        scene, bucket, strategy, version = key
        level = logging.WARNING if b.state == OPEN else logging.INFO
        log.log(
            level,
            "event=breaker_%s scene=%s bucket=%s strategy=%s@%s cool_down_s=%.0f last_failure=%s",
            b.state, scene, bucket, strategy, version, b.cool_down_s, b.last_failure,
        )  # fmt: skip
        if self._on_change is not None:
            self._on_change(key, b.state, b)
