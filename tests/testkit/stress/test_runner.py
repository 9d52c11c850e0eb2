"""A whole ramp against a server of known capacity (50 requests a second), and the
verdict at the production rate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from prism_testkit.stress.ramp import Capacity, Ramp, pick_capacity
from prism_testkit.stress.runner import Plan, _ramp, production_verdict
from prism_testkit.stress.sample import Replay
from prism_testkit.stress.target import Located

from .conftest import DelayServer

SLO = 60.0


def test_the_ramp_stops_at_the_servers_capacity_after_a_retry(
    delay_server: Callable[..., DelayServer],
) -> None:
    server = delay_server(0.02)  # 50 a second
    replay = Replay(Path("s.jsonl"), [("s", b"{}")], {"s": 1})
    plan = Plan(
        url=server.url, replay=replay, scene="s", ramp=Ramp(20, step_rps=20, max_rps=100),
        step_s=0.8, slo_ms=SLO, warmup_s=0, refine=0, retries=1, ceiling_s=0.3,
    )  # fmt: skip
    lines: list[str] = []
    ceiling, steps, outcomes = asyncio.run(_ramp(plan, SLO, Located(None, "-"), lines.append))
    # 20/s and 40/s are served as they come (20 ms); at 60/s the queue grows all step long
    assert [(s["rate"], s["passed"], s["superseded"]) for s in steps] == [
        (20, True, False),
        (40, True, False),
        (60, False, True),  # failed, run again
        (60, False, False),
    ]
    assert [o.rate for o in outcomes] == [20, 40, 60]  # the retried run counts once
    assert steps[0]["target_cpu"] is None  # no process to read
    capacity = pick_capacity(outcomes, SLO, plan.max_error_rate, ceiling)
    assert (capacity.rps, capacity.limited_by) == (40, "slo")
    assert any("running 60/s again" in line for line in lines)


def step(rate: float, p99: float, passed: bool, superseded: bool = False) -> dict[str, Any]:
    return {"rate": rate, "p99_ms": p99, "passed": passed, "superseded": superseded}


@pytest.mark.parametrize(
    ("steps", "capacity", "ok", "says"),
    [
        # the lowest step at or above the production rate decides (refined steps included)
        ([step(100, 5, True), step(300, 90, False), step(200, 20, True)], Capacity(200, "slo"),
         True, "step 200 rps: p99 20 ms, within the SLA"),
        ([step(100, 5, True), step(200, 90, False, True), step(200, 95, False)],
         Capacity(100, "slo"), False, "step 200 rps: p99 95 ms, over the SLA"),
        ([step(100, 5, True), step(150, 90, False)], Capacity(100, "slo"), False,
         "not reached: the ramp failed below it"),
        ([step(100, 5, True)], Capacity(100, "client"), None, "not reached: the client"),
    ],
)  # fmt: skip
def test_the_production_rate_verdict(
    steps: list[dict[str, Any]], capacity: Capacity, ok: bool | None, says: str
) -> None:
    verdict = production_verdict(180, steps, capacity)
    assert verdict["ok"] is ok
    assert verdict["text"].startswith(says)
