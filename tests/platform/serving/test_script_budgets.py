"""Budgets a scene declares for its strategies (``budgets``), over the node's defaults:
reads (round trips, keys) and candidates per stage. A strategy past one fails with a
``budget`` error naming what it went past, and the scene's fallback answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from prism_testkit.accounts import grant

from ...conftest import AppFactory
from .test_dispatch_failures import DEADLINE_MS, deploy
from .test_read_budget import CHATTY

WIDE = """from prism_sdk import stages

def recommend(ctx):
    with ctx.stage("source.popular") as st:
        rows = ctx.data.table("popular", "all", ctx.context.get("n", 20))
        items = stages.from_scored(rows, "popular")
        st.counts(count_out=len(items))
    with ctx.stage("merge") as st:
        return stages.merge({"popular": items}, limit=ctx.size, stage=st)
"""
SWALLOWS = """from prism_sdk import BudgetExceeded, stages

def recommend(ctx):
    items = stages.from_scored(ctx.data.table("popular", "all", 60), "popular")
    try:
        with ctx.stage("source.popular") as st:
            st.counts(count_out=len(items))
    except BudgetExceeded:
        pass  # catching it does not help: the tracer remembers
    return items[: ctx.size]
"""
BODY = {"scene": "home_feed", "user_id": "1", "size": 10, "debug": True}


def _ask(client: TestClient, **context: Any) -> dict[str, Any]:
    answer: dict[str, Any] = client.post("/v1/recommend", json={**BODY, "context": context}).json()
    return answer


def _budget_failure(answer: dict[str, Any]) -> str:
    assert answer["degraded"] is True and answer["strategy"]["name"] == "fallback", answer
    assert answer["trace"]["error"] == "budget" and len(answer["items"]) == 10
    failure: str = answer["trace"]["failure"]
    return failure


def test_a_stage_past_the_scenes_candidates_budget_is_a_budget_error(
    make_app: AppFactory, strategies_dir: Path
) -> None:
    app = make_app()
    (strategies_dir / "wide.py").write_text(WIDE)
    (strategies_dir / "swallows.py").write_text(SWALLOWS)
    with TestClient(app, headers=grant(app.control, name="tester")) as client:
        patch = {"deadline_ms": DEADLINE_MS, "budgets": {"candidates": 50}}
        assert client.patch("/admin/scenes/home_feed", json=patch).status_code == 200
        status = client.get("/admin/status").json()["scenes"]["home_feed"]["budgets"]
        assert status["candidates"] == 50 and status["round_trips"] == 100  # the node's
        deploy(client, "wide.py")
        ok = _ask(client, n=50)
        assert ok["degraded"] is False and ok["strategy"]["name"] == "wide", ok
        failure = _budget_failure(_ask(client, n=80))
        assert "stage 'source.popular' holds 80 candidates, more than the 50" in failure
        stage = next(
            s for s in _ask(client, n=80)["trace"]["stages"] if s["stage"] == "source.popular"
        )
        assert "BudgetExceeded" in stage["error"]  # the stage's own trace entry says so too
        deploy(client, "swallows.py")
        assert "'source.popular' holds 60" in _budget_failure(_ask(client))
        metrics = client.get("/metrics").text
        assert 'strategy="wide"' in metrics and 'kind="budget"' in metrics
        # back to the node's: 100,000
        assert client.patch("/admin/scenes/home_feed", json={"budgets": None}).status_code == 200
        assert _ask(client)["strategy"]["name"] == "swallows"


def test_a_scene_declares_its_own_read_budget(make_app: AppFactory, strategies_dir: Path) -> None:
    app = make_app()  # the node's: 100 round trips, 50,000 keys
    (strategies_dir / "chatty.py").write_text(CHATTY)
    with TestClient(app, headers=grant(app.control, name="tester")) as client:
        client.patch("/admin/scenes/home_feed", json={"deadline_ms": DEADLINE_MS})
        deploy(client, "chatty.py")
        assert _ask(client, reads=5)["strategy"]["name"] == "chatty"
        patch = {"budgets": {"round_trips": 3}}
        assert client.patch("/admin/scenes/home_feed", json=patch).json()["budgets"] == {
            "round_trips": 3
        }
        assert "3 data round trips" in _budget_failure(_ask(client, reads=5))
        client.patch("/admin/scenes/home_feed", json={"budgets": {"read_keys": 2}})
        assert "3 keys, more than the 2" in _budget_failure(_ask(client, reads=5))
        assert client.get("/admin/scenes/home_feed").json()["budgets"] == {"read_keys": 2}
