"""Training on the demo world's logged exposures: better than random, registered, and
its features are the ones serving assembles, which are the ones worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from prism_platform.cli.main import main
from prism_platform.models import ModelStore
from prism_platform.models.train import TrainReport, train_ranker
from prism_platform.models.trainset import build_training_set, default_spec, label_exposures
from prism_sdk import Context, DataClient, Event, Item, LocalBackend, Request, StrategyConfig
from prism_sdk.ranking import Assembler, FeatureSpec

from .conftest import default_spec_rows

NAME = "ranker_t"


def test_training_reports_metrics_and_registers(trained: tuple[Path, TrainReport]) -> None:
    root, report = trained
    assert report.version == "v1"
    m = report.metrics
    assert m["auc"] > 0.65, m
    assert m["ndcg@10"] > m["ndcg@10_random"], m
    assert report.rows["train"] > 4 * report.rows["test"] * 0.9
    store = ModelStore(root)
    assert store.versions(NAME) == ["v1"] and store.current(NAME) is None
    files = store.read(NAME, "v1")
    assert files.kind == "lightgbm" and files.meta["metrics"] == m
    assert files.load().predictor.classifier


def test_labels_follow_the_clicks() -> None:
    events = [
        Event(100.0, "a", "view"),
        Event(105.0, "a", "click"),
        Event(110.0, "b", "view"),
        Event(2000.0, "b", "order"),  # too late to credit the view
        Event(3000.0, "c", "click"),
        Event(3001.0, "c", "view"),  # the click came before this view
    ]
    views, labels = label_exposures(events, window_s=600)
    assert [v.item_id for v in views] == ["a", "b", "c"] and labels == [1, 0, 0]


def test_training_features_are_the_served_features(
    demo_backend: LocalBackend, demo_spec: FeatureSpec
) -> None:
    uid, events = next((u, e) for u, e in demo_backend.events.items() if len(e) > 5)
    data = build_training_set(demo_backend, {uid: events}, demo_spec)
    views = [ev for ev in events if ev.type == "view"]
    req = Request(scene="home_feed", user_id=uid, size=10)
    ctx: Context[Any] = Context(req, StrategyConfig(), DataClient(demo_backend))
    served = Assembler(demo_spec).assemble(ctx, [Item(v.item_id, 0.5, "i2i") for v in views])
    np.testing.assert_array_equal(data.x, served)
    by_hand = default_spec_rows(demo_backend, uid, [v.item_id for v in views])
    np.testing.assert_array_equal(data.x, by_hand)


def test_a_tiny_world_gives_the_rows_worked_out_by_hand() -> None:
    backend = LocalBackend()
    backend.upsert_items(
        {
            "a": {"price": 12.5, "category": "shoes"},
            "b": {"price": 3.0, "category": "books"},
            "c": {"category": "toys"},  # no price
        }
    )
    profile = {"gender": "m", "age_band": "25-34", "top_categories": ["books", "shoes"]}
    backend.upsert_features("user", {"u1": profile})  # u2 has no profile
    events = {
        "u1": [
            Event(100.0, "a", "view"),
            Event(110.0, "a", "click"),
            Event(200.0, "b", "view"),
            Event(300.0, "c", "view"),
        ],
        "u2": [Event(50.0, "b", "view"), Event(5000.0, "b", "order")],  # ordered too late
    }
    spec = default_spec(["toys", "shoes", "books", "shoes"])  # vocab: books, shoes, toys
    data = build_training_set(backend, events, spec, window_s=600)
    nan = float("nan")
    # gender (f, m, x), age band (18-24, 25-34, ...), price, category, category affinity
    # (u1's top categories: books 1 / (1 + 0), shoes 1 / (1 + 1), others 0)
    want = [
        [1.0, 1.0, 12.5, 1.0, 0.5],  # u1 saw a (shoes)
        [1.0, 1.0, 3.0, 0.0, 1.0],  # u1 saw b (books)
        [1.0, 1.0, nan, 2.0, 0.0],  # u1 saw c (toys, no price)
        [nan, nan, 3.0, 0.0, nan],  # u2 saw b: no profile, every user feature missing
    ]
    np.testing.assert_array_equal(data.x, np.array(want, np.float32))
    assert data.x.dtype == np.float32
    assert data.y.tolist() == [1, 0, 0, 0]  # a was clicked 10 s after the view
    assert data.ts.tolist() == [100.0, 200.0, 300.0, 50.0]
    assert data.group.tolist() == [0, 0, 0, 1]
    np.testing.assert_array_equal(data.x[:3], default_spec_rows(backend, "u1", ["a", "b", "c"]))


def test_logistic_regression_trains_too(
    demo_backend: LocalBackend, demo_spec: FeatureSpec, tmp_path: Path
) -> None:
    data = build_training_set(demo_backend, demo_backend.events, demo_spec)
    report = train_ranker(data, demo_spec, ModelStore(tmp_path), kind="logistic")
    assert report.metrics["auc"] > 0.6
    assert ModelStore(tmp_path).read("ctr", report.version).load().predictor.kind == "logistic"


def test_too_little_data_is_refused(
    demo_backend: LocalBackend, demo_spec: FeatureSpec, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="model ctr: not enough labelled exposures"):
        train_ranker(
            build_training_set(demo_backend, {}, demo_spec), demo_spec, ModelStore(tmp_path)
        )


def test_cli_trains_and_activates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first version, with no feature log yet: ``--features served`` says why not,
    the default falls back to re-assembled features and says so."""
    monkeypatch.setenv("PRISM_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PRISM_DEMO_SCALE", "0.08")
    served = CliRunner().invoke(
        main, ["job", "train-ranker", "--name", NAME, "--features", "served"]
    )
    assert served.exit_code == 1
    assert f"model {NAME}: only 0 exposures have logged features" in served.output
    assert "--features reassembled" in served.output and "Traceback" not in served.output
    result = CliRunner().invoke(main, ["job", "train-ranker", "--name", NAME, "--activate"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["version"] == "v1" and out["activated"] and out["metrics"]["auc"] > 0.6
    assert out["features"] == "reassembled"
    assert out["note"].startswith("only 0 exposures have logged features of this spec")
    assert ModelStore(tmp_path / "models").current(NAME) == "v1"
