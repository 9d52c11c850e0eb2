"""Run a strategy under a hard deadline without leaving the caller's thread.

Sync strategies run inline (a thread hop would cost more than the whole platform
overhead). A watchdog thread interrupts a call that overruns by raising
:class:`DeadlineExceeded` inside it (``PyThreadState_SetAsyncExc``), so a busy
loop that never checks ``ctx.remaining_ms`` is still stopped, within a couple of
milliseconds of its deadline. Arming costs two attribute writes and no system
call: an ``ITIMER_REAL`` alarm per request cost ~12 µs of kernel time here (a
timer reprogram is a VM exit). Like a signal, the exception lands at the next
bytecode boundary, so a long C call (one huge numpy op) finishes first; the
overrun is then also caught when the call returns. Async strategies are bounded
with ``asyncio.timeout``.

A call that is still running ``hang_after_s`` after its interrupt fired is blocked
where no interrupt reaches (``time.sleep``, a long C call): the watchdog then calls the
call's ``on_hang(label, thread id, seconds stuck)`` once, from its own thread (the
caller's thread, often the event loop's, is the one stuck).

While calls are armed the watchdog does not tick: it sleeps until the nearest deadline
(or hang check), and a call armed with a deadline before the watchdog's next wake-up
(a scene with a shorter deadline) wakes it. A thread waking every couple of
milliseconds wants the GIL while a request runs, and then every numpy call that
releases the GIL hands it over (a futex wake each): about 5 % of a numpy-heavy
strategy's throughput on a saturated worker. With nothing armed it sleeps as long as
the last call it saw had left (at most a second), so the next call of the same scene
does not have to wake it either.
"""

from __future__ import annotations

import asyncio
import ctypes
import math
import threading
from collections.abc import Callable
from time import monotonic
from typing import Any

from prism_platform.scripts.strategy import Strategy
from prism_sdk import Context, DeadlineExceeded

_TICK_S = 0.002
"""The least the watchdog sleeps: an overrun is caught within this of its deadline."""
_IDLE_MAX_S = 1.0
_SetAsyncExc = ctypes.pythonapi.PyThreadState_SetAsyncExc


def _interrupt(tid: int) -> None:
    _SetAsyncExc(ctypes.c_ulong(tid), ctypes.py_object(DeadlineExceeded))


def _clear_interrupt(tid: int) -> None:
    _SetAsyncExc(ctypes.c_ulong(tid), None)  # NULL: drop a pending interrupt


OnHang = Callable[[Any, int, float], None]
"""Called with the call's label, its thread id and how long it has been stuck."""


class _Guard:
    """One thread's armed call: its deadline, whether the watchdog fired, and whom to
    tell when it hangs."""

    __slots__ = ("deadline", "fired", "hung", "label", "on_hang")

    def __init__(self) -> None:
        self.deadline = 0.0  # 0: not armed
        self.fired = False
        self.hung = False
        self.label: Any = None
        self.on_hang: OnHang | None = None


class Watchdog:
    """Interrupts calls that outlive their deadline, in whatever thread they run."""

    def __init__(self, tick_s: float = _TICK_S, hang_after_s: float = 5.0) -> None:
        self.tick_s = tick_s
        self.hang_after_s = hang_after_s
        """How long past its interrupt a call may still run before it counts as hung."""
        self.idle_s = tick_s
        """How long it sleeps with nothing armed: what the last call it saw had left."""
        self.wake_at = 0.0
        """When the watchdog looks next (``math.inf`` while it looks): a call due
        before then calls :meth:`wake`."""
        self._guards: dict[int, _Guard] = {}
        self._lock = threading.Lock()
        self._bell = threading.Lock()
        """Held while no wake-up is pending; :meth:`wake` releases it (one C call: an
        interrupt landing in the arming thread cannot leave it half done, as it could a
        ``threading.Event``, whose lock it would leave held)."""
        self._bell.acquire()
        self._thread: threading.Thread | None = None

    def guard(self) -> _Guard:
        tid = threading.get_ident()
        g = self._guards.get(tid)
        if g is None:
            g = self._guards[tid] = _Guard()
            self._start()
        return g

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="prism-watchdog")
                self._thread.daemon = True
                self._thread.start()

    def disarm(self, g: _Guard) -> None:
        with self._lock:  # the watchdog fires only under this lock
            g.deadline = 0.0
            if g.fired:  # an interrupt still pending must not escape into platform code
                _clear_interrupt(threading.get_ident())

    def wake(self) -> None:
        """A call is armed with a deadline before the watchdog's next look: look now."""
        try:
            self._bell.release()
        except RuntimeError:  # released already: a wake-up is pending
            pass

    def _run(self) -> None:
        while True:
            self.wake_at = math.inf  # a call armed from here on rings the bell
            self._bell.acquire(blocking=False)  # a ring before this: the look below sees it
            now = monotonic()
            sleep_s = self._check(now)
            self.wake_at = now + sleep_s
            self._bell.acquire(timeout=sleep_s)

    def _check(self, now: float) -> float:
        """Fire what is due; how long to sleep until something may be."""
        nearest = math.inf
        hang_after = self.hang_after_s
        for tid, g in list(self._guards.items()):
            d = g.deadline
            if not d:
                continue
            if not g.fired:
                if now < d:
                    nearest = min(nearest, d)
                    continue
                with self._lock:
                    if g.deadline == d and not g.fired:
                        g.fired = True
                        _interrupt(tid)
                nearest = min(nearest, d + hang_after)
            elif not g.hung:
                if now >= d + hang_after:
                    g.hung = True
                    if g.on_hang is not None:
                        self._report(g, tid, now - d)
                else:
                    nearest = min(nearest, d + hang_after)
        if nearest == math.inf:
            return self.idle_s
        ahead = max(self.tick_s, nearest - now)
        self.idle_s = min(ahead, _IDLE_MAX_S)
        return ahead

    @staticmethod
    def _report(g: _Guard, tid: int, stuck_s: float) -> None:
        try:
            g.on_hang(g.label, tid, stuck_s)  # type: ignore[misc]
        except Exception:  # the watchdog must keep running
            import logging

            logging.getLogger("prism.runner").exception("event=hang_handler_failed")


WATCHDOG = Watchdog()


def run_sync(
    strategy: Strategy,
    ctx: Context[Any],
    timeout_s: float,
    label: Any = None,
    on_hang: OnHang | None = None,
) -> Any:
    """Call a sync strategy; raises DeadlineExceeded when it takes longer than
    ``timeout_s``; ``on_hang(label, …)`` if it is still running ``hang_after_s`` after."""
    g = WATCHDOG.guard()
    t0 = monotonic()
    g.fired = g.hung = False
    g.label, g.on_hang = label, on_hang
    g.deadline = deadline = t0 + timeout_s
    try:  # armed: an interrupt may land from here on
        if deadline < WATCHDOG.wake_at:
            WATCHDOG.wake()
        result = strategy.call(ctx)
    finally:
        if g.fired:
            WATCHDOG.disarm(g)
        else:
            g.deadline = 0.0
            if g.fired:  # fired between the check and the write
                WATCHDOG.disarm(g)
    if monotonic() - t0 > timeout_s:
        raise DeadlineExceeded("strategy overran the scene deadline")
    return result


async def run_async(strategy: Strategy, ctx: Context[Any], timeout_s: float) -> Any:
    try:
        async with asyncio.timeout(timeout_s):
            return await strategy.call(ctx)
    except TimeoutError:
        raise DeadlineExceeded("strategy overran the scene deadline") from None
