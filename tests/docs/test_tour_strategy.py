"""The tour's strategy (docs/tour.md, "Save this as `strategies/trending.py`") loads,
deploys and serves what it says: trending per category, scattered by shop. The shell
runner only sees the tour's commands exit 0; this looks at the answer."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from .blocks import DOCS, blocks


def tour_strategy() -> str:
    saved = [b for b in blocks(DOCS / "tour.md") if b.saves == "strategies/trending.py"]
    assert len(saved) == 1, "the tour lost its strategy example"
    return saved[0].body


def test_the_tour_strategy_is_about_thirty_lines() -> None:
    assert 20 <= len(tour_strategy().strip().splitlines()) <= 40


def test_the_tour_strategy_serves(client: TestClient, strategies_dir: Path) -> None:
    (strategies_dir / "trending.py").write_text(tour_strategy())
    r = client.post(
        "/admin/configs",
        json={"script": "trending.py", "name": "default", "params": {"per_category": 30}},
    )
    assert r.status_code == 201, r.text
    r = client.post("/admin/deployments", json={"scene": "home_feed", "script": "trending.py"})
    assert r.status_code == 201, r.text
    body = client.post(
        "/v1/recommend", json={"scene": "home_feed", "user_id": "42", "size": 10, "debug": True}
    ).json()
    assert body["degraded"] is False and body["strategy"]["name"] == "trending"
    assert len(body["items"]) == 10
    stages = [s["stage"] for s in body["trace"]["stages"]]
    assert "source.trending" in stages and "rerank.shop_scatter" in stages
