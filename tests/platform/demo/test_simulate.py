"""The traffic simulator against the report's per-user statistics: a truly better
strategy shows significant lift, an A/A split does not, A/A false positives happen at
about the rate alpha (where a test treating exposures as independent raises far too
many when users come back)."""

from __future__ import annotations

import contextlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy import create_engine
from starlette.testclient import TestClient

from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main
from prism_platform.db.event_schema import EventCount
from prism_platform.demo.simulate import ClickModel, TrafficSimulator, aa_split_p_values
from prism_platform.demo.world import World, generate_world
from prism_platform.events.aggregate import aggregate_all
from prism_platform.events.bandit_feed import feed_bandits
from prism_platform.events.sqlite_sink import SqliteSink
from prism_sdk import LocalBackend, bandit
from prism_testkit.accounts import grant

from ...conftest import build_demo_backend, json_post


@pytest.fixture
def demo_backend() -> LocalBackend:
    """A world of its own per test: the simulator posts events into it, and in the shared
    one a test's clicks (``popular_only`` shuffles by request id) would change the next
    test's recommendations."""
    return build_demo_backend()


@pytest.fixture(scope="module")
def world() -> World:
    """The world behind the ``demo_backend`` fixture (same seed and sizes)."""
    return generate_world(seed=11, n_users=400, n_items=3000, n_events=40_000)


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
    with TestClient(app, headers=grant(app.control, name="sim")) as c:
        _experiment(c, control, treatment)
        simulator = TrafficSimulator(world, json_post(c), seed=3)
        sim = simulator.run("home_feed", users=400, size=10, visits=2)
        assert sim.rejected == 0 and sim.accepted > sim.exposures
        assert set(sim.by_bucket) == {"control", "treatment"} and sim.requests > 400
        log = SqliteSink(tmp_path / "var" / "events.db")
        try:
            aggregate_all(log, app.control.store.engine)
        finally:
            log.close()
        report = c.get("/admin/experiments/home_feed/report").json()
    assert sum(b["exposures"] for b in report["buckets"]) == sim.exposures
    assert sum(b["users"] for b in report["buckets"]) == 400 and report["unit"] == "user"
    assert all(b["rejected"] == {} for b in report["buckets"])
    served = {b["bucket"]: b["guardrails"]["requests"] for b in report["buckets"]}
    assert served == sim.by_bucket  # the serving guardrails count every request
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
    """1,000 A/A splits of the same users and lists; users come back (1 + Poisson(4)
    visits, each seeing the feed again), so one user's clicks are far from independent."""
    rng = np.random.default_rng(7)
    lists: dict[int, list[list[str]]] = {}
    for u in range(world.n_users):
        body = {"scene": "home_feed", "user_id": world.user_id(u), "size": 10}
        items = [it["item_id"] for it in client.post("/v1/recommend", json=body).json()["items"]]
        lists[u] = [items] * (1 + int(rng.poisson(4)))
    runs = 1000
    per_user = aa_split_p_values(ClickModel(world), lists, runs=runs, seed=5)
    rate = sum(p < 0.05 for p in per_user) / runs
    assert 0.025 <= rate <= 0.08, rate  # alpha = 0.05; ±3 standard errors is 0.03-0.07
    naive = aa_split_p_values(ClickModel(world), lists, runs=runs, seed=5, unit="exposure")
    naive_rate = sum(p < 0.05 for p in naive) / runs  # exposures as independent trials
    assert naive_rate > 0.1, naive_rate  # 0.145 here: three times alpha


def _per_layer(engine: Any) -> dict[tuple[str, str], tuple[int, int]]:
    t = EventCount
    stmt = sa.select(t.layer, t.bucket, sa.func.sum(t.exposures), sa.func.sum(t.requests))
    with engine.connect() as conn:
        rows = conn.execute(stmt.group_by(t.layer, t.bucket)).all()
    return {(la, b): (int(e), int(r)) for la, b, e, r in rows}


def test_every_event_counts_once_per_layer(
    make_app: Any, tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    with TestClient(app, headers=grant(app.control, name="sim")) as c:
        _experiment(c, "home_feed.py", "home_feed.py")
        b = {"name": "b", "percent": 45, "params": {"weight_popular": 2.0}}
        rank = {"name": "r1", "layer": "rank", "buckets": [{"name": "a", "percent": 45}, b]}
        rank["holdout_percent"] = 10
        c.post("/admin/scenes/home_feed/experiments", json=rank).raise_for_status()
        rank_of: Counter[str] = Counter()  # requests per rank bucket, from the responses
        post = json_post(c)

        def recording(path: str, body: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = post(path, body)
            if path == "/v1/recommend":
                rank_of[out["experiment"]["layers"]["rank"]] += 1
            return out

        sim = TrafficSimulator(world, recording, seed=4).run("home_feed", users=400, size=10)
        assert sim.rejected == 0 and set(rank_of) == {"a", "b", "holdout"}
        log = SqliteSink(tmp_path / "var" / "events.db")
        try:
            aggregate_all(log, app.control.store.engine)
        finally:
            log.close()
        counts = _per_layer(app.control.store.engine)
        for layer in ("main", "rank"):  # each event once per layer
            mine = [v for k, v in counts.items() if k[0] == layer]
            assert sum(e for e, _ in mine) == sim.exposures
            assert sum(r for _, r in mine) == sim.requests
        assert {b: counts[("rank", b)][1] for b in rank_of} == dict(rank_of)
        assert {b: counts[("main", b)][1] for b in sim.by_bucket} == sim.by_bucket

        report = c.get("/admin/experiments/home_feed/report", params={"layer": "rank"}).json()
        assert report["layer"] == "rank" and report["control"] == "a"
        assert [x["bucket"] for x in report["buckets"]] == ["a", "b", "holdout"]
        assert [x["percent"] for x in report["buckets"]] == [45, 45, 10]
        assert sum(x["requests"] for x in report["buckets"]) == sim.requests
        assert {x["bucket"]: x["guardrails"]["requests"] for x in report["buckets"]} == rank_of
        assert all(x["guardrails"]["degraded_rate"] == 0.0 for x in report["buckets"])
        assert report["buckets"][1]["ctr_vs_control"]["p_value"] is not None
        assert report["srm"]["expected"] == pytest.approx(
            [0.45 * sim.requests] * 2 + [0.1 * sim.requests]
        )
        assert not report["srm"]["warning"]
        bad = c.get("/admin/experiments/home_feed/report", params={"layer": "Bad!"})
        assert bad.status_code == 422 and bad.json()["field"] == "layer"
        missing = c.get("/admin/experiments/home_feed/report", params={"layer": "rerank"})
        assert missing.status_code == 404 and missing.json()["field"] == "layer"

        monkeypatch.setattr(cli_client, "open_client", lambda url: contextlib.nullcontext(c))
        out = CliRunner().invoke(main, ["experiments", "report", "home_feed", "--layer", "rank"])
        assert out.exit_code == 0, out.output
        assert out.output.startswith("home_feed [rank] / r1") and "control a" in out.output


def test_aggregated_events_feed_the_scene_explore_exploit_pool(
    make_app: Any, tmp_path: Path, world: World
) -> None:
    report = _simulate_and_report(make_app, tmp_path, world, "home_feed.py", "popular_only.py")
    engine = create_engine(f"sqlite:///{tmp_path}/prism.db")
    writer = LocalBackend()
    try:
        assert feed_bandits(engine, writer) == 1
    finally:
        engine.dispose()
    state = writer.features[bandit.namespace("home_feed")]
    assert {"popular"} <= set(state) and len(state) >= 2
    assert sum(s["exposures"] for s in state.values()) == sum(
        b["exposures"] for b in report["buckets"]
    )
    assert all(0 <= s["clicks"] <= s["exposures"] for s in state.values())
