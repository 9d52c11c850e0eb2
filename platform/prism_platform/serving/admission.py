"""Admission control for ``/v1/recommend``: answer at once what cannot start in time.

A node's strategies run on its event loop one request at a time, so under overload
requests wait in the loop's queue, past any deadline, and are still served: the queue,
not the code, sets the latency, and every late answer costs as much as a useful one.

An admitted request is expected to be answered within ``share`` of its scene's deadline.
Its arrival is when the HTTP server created the request's task, on parsing its headers
(a task factory on the serving loop, :meth:`Admission.install`, stamps each task's
creation time, and how long the node had spent serving requests by then, into a
context variable; the server gives the app no such time). That is after it sat unread
while the loop ran the request before it (up to one service time, unseen), and its own
work takes a service time too, so it may wait to start ``share`` of the deadline less
twice the service time (an EWMA of the dispatch-to-answer time of admitted requests),
and at least ``MIN_WAIT_SHARE`` of it: a strategy too slow for any wait is still served
when the node is free. What counts is the wait for other requests (:meth:`queued`), not
for the loop held by something else (a deploy's build on another thread, the
collector): a stall says nothing about the load and refuses nothing. It is refused
(``503`` with ``Retry-After``; a scene with ``on_overload: standby`` answers with its
standby page instead, so then the body is read first to learn the scene)

* before its body is read, when it has already waited longer than the most lenient
  scene allows, or when the requests in flight ahead of it (strategies that await data
  interleave) would take longer than that at their measured service time; refusing
  costs microseconds, so a backlog drains at once;
* before dispatch, when it has waited longer than its own scene allows. A request
  that waited at all (``POLL_AFTER_S``: the loop ran others first) lets the loop poll
  its sockets once before that check (one loop turn): the requests that arrived while
  the loop ran the one before are stamped then, not after every request queued with
  it, so what they wait unseen stays within a service time.

The node therefore spends its time on answers that can still be on time.
``overloaded`` stays true for ``HOLD_S`` after the last refusal (``/readyz`` answers
503 then, so a load balancer steers away); the first refusal of each such spell is
logged (``event=overloaded``).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Coroutine, Generator
from contextvars import ContextVar, copy_context
from typing import Any

HOLD_S = 1.0  # /readyz reports overload this long after the last refusal
ALPHA = 0.05  # weight of a slower newest service time in the moving average
ALPHA_DOWN = 0.3  # of a faster one
RETRY_AFTER_S = 1
MIN_WAIT_SHARE = 0.1  # of the deadline: the wait allowed however slow the strategy
POLL_AFTER_S = 0.001  # a request that waited longer lets the loop poll before it starts

Arrival = tuple[float, float]
"""When a request arrived (the clock), and the node's ``busy_s`` then."""
_CREATED: ContextVar[Arrival] = ContextVar("prism_task_created")


class Admission:
    def __init__(self, share: float = 0.9, clock: Callable[[], float] = time.monotonic) -> None:
        self.share = share
        """Of a scene's deadline, the share within which an admitted request is expected
        to be answered (0: never refuse)."""
        self.clock = clock
        self.in_flight = 0
        self.service_s = 0.0
        self.busy_s = 0.0
        """Seconds spent serving admitted requests, all told: what a request waited
        for them is the growth of this since it arrived."""
        self.refused = 0
        self._last_refusal = -math.inf

    @property
    def enabled(self) -> bool:
        return self.share > 0

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Stamp every task ``loop`` creates from now on with its creation time."""
        previous = loop.get_task_factory()
        clock = self.clock
        admission = self

        def factory(
            loop: asyncio.AbstractEventLoop,
            coro: Coroutine[Any, Any, Any] | Generator[Any, None, Any],
            **kwargs: Any,
        ) -> asyncio.Future[Any]:
            context = kwargs.pop("context", None) or copy_context()
            context.run(_CREATED.set, (clock(), admission.busy_s))
            if previous is not None:
                return previous(loop, coro, context=context, **kwargs)  # type: ignore[call-arg]
            return asyncio.Task(coro, loop=loop, context=context, **kwargs)

        if self.enabled:
            loop.set_task_factory(factory)

    def arrival(self) -> Arrival:
        """When the current task was created (now, without :meth:`install`)."""
        return _CREATED.get(None) or (self.clock(), self.busy_s)

    def waited(self, arrived: Arrival) -> float:
        """How long ago the request arrived."""
        return self.clock() - arrived[0]

    def queued(self, arrived: Arrival) -> float:
        """How long the request has waited for other requests: not for the loop held
        by something else (a deploy's build on a thread, the collector), which says
        nothing about the load."""
        return min(self.waited(arrived), self.busy_s - arrived[1])

    def budget_s(self, deadline_s: float) -> float:
        """How long a request of a scene with ``deadline_s`` may wait to start."""
        return max(deadline_s * self.share - 2 * self.service_s, deadline_s * MIN_WAIT_SHARE)

    def room(self, longest_deadline_s: float) -> bool:
        """Whether a request arriving now can start within the most lenient scene's
        budget, behind the requests already in flight."""
        if not self.enabled or self.in_flight == 0:
            return True
        return self.in_flight * self.service_s <= self.budget_s(longest_deadline_s)

    def in_time(self, arrived: Arrival, deadline_s: float) -> bool:
        """Whether a request that ``arrived`` may still start."""
        return not self.enabled or self.queued(arrived) <= self.budget_s(deadline_s)

    def served(self, seconds: float) -> None:
        """An admitted request took ``seconds`` from dispatch to its answer. The average
        follows a faster service time quickly and a slower one slowly, a sample counting
        as at most twice the average: a cold first call after a deploy or one request
        held up by a stall must not make the node refuse what it can serve."""
        self.busy_s += seconds
        cur = self.service_s
        if cur == 0.0:
            self.service_s = seconds
        elif seconds < cur:
            self.service_s = cur + ALPHA_DOWN * (seconds - cur)
        else:
            self.service_s = cur + ALPHA * (min(seconds, 2 * cur) - cur)

    def refuse(self) -> None:
        self.refused += 1
        self._last_refusal = self.clock()

    @property
    def overloaded(self) -> bool:
        return self.clock() - self._last_refusal < HOLD_S
