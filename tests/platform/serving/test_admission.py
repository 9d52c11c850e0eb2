"""Admission control: a request that cannot be answered within its share of the scene's
deadline is refused at once (``503``, ``Retry-After``); admitted ones are served."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import httpx
import pytest

from prism_platform.serving.admission import HOLD_S, Admission
from prism_testkit.accounts import seeded_headers
from prism_testkit.cluster import Cluster, add_scene, blocking_script, demo_env, seed_demo

from ...conftest import FakeClock

REPO = Path(__file__).resolve().parents[3]


def test_room_is_what_the_requests_ahead_will_take() -> None:
    clock = FakeClock()
    adm = Admission(share=0.9, clock=clock)
    assert adm.room(0.08)  # nothing in flight
    adm.served(0.010)  # 10 ms a request: may wait 72 - 2 * 10 = 52 ms; 5 ahead fit, 6 not
    assert adm.budget_s(0.08) == pytest.approx(0.052)
    adm.in_flight = 5
    assert adm.room(0.08)
    adm.in_flight = 6
    assert not adm.room(0.08)
    assert adm.room(0.2)  # a more lenient scene


def _waits_for_others(adm: Admission, clock: FakeClock, seconds: float) -> None:
    clock.advance(seconds)
    adm.busy_s += seconds


def test_a_request_may_wait_for_others_its_budget() -> None:
    clock = FakeClock()
    adm = Admission(share=0.9, clock=clock)
    adm.served(0.010)
    arrived = adm.arrival()
    _waits_for_others(adm, clock, 0.051)
    assert adm.in_time(arrived, 0.08)
    _waits_for_others(adm, clock, 0.002)
    assert not adm.in_time(arrived, 0.08)


def test_a_stall_that_is_not_other_requests_refuses_nothing() -> None:
    clock = FakeClock()
    adm = Admission(share=0.9, clock=clock)
    adm.served(0.010)
    arrived = adm.arrival()
    clock.advance(0.500)  # the loop held by a deploy's build, the collector...
    assert adm.waited(arrived) == pytest.approx(0.5) and adm.queued(arrived) == 0.0
    assert adm.in_time(arrived, 0.08)
    _waits_for_others(adm, clock, 0.053)
    assert not adm.in_time(arrived, 0.08)


def test_a_strategy_too_slow_to_wait_for_may_still_wait_a_tenth_of_its_deadline() -> None:
    clock = FakeClock()
    adm = Admission(share=0.9, clock=clock)
    adm.served(0.050)  # 50 ms of an 80 ms deadline: 72 - 100 < 0
    assert adm.budget_s(0.08) == pytest.approx(0.008)
    arrived = adm.arrival()
    _waits_for_others(adm, clock, 0.007)
    assert adm.in_time(arrived, 0.08)
    _waits_for_others(adm, clock, 0.002)
    assert not adm.in_time(arrived, 0.08)


def test_the_service_time_follows_faster_requests_quickly_and_slower_ones_slowly() -> None:
    adm = Admission()
    adm.served(0.500)  # a cold first call
    assert adm.service_s == 0.500
    for _ in range(30):
        adm.served(0.002)
    assert adm.service_s == pytest.approx(0.002, abs=1e-4)
    adm.served(0.300)  # one request held up by a stall: counts as twice the average
    assert adm.service_s == pytest.approx(0.002 * 1.05, rel=0.05)
    for _ in range(200):  # a strategy that really got slower is followed
        adm.served(0.020)
    assert adm.service_s == pytest.approx(0.020, rel=0.01)


def test_overload_is_reported_for_a_second_after_the_last_refusal() -> None:
    clock = FakeClock()
    adm = Admission(clock=clock)
    assert not adm.overloaded
    adm.refuse()
    assert adm.overloaded and adm.refused == 1
    clock.advance(HOLD_S)
    assert not adm.overloaded


def test_a_zero_share_never_refuses() -> None:
    clock = FakeClock()
    adm = Admission(share=0.0, clock=clock)
    adm.served(1.0)
    adm.in_flight = 1000
    assert adm.room(0.08) and adm.in_time((clock() - 60, adm.busy_s - 60), 0.08)


async def _burst(url: str, n: int, scene: str = "slow") -> list[tuple[httpx.Response, float]]:
    limits = httpx.Limits(max_connections=n)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def one(u: int) -> tuple[httpx.Response, float]:
            t0 = time.perf_counter()
            r = await client.post("/v1/recommend", json={"scene": scene, "user_id": str(u)})
            return r, time.perf_counter() - t0

        return await asyncio.gather(*(one(u) for u in range(n)))


@pytest.mark.slow
def test_a_burst_beyond_capacity_is_refused_at_once_and_the_rest_served(
    tmp_path: Path,
) -> None:
    strategies = tmp_path / "strategies"
    shutil.copytree(REPO / "strategies", strategies, ignore=shutil.ignore_patterns("__pycache__"))
    (strategies / "slow.py").write_text(blocking_script(20))
    env = demo_env(tmp_path, strategies, scale=0.04)
    seed_demo(env)
    admin = seeded_headers(env)
    cluster = Cluster(tmp_path, env)
    try:
        url = cluster.start_node().url
        add_scene(url, admin, "slow", "slow.py", deadline_ms=200)
        warm = httpx.post(f"{url}/v1/recommend", json={"scene": "slow", "user_id": "1"})
        assert warm.status_code == 200 and not warm.json()["degraded"]  # 20 ms measured

        # 40 at once, 20 ms each: 800 ms of work; each may wait 0.9 * 200 - 2 * 20 =
        # 140 ms to start (admission control is on by default)
        answers = asyncio.run(_burst(url, 40))
        served = [(r, s) for r, s in answers if r.status_code == 200]
        refused = [(r, s) for r, s in answers if r.status_code == 503]
        assert len(served) + len(refused) == 40, [r.status_code for r, _ in answers]
        assert refused and len(served) >= 4
        for r, _ in served:  # nothing admitted fails
            assert not r.json()["degraded"] and len(r.json()["items"]) == 10
        for r, _ in refused:
            assert r.headers["retry-after"] == "1"
            assert r.json()["error"] == "overloaded" and r.json()["retry_after_s"] == 1
        assert httpx.get(f"{url}/readyz").json()["overloaded"] is True
        text = httpx.get(f"{url}/metrics", headers=admin).text
        assert f'prism_rejected_requests_total{{status="503"}} {len(refused)}' in text
        time.sleep(HOLD_S)
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 200 and ready.json()["overloaded"] is False

        # a scene that answers overload with its standby page: nothing refused, what
        # cannot start in time gets the page at once (degraded, signed for the request)
        add_scene(url, admin, "slow_page", "slow.py", deadline_ms=200, on_overload="standby")
        answers = asyncio.run(_burst(url, 40, "slow_page"))
        assert all(r.status_code == 200 for r, _ in answers), [r.status_code for r, _ in answers]
        paged = [r.json() for r, _ in answers if r.json()["strategy"]["version"] == "standby"]
        ran = [r.json() for r, _ in answers if r.json()["strategy"]["name"] == "slow"]
        assert paged and len(ran) >= 4 and len(paged) + len(ran) == 40
        assert all(not b["degraded"] and len(b["items"]) == 10 for b in ran)
        for b in paged:
            assert b["degraded"] and b["strategy"] == {"name": "fallback", "version": "standby"}
            assert len(b["items"]) == 20 and all(it["acm"] for it in b["items"])  # the size asked
        quick = sorted(s for r, s in answers if r.json()["strategy"]["version"] == "standby")
        assert quick[len(quick) // 2] < 0.4  # at once, not after the queue (40 x 20 ms)
        assert httpx.get(f"{url}/readyz").json()["overloaded"] is True
        text = httpx.get(f"{url}/metrics", headers=admin).text
        line = f'prism_fallbacks_total{{scene="slow_page",reason="overloaded"}} {len(paged)}'
        assert line in text, [t for t in text.splitlines() if "fallbacks_total{" in t]
        assert f'prism_rejected_requests_total{{status="503"}} {len(refused)}' in text
    finally:
        cluster.stop()
