"""Per-request read budgets: a strategy that reads too often or too much is stopped at
the read that goes past (unsent), and the scene's fallback answers; the platform's own
reads after the strategy are not its budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_sdk import BudgetExceeded, DataClient, LocalBackend
from prism_testkit.accounts import grant

from ...conftest import AppFactory
from .test_dispatch_failures import DEADLINE_MS, deploy

CHATTY = """from prism_sdk import Item

def recommend(ctx):
    rows = [ctx.data.items([str(i)])[0] for i in range(1, 1 + ctx.context.get("reads", 1))]
    return [Item(str(i), 1.0, "x") for i, row in enumerate(rows, 1) if row] + [
        Item(i, 0.5, "x") for i, _ in ctx.data.table("popular", "all", 30)
    ]
"""
GREEDY = """from prism_sdk import Item

def recommend(ctx):
    with ctx.data.batch() as b:
        rows = b.items([str(i) for i in range(ctx.context.get("keys", 10))])
        top = b.tables("popular", ["all"], 30)
    return [Item(i, 1.0, "x") for i, _ in top.value[0]]
"""


def test_the_client_refuses_the_read_past_its_limits_unsent() -> None:
    data = DataClient(LocalBackend())
    data.items(["a"])  # before the limit: not counted against it
    data.limit(2, 5)
    data.items(["a", "b"])
    with data.batch() as b:
        b.items(["c"])
        b.features_many("user", ["u1", "u2"])
    with pytest.raises(BudgetExceeded, match="2 data round trips"):
        data.items(["d"])
    assert data.round_trips == 3 and data.keys_read == 5
    data.unlimit()
    data.items(["d"] * 100)
    data.limit(None, 3)
    with pytest.raises(BudgetExceeded, match="4 keys, more than the 3"):
        data.items(["a", "b", "c", "d"])
    data.items(["a", "b", "c"])


@pytest.mark.parametrize(
    ("script", "source", "context", "message"),
    [
        ("chatty.py", CHATTY, {"reads": 5}, "3 data round trips"),
        ("greedy.py", GREEDY, {"keys": 100}, "101 keys, more than the 100"),
    ],
)
def test_a_strategy_past_its_budget_is_answered_by_the_fallback(
    make_app: AppFactory,
    strategies_dir: Path,
    script: str,
    source: str,
    context: dict[str, Any],
    message: str,
) -> None:
    app = make_app(script_max_round_trips=3, script_max_read_keys=100)
    (strategies_dir / script).write_text(source)
    with TestClient(app, headers=grant(app.control, name="tester")) as client:
        client.patch("/admin/scenes/home_feed", json={"deadline_ms": DEADLINE_MS})
        deploy(client, script)
        body = {"scene": "home_feed", "user_id": "1", "size": 10, "debug": True}
        # within the budget: served, and finalize's own reads do not count
        ok = client.post("/v1/recommend", json=body).json()
        assert ok["degraded"] is False and ok["strategy"]["name"] == script[:-3], ok
        answer = client.post("/v1/recommend", json={**body, "context": context}).json()
        assert answer["degraded"] is True and answer["strategy"]["name"] == "fallback"
        assert answer["trace"]["error"] == "budget" and message in answer["trace"]["failure"]
        assert len(answer["items"]) == 10
        metrics = client.get("/metrics").text
        assert f'strategy="{script[:-3]}"' in metrics and 'kind="budget"' in metrics
