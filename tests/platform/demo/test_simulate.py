"""The traffic simulator: a truly better strategy shows significant lift, an A/A split
does not, and A/A false positives happen at about the rate alpha."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.demo.simulate import ClickModel, TrafficSimulator, aa_split_p_values
from prism_platform.demo.world import World, generate_world
from prism_platform.events.aggregate import aggregate_all
from prism_platform.events.sqlite_sink import SqliteSink


@pytest.fixture(scope="module")
def world() -> World:
    """The world behind the ``demo_backend`` fixture (same seed and sizes)."""
    return generate_world(seed=11, n_users=400, n_items=3000, n_events=40_000)


def _post(c: TestClient) -> Any:
    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = c.post(path, json=body)
        assert r.status_code == 200, r.text
        return dict(r.json())

    return post


def _experiment(c: TestClient, control: str, treatment: str) -> None:
    # a loaded test machine must not push requests into the fallback: that would make the
    # outcome depend on timing instead of on the strategies and the seeded click model
    c.patch("/admin/scenes/home_feed", json={"deadline_ms": 5000}).raise_for_status()
    for script in {control, treatment}:
        c.post("/admin/configs", json={"script": script, "name": "default"}).raise_for_status()
    buckets = [{"name": "control", "percent": 50}, {"name": "treatment", "percent": 50}]
    exp = {"name": "sim", "buckets": buckets}
    c.post("/admin/scenes/home_feed/experiments", json=exp).raise_for_status()
    for bucket, script in (("control", control), ("treatment", treatment)):
        dep = {"scene": "home_feed", "bucket": bucket, "script": script}
        c.post("/admin/deployments", json=dep).raise_for_status()


def _simulate_and_report(
    make_app: Any, tmp_path: Path, world: World, control: str, treatment: str
) -> dict[str, Any]:
    app = make_app()
    with TestClient(app, headers={"X-Prism-Actor": "sim"}) as c:
        _experiment(c, control, treatment)
        sim = TrafficSimulator(world, _post(c), seed=3).run("home_feed", users=400, size=10)
        assert sim.rejected == 0 and sim.accepted > sim.exposures
        assert set(sim.by_bucket) == {"control", "treatment"}
        log = SqliteSink(tmp_path / "var" / "events.db")
        try:
            aggregate_all(log, app.platform.store.engine)
        finally:
            log.close()
        report = c.get("/admin/experiments/home_feed/report").json()
    assert sum(b["exposures"] for b in report["buckets"]) == sim.exposures
    return dict(report)


def test_a_truly_better_strategy_shows_significant_lift(
    make_app: Any, tmp_path: Path, world: World
) -> None:
    report = _simulate_and_report(make_app, tmp_path, world, "popular_only.py", "home_feed.py")
    treat = report["buckets"][1]
    vs = treat["ctr_vs_control"]
    assert treat["by_strategy"][0]["strategy"] == "home_feed"
    assert vs["significant"] and vs["lift"] > 0.2 and vs["lift_ci"][0] > 0
    assert not report["srm"]["warning"]


def test_an_aa_split_shows_no_significant_lift(make_app: Any, tmp_path: Path, world: World) -> None:
    report = _simulate_and_report(make_app, tmp_path, world, "home_feed.py", "home_feed.py")
    vs = report["buckets"][1]["ctr_vs_control"]
    assert not vs["significant"] and vs["lift_ci"][0] < 0 < vs["lift_ci"][1]


def test_aa_false_positive_rate_is_near_alpha(client: TestClient, world: World) -> None:
    lists = {}
    for u in range(world.n_users):
        body = {"scene": "home_feed", "user_id": world.user_id(u), "size": 10}
        lists[u] = [it["item_id"] for it in client.post("/v1/recommend", json=body).json()["items"]]
    runs = 1000
    p_values = aa_split_p_values(ClickModel(world), lists, runs=runs, seed=5)
    rate = sum(p < 0.05 for p in p_values) / runs
    assert 0.025 <= rate <= 0.08, rate  # alpha = 0.05; ±3 standard errors is 0.03-0.07
