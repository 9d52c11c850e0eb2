"""A debug run's ``seed`` fixes its request id, so a strategy that draws by the request id
(``popular_only``'s shuffle) draws the same every time with one seed and otherwise with
another; ``detail=False`` keeps the stages' timings and counts, not their candidates. A
public request cannot set either."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_testkit.accounts import grant


def dry(app: PrismApp, **kw: Any) -> dict[str, Any]:
    run = app.control.debug_request("home_feed", "7", {}, 10, script="popular_only.py", **kw)
    return asyncio.run(run)


def items(body: dict[str, Any]) -> list[str]:
    return [it["item_id"] for it in body["items"]]


def test_one_seed_draws_the_same_and_another_seed_otherwise(app: PrismApp) -> None:
    first, again, other = dry(app, seed=42), dry(app, seed=42), dry(app, seed=43)
    assert items(first) == items(again) != items(other)
    assert first["request_id"] == again["request_id"] == f"s{42:016x}"
    assert items(dry(app)) != items(dry(app))  # unseeded: a fresh request id each time


def test_without_detail_stages_keep_timings_and_counts_only(app: PrismApp) -> None:
    full = {s["stage"]: s for s in dry(app, seed=1)["trace"]["stages"]}
    light = {s["stage"]: s for s in dry(app, seed=1, detail=False)["trace"]["stages"]}
    assert set(full) == set(light) and "candidates" in full["source.popular"]
    assert "candidates" not in light["source.popular"]
    assert (
        light["source.popular"]["out"] == full["source.popular"]["out"]
        and "ms" in light["source.popular"]
    )


def test_the_api_takes_a_seed_and_a_public_request_cannot(app: PrismApp) -> None:
    with TestClient(app, headers=grant(app.control, "operator")) as c:
        body = {"scene": "home_feed", "user_id": "7", "script": "popular_only.py", "seed": 5}
        a = c.post("/admin/debug/recommend", json=body).json()
        b = c.post("/admin/debug/recommend", json=body).json()
        assert items(a) == items(b) and a["request_id"] == f"s{5:016x}"
        bad = c.post("/admin/debug/recommend", json={**body, "seed": -1})
        assert bad.status_code == 422 and bad.json()["field"] == "seed"
        public = c.post("/v1/recommend", json={"scene": "home_feed", "user_id": "7", "seed": 5})
        assert public.status_code == 422  # not a field of a recommend request
