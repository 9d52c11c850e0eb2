"""Data snapshots fix a replay's data: recorded once, served back, two replays of one
snapshot with the same seeds give the same results however the live data moved on; a
read the snapshot lacks is an error of the arm that made it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from prism_platform.app import PrismApp, create_app
from prism_platform.replay import ReplayOptions
from prism_platform.settings import Settings
from prism_sdk import LocalBackend
from tests.conftest import build_demo_backend
from tests.platform.replay.conftest import serve

CANDIDATE = {"weight_popular": 0.9, "weight_category": 0.1}
"""B: home_feed with other channel weights (its answers differ from A's per user)."""


@pytest.fixture
def live() -> LocalBackend:
    """A demo world of this test's own: it changes it."""
    return build_demo_backend()


@pytest.fixture
def own_app(tmp_path: Path, strategies_dir: Path, live: LocalBackend) -> Iterator[PrismApp]:
    settings = Settings(
        var_dir=tmp_path / "var",
        database_url=f"sqlite:///{tmp_path}/prism.db",
        demo=True,
        strategies_dir=strategies_dir,
    )
    app = create_app(settings, backend=live)
    # a loaded test machine may stall a request past 80 ms: a fallback is no data change
    app.control.update_scene("home_feed", deadline_ms=10_000, actor="t")
    yield app
    app.control.store.dispose()


def results(report: dict[str, Any]) -> dict[str, Any]:
    """What a replay found, timings aside."""
    diff = report["diff"]
    keep = ("rbo_values", "noise_rbo_values", "channel_share", "category_share", "shop_share")
    return {
        "diff": {k: diff[k] for k in keep},
        "metrics": {k: v for k, v in diff["metrics"].items() if not k.endswith("_ms")},
        "errors": report["errors"],
        "degraded": report["degraded"],
    }


def test_two_replays_of_one_snapshot_give_identical_results(
    own_app: PrismApp, live: LocalBackend, tmp_path: Path
) -> None:
    control = own_app.control
    lines = serve(own_app, range(1, 81))
    snap = tmp_path / "home.data.json"
    options = ReplayOptions(script="home_feed.py", params=CANDIDATE)
    recorded = control.run_replay(lines, replace(options, record_data=snap))
    assert recorded["data"]["recorded_reads"] > 80 and snap.is_file()
    assert len(set(recorded["diff"]["rbo_values"])) > 5  # B's answers differ per user

    # the live data moves on: the popular table turns over, users' recent events go
    pop = live.tables["popular"]["all"]
    turned = [(item, 1.0 / (n + 1)) for n, (item, _) in enumerate(pop[::-1])]
    live.replace_table("popular", {"all": turned})
    live.events.clear()
    moved = control.run_replay(lines, options)
    assert results(moved) != results(recorded)

    on_snapshot = replace(options, data_snapshot=snap)
    first = control.run_replay(lines, on_snapshot)
    second = control.run_replay(lines, on_snapshot)
    assert results(first) == results(second) == results(recorded)
    misses = {"A": 0, "A2": 0, "B": 0}
    assert first["data"] == {"source": "snapshot", "snapshot": str(snap), "misses": misses}


def test_a_read_missing_from_the_snapshot_is_counted_for_its_arm(
    own_app: PrismApp, tmp_path: Path
) -> None:
    control = own_app.control
    lines = serve(own_app, range(1, 31))
    snap = tmp_path / "home.data.json"
    control.run_replay(lines, ReplayOptions(script="home_feed.py", record_data=snap))
    # B reads 400 popular items where A read 100: not in the snapshot
    report = control.run_replay(
        lines,
        ReplayOptions(script="home_feed.py", params={"quota_popular": 400}, data_snapshot=snap),
    )
    misses = report["data"]["misses"]
    assert misses["A"] == misses["A2"] == 0 and misses["B"] >= 30
    assert report["degraded"]["B"] == 1.0 and report["degraded"]["A"] == 0.0
    assert "degraded_rate" in report["diff"]["changed"]
    rule = ReplayOptions(script="home_feed.py", data_snapshot=snap, fail_if=("data_misses>0",))
    assert control.run_replay(lines, rule)["fail_if"]["failed"] == []
