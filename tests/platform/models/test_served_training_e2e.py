"""End to end through the ASGI app: a ranker serves home_feed, simulated users see and
click, the node logs the scored features of what it returned, and `prism job
train-ranker` trains the next version on exactly those rows and activates it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.cli.main import main
from prism_platform.demo.simulate import TrafficSimulator
from prism_platform.demo.world import generate_world
from prism_platform.events.sink import read_all
from prism_platform.feature_log.sqlite_store import SqliteFeatureStore
from prism_platform.models import ModelStore
from prism_platform.models.train import train_ranker
from prism_platform.models.trainset import build_training_set
from prism_sdk import Context, DataClient, Item, LocalBackend, Request, StrategyConfig
from prism_sdk.ranking import Assembler, FeatureSpec, parse_spec
from prism_testkit.accounts import grant

from ...conftest import AppFactory, json_post
from .conftest import default_spec_rows

USERS = 400


def test_recommend_events_then_train_on_the_served_features(
    make_app: AppFactory,
    demo_backend: LocalBackend,
    demo_spec: FeatureSpec,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    var = tmp_path / "var"
    store = ModelStore(var / "models")
    first = train_ranker(
        build_training_set(demo_backend, demo_backend.events, demo_spec), demo_spec, store
    )
    app = make_app(events_aggregate_s=0)
    with TestClient(app, headers=grant(app.control, name="e2e")) as c:
        # a loaded machine must not push requests into the fallback (not scored: not logged)
        c.patch("/admin/scenes/home_feed", json={"deadline_ms": 5000}).raise_for_status()
        c.post("/admin/models/ctr/activate", json={"version": first.version}).raise_for_status()
        world = generate_world(seed=11, n_users=400, n_items=3000, n_events=40_000)
        sim = TrafficSimulator(world, json_post(c), seed=5).run("home_feed", users=USERS, size=10)
        assert sim.rejected == 0 and sim.requests == USERS
    # leaving the app flushed the feature log: one record per request, 10 rows each
    logged = list(read_all(SqliteFeatureStore(var / "features.db").read))
    assert len(logged) == USERS and {len(r.item_ids) for r in logged} == {10}
    assert {(r.model, r.version, r.spec_hash) for r in logged} == {
        ("ctr", first.version, demo_spec.digest())
    }
    # the data did not change since, so re-assembling gives the served rows bit for bit
    rec = logged[7]
    req = Request(scene="home_feed", user_id=rec.user_id)
    ctx: Context[Any] = Context(req, StrategyConfig(), DataClient(demo_backend))
    again = Assembler(demo_spec).assemble(ctx, [Item(i) for i in rec.item_ids])
    assert rec.matrix().tobytes() == again.tobytes()
    by_hand = default_spec_rows(demo_backend, rec.user_id, list(rec.item_ids))
    np.testing.assert_array_equal(rec.matrix(), by_hand)

    monkeypatch.setenv("PRISM_VAR_DIR", str(var))
    cmd = ["job", "train-ranker", "--features", "served", "--activate"]
    result = CliRunner().invoke(main, cmd)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["features"] == "served" and out["activated"] and out["version"] == "v2"
    ts = out["trainset"]
    assert ts["rows"] == sim.exposures == USERS * 10 and ts["unlogged_exposures"] == 0
    assert ts["positives"] == sim.clicks and ts["other_spec_rows"] == 0
    assert out["rows"]["train"] + out["rows"]["test"] == ts["rows"]
    m = out["metrics"]
    # the lists were already ranked by v1 and position drives clicks (not a feature):
    # little is left to learn, but more than a random order
    assert m["auc"] > 0.5 and m["ndcg@10"] > m["ndcg@10_random"] + 0.05, m
    assert store.current("ctr") == "v2"
    v2 = store.read("ctr", "v2")
    assert parse_spec(v2.spec, "v2") == demo_spec and v2.meta["features"] == "served"
