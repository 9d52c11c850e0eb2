"""Admission control for ``/v1/recommend``: answer at once what cannot start in time.

A node's strategies run on its event loop one request at a time, so under overload
requests wait in the loop's queue, past any deadline, and are still served: the queue,
not the code, sets the latency, and every late answer costs as much as a useful one.

A request may wait ``wait_share`` of its scene's deadline to start, counted from its
arrival: when the HTTP server created the request's task, on parsing its headers (a
task factory on the serving loop, :meth:`Admission.install`, stamps each task's
creation time into a context variable; the server gives the app no such time). It is
refused (``503`` with ``Retry-After``)

* before its body is read, when it has already waited longer than the most lenient
  scene allows, or when the requests in flight ahead of it (strategies that await data
  interleave) would take longer than that at their measured service time (an EWMA of
  the dispatch-to-answer time of admitted requests); refusing costs microseconds, so a
  backlog drains at once;
* before dispatch, when it has waited longer than its own scene allows.

Admitted requests therefore start within ``wait_share`` of their deadline, and the node
spends its time on answers that can still be on time. ``overloaded`` stays true for
``HOLD_S`` after the last refusal (``/readyz`` answers 503 then, so a load balancer
steers away)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Coroutine, Generator
from contextvars import ContextVar, copy_context
from typing import Any

HOLD_S = 1.0  # /readyz reports overload this long after the last refusal
ALPHA = 0.05  # weight of the newest service time in the moving average
RETRY_AFTER_S = 1

_CREATED: ContextVar[float] = ContextVar("prism_task_created")


class Admission:
    def __init__(
        self, wait_share: float = 0.5, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.wait_share = wait_share
        """Of a scene's deadline, how long a request may wait to start (0: never refuse)."""
        self.clock = clock
        self.in_flight = 0
        self.service_s = 0.0
        self.refused = 0
        self._last_refusal = -math.inf

    @property
    def enabled(self) -> bool:
        return self.wait_share > 0

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Stamp every task ``loop`` creates from now on with its creation time."""
        previous = loop.get_task_factory()
        clock = self.clock

        def factory(
            loop: asyncio.AbstractEventLoop,
            coro: Coroutine[Any, Any, Any] | Generator[Any, None, Any],
            **kwargs: Any,
        ) -> asyncio.Future[Any]:
            context = kwargs.pop("context", None) or copy_context()
            context.run(_CREATED.set, clock())
            if previous is not None:
                return previous(loop, coro, context=context, **kwargs)  # type: ignore[call-arg]
            return asyncio.Task(coro, loop=loop, context=context, **kwargs)

        if self.enabled:
            loop.set_task_factory(factory)

    def arrival(self) -> float:
        """When the current task was created (now, without :meth:`install`)."""
        return _CREATED.get(None) or self.clock()

    def budget_s(self, deadline_s: float) -> float:
        return deadline_s * self.wait_share

    def room(self, longest_deadline_s: float) -> bool:
        """Whether a request arriving now can start within the most lenient scene's
        budget, behind the requests already in flight."""
        if not self.enabled or self.in_flight == 0:
            return True
        return self.in_flight * self.service_s <= self.budget_s(longest_deadline_s)

    def in_time(self, arrived: float, deadline_s: float) -> bool:
        """Whether a request that arrived at ``arrived`` may still start."""
        return not self.enabled or self.clock() - arrived <= self.budget_s(deadline_s)

    def served(self, seconds: float) -> None:
        """An admitted request took ``seconds`` from dispatch to its answer."""
        self.service_s = seconds if self.service_s == 0.0 else (
            self.service_s + ALPHA * (seconds - self.service_s)
        )  # fmt: skip

    def refuse(self) -> None:
        self.refused += 1
        self._last_refusal = self.clock()

    @property
    def overloaded(self) -> bool:
        return self.clock() - self._last_refusal < HOLD_S
