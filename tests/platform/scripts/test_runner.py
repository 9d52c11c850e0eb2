import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from prism_platform.scripts.loader import load_strategy
from prism_platform.scripts.runner import WATCHDOG, run_async, run_sync
from prism_platform.scripts.sources import WorkTree
from prism_platform.scripts.strategy import Strategy
from prism_sdk import Context, DeadlineExceeded, LocalBackend, Request, StrategyConfig
from prism_sdk.data import DataClient

# Each slow script records that it ran to its end in FINISHED: an interrupted (or
# cancelled) call never gets there, which no timing on a busy machine can fake.
SLOW = """
import time
from prism_sdk import Item

FINISHED = []

def recommend(ctx):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # a busy loop that never checks the deadline
        pass
    FINISHED.append(ctx.user_id)
    return [Item("late")]
"""

ASYNC_SLOW = """
import asyncio
from prism_sdk import Item

FINISHED = []

async def recommend(ctx):
    await asyncio.sleep(5)
    FINISHED.append(ctx.user_id)
    return [Item("late")]
"""

SLEEPY = """
import time
from prism_sdk import Item

def recommend(ctx):
    time.sleep(0.3)  # holds no GIL: the watchdog could run all along
    return [Item("rested")]
"""

FAST = "from prism_sdk import Item\n\ndef recommend(ctx):\n    return [Item('ok')]\n"


def _strategy(tmp_path: Path, body: str) -> Strategy:
    (tmp_path / "s.py").write_text(body)
    return load_strategy(WorkTree(tmp_path), "s.py")


def _ctx() -> Context[Any]:
    return Context(Request(scene="x", user_id="1"), StrategyConfig(), DataClient(LocalBackend()))


def test_a_busy_sync_strategy_is_interrupted_at_the_deadline(tmp_path: Path) -> None:
    s = _strategy(tmp_path, SLOW)
    t0 = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        run_sync(s, _ctx(), 0.05)
    assert time.monotonic() - t0 >= 0.05  # not before its deadline
    assert s.module.FINISHED == []  # stopped inside the loop, not caught on return


def test_fast_strategies_return_and_leave_nothing_armed(tmp_path: Path) -> None:
    s = _strategy(tmp_path, FAST)
    for _ in range(2000):  # many calls right at a tiny deadline: none may leak an interrupt
        try:
            run_sync(s, _ctx(), 1e-5)
        except DeadlineExceeded:
            pass
    assert run_sync(s, _ctx(), 10.0)[0].id == "ok"
    deadline = time.monotonic() + 0.05
    while time.monotonic() < deadline:  # a pending interrupt would be raised here
        pass


def test_busy_strategies_are_interrupted_in_any_thread(tmp_path: Path) -> None:
    s = _strategy(tmp_path, SLOW)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            run_sync(s, _ctx(), 0.03)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 3 and all(isinstance(e, DeadlineExceeded) for e in errors)
    assert s.module.FINISHED == []  # every busy loop was stopped, none ran its 5 s


def test_an_async_strategy_is_cancelled_at_the_deadline(tmp_path: Path) -> None:
    s = _strategy(tmp_path, ASYNC_SLOW)
    assert s.is_async
    t0 = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        asyncio.run(run_async(s, _ctx(), 0.05))
    assert time.monotonic() - t0 >= 0.05  # not before its deadline
    assert s.module.FINISHED == []  # cancelled in its sleep


def test_the_watchdog_sleeps_while_a_call_is_far_from_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Armed, the watchdog wakes at the deadline, not every tick: a thread waking every
    couple of milliseconds competes for the GIL with the request it guards."""
    looks: list[float] = []
    check = WATCHDOG._check

    def counted(now: float) -> float:
        looks.append(now)
        return check(now)

    monkeypatch.setattr(WATCHDOG, "_check", counted)
    s = _strategy(tmp_path, SLEEPY)
    t0 = time.monotonic()
    assert run_sync(s, _ctx(), 5.0)[0].id == "rested"
    during = [t for t in looks if t >= t0]
    assert len(during) <= 3, f"{len(during)} looks in 0.3 s (a 2 ms tick: ~150)"


def test_an_earlier_deadline_wakes_a_watchdog_asleep_until_a_later_one(tmp_path: Path) -> None:
    long_call = threading.Thread(target=run_sync, args=(_strategy(tmp_path, SLEEPY), _ctx(), 5.0))
    long_call.start()
    settle = time.monotonic() + 3
    while not _armed(long_call) and time.monotonic() < settle:
        time.sleep(0.005)
    WATCHDOG.wake()  # look now, not at the end of an idle sleep
    while WATCHDOG.wake_at < time.monotonic() + 2 and time.monotonic() < settle:
        time.sleep(0.01)  # until the watchdog sleeps towards the long call's deadline
    assert WATCHDOG.wake_at > time.monotonic() + 2
    (tmp_path / "slow").mkdir()
    slow = _strategy(tmp_path / "slow", SLOW)
    t0 = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        run_sync(slow, _ctx(), 0.05)
    assert time.monotonic() - t0 < 1.0  # at its own deadline, not the long call's
    assert slow.module.FINISHED == []
    long_call.join()


def _armed(thread: threading.Thread) -> bool:
    g = WATCHDOG._guards.get(thread.ident or 0)
    return g is not None and g.deadline > 0
