"""End to end: a trained ``ctr`` model in var/models ranks the demo home feed, traced."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from prism_platform.models import ModelStore
from prism_platform.models.train import TrainReport
from prism_testkit.accounts import grant


def test_home_feed_ranks_with_the_active_model(
    trained: tuple[Path, TrainReport], make_app: Callable[..., Any], tmp_path: Path
) -> None:
    root = tmp_path / "var" / "models"
    root.mkdir(parents=True)
    shutil.copytree(trained[0] / "ranker_t", root / "ctr")
    ModelStore(root).set_current("ctr", "v1")
    body = {"scene": "home_feed", "user_id": "7", "size": 10, "debug": True}
    app = make_app()
    with TestClient(app, headers=grant(app.control)) as c:
        out = c.post("/v1/recommend", json=body).json()
    assert len(out["items"]) == 10 and not out["degraded"]
    stages = {s["stage"]: s for s in out["trace"]["stages"]}
    assert stages["scorer.ctr"]["model"] == "ctr@v1", stages
    scores = [it["score"] for it in out["items"]]
    assert all(0 <= s <= 1 for s in scores)
