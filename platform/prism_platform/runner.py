"""Run a strategy under a hard deadline without leaving the event loop's thread.

Sync strategies run inline (a thread hop would cost more than the whole
platform overhead); on the main thread a one-shot ``ITIMER_REAL`` alarm raises
:class:`DeadlineExceeded` inside the script when it overruns. Elsewhere (worker
threads, tests), the overrun is detected when the call returns. Async strategies
are bounded with ``asyncio.timeout``; the alarm is never armed across an await.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from time import monotonic
from types import FrameType
from typing import Any

from prism_sdk import Context, DeadlineExceeded

from .strategy import Strategy

_armed: list[bool] = [False]
_alarm_ok = False
_MAIN_THREAD_ID = threading.main_thread().ident


def install_alarm() -> bool:
    """Install the SIGALRM handler (main thread only); returns whether hard deadlines work."""
    global _alarm_ok
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        return False
    previous = signal.getsignal(signal.SIGALRM)
    if previous not in (signal.SIG_DFL, signal.SIG_IGN, None, _on_alarm):
        return False  # somebody else owns SIGALRM; fall back to soft deadlines
    signal.signal(signal.SIGALRM, _on_alarm)
    _alarm_ok = True
    return True


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    if _armed[0]:
        _armed[0] = False
        raise DeadlineExceeded("strategy overran the scene deadline")


def run_sync(strategy: Strategy, ctx: Context[Any], timeout_s: float) -> Any:
    """Call a sync strategy; raises DeadlineExceeded when it takes longer than ``timeout_s``."""
    hard = _alarm_ok and threading.get_ident() == _MAIN_THREAD_ID
    t0 = monotonic()
    if hard:
        try:
            _armed[0] = True
            signal.setitimer(signal.ITIMER_REAL, max(timeout_s, 1e-4))
            result = strategy.call(ctx)
        finally:
            _armed[0] = False
            signal.setitimer(signal.ITIMER_REAL, 0)
    else:
        result = strategy.call(ctx)
    if monotonic() - t0 > timeout_s:
        raise DeadlineExceeded("strategy overran the scene deadline")
    return result


async def run_async(strategy: Strategy, ctx: Context[Any], timeout_s: float) -> Any:
    try:
        async with asyncio.timeout(timeout_s):
            return await strategy.call(ctx)
    except TimeoutError:
        raise DeadlineExceeded("strategy overran the scene deadline") from None
