import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from prism_platform.loader import load_strategy
from prism_platform.runner import install_alarm, run_async, run_sync
from prism_platform.sources import WorkTree
from prism_platform.strategy import Strategy
from prism_sdk import Context, DeadlineExceeded, LocalBackend, Request, StrategyConfig
from prism_sdk.data import DataClient

SLOW = """
import time
from prism_sdk import Item

def recommend(ctx):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # a busy loop that never checks the deadline
        pass
    return [Item("late")]
"""

ASYNC_SLOW = """
import asyncio
from prism_sdk import Item

async def recommend(ctx):
    await asyncio.sleep(5)
    return [Item("late")]
"""

FAST = "from prism_sdk import Item\n\ndef recommend(ctx):\n    return [Item('ok')]\n"


def _strategy(tmp_path: Path, body: str) -> Strategy:
    (tmp_path / "s.py").write_text(body)
    return load_strategy(WorkTree(tmp_path), "s.py")


def _ctx() -> Context[Any]:
    return Context(Request(scene="x", user_id="1"), StrategyConfig(), DataClient(LocalBackend()))


def test_a_busy_sync_strategy_is_interrupted_at_the_deadline(tmp_path: Path) -> None:
    assert threading.current_thread() is threading.main_thread()
    assert install_alarm()
    s = _strategy(tmp_path, SLOW)
    t0 = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        run_sync(s, _ctx(), 0.05)
    assert time.monotonic() - t0 < 0.5


def test_a_fast_strategy_returns_and_leaves_no_alarm_armed(tmp_path: Path) -> None:
    install_alarm()
    s = _strategy(tmp_path, FAST)
    assert run_sync(s, _ctx(), 0.01)[0].id == "ok"
    time.sleep(0.03)  # an alarm left armed would raise here


def test_off_the_main_thread_an_overrun_is_detected_on_return(tmp_path: Path) -> None:
    s = _strategy(tmp_path, SLOW.replace("+ 5", "+ 0.1"))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            run_sync(s, _ctx(), 0.02)
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert len(errors) == 1 and isinstance(errors[0], DeadlineExceeded)


def test_an_async_strategy_is_cancelled_at_the_deadline(tmp_path: Path) -> None:
    s = _strategy(tmp_path, ASYNC_SLOW)
    assert s.is_async
    t0 = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        asyncio.run(run_async(s, _ctx(), 0.05))
    assert time.monotonic() - t0 < 0.5
