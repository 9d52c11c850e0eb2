"""The README's strategy example is real: it loads, deploys and serves (like FastAPI's docs_src)."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_strategy() -> str:
    text = README.read_text()
    after = text.split("Save this as `strategies/trending.py`:", 1)[1]
    match = re.search(r"```python\n(.*?)```", after, re.S)
    assert match, "README lost its strategy example"
    return match.group(1)


def test_the_readme_strategy_is_about_thirty_lines() -> None:
    assert 20 <= len(readme_strategy().strip().splitlines()) <= 40


def test_the_readme_strategy_serves(client: TestClient, strategies_dir: Path) -> None:
    (strategies_dir / "trending.py").write_text(readme_strategy())
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
