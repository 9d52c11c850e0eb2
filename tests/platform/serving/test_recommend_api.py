"""POST /v1/recommend through the ASGI app, on the demo world."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_sdk import parse_acm


def rec(client: TestClient, **body: Any) -> Any:
    return client.post("/v1/recommend", json={"scene": "home_feed", "user_id": "7", **body})


def test_home_feed_answers_with_fields_and_acm_tokens(client: TestClient) -> None:
    r = rec(client, size=20)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scene"] == "home_feed" and body["degraded"] is False
    assert body["strategy"]["name"] == "home_feed"
    assert body["strategy"]["version"].startswith("wt-")
    assert body["experiment"] == {"name": "default", "bucket": "base"}
    items = body["items"]
    assert len(items) == 20
    assert len({it["item_id"] for it in items}) == 20
    for pos, it in enumerate(items, start=1):
        assert it["fields"]["status"] == "on"
        assert {"title", "price", "category", "shop"} <= set(it["fields"])
        acm = parse_acm(it["acm"])
        assert (acm.scene, acm.bucket, acm.strategy) == ("home_feed", "base", "home_feed")
        assert acm.version == body["strategy"]["version"]
        assert acm.position == pos and acm.request_id == body["request_id"]
        assert acm.channels and set(acm.channels) <= {
            "i2i", "usercf", "category", "popular", "recent", "emb"}  # fmt: skip


def test_every_demo_scene_serves(client: TestClient, demo_backend: Any) -> None:
    some_item = next(iter(demo_backend.tables["i2i"]))
    for scene, ctx in (
        ("item_detail", {"item_id": some_item}),
        ("cart", {"cart_items": [some_item]}),
    ):
        body = client.post(
            "/v1/recommend", json={"scene": scene, "user_id": "3", "size": 10, "context": ctx}
        ).json()
        assert body["degraded"] is False, body
        assert body["items"] and body["strategy"]["name"] == scene
        assert some_item not in {it["item_id"] for it in body["items"]}


def test_exclude_and_off_shelf_items_are_never_returned(
    client: TestClient, demo_backend: Any
) -> None:
    first = rec(client, size=10).json()["items"]
    excluded = [it["item_id"] for it in first[:5]]
    again = rec(client, size=10, exclude=excluded).json()["items"]
    assert not {it["item_id"] for it in again} & set(excluded)
    off = {k for k, v in demo_backend.items.items() if v.get("status") == "off"}
    for uid in range(30):
        items = rec(client, user_id=str(uid), size=30).json()["items"]
        assert not {it["item_id"] for it in items} & off


def test_debug_returns_the_stage_trace(client: TestClient) -> None:
    body = rec(client, size=5, debug=True).json()
    trace = body["trace"]
    names = [s["stage"] for s in trace["stages"]]
    assert names[0] == "strategy.home_feed"
    assert {"source.recent", "merge", "rerank.scatter", "platform.finalize"} <= set(names)
    assert trace["data"]["backend"] == "local" and trace["data"]["round_trips"] >= 2
    assert trace["error"] is None and trace["ms"] > 0
    fin = trace["stages"][-1]
    assert fin["out"] == 5 and fin["in"] >= 5


def test_integer_user_ids_are_accepted(client: TestClient) -> None:
    a = rec(client, user_id=7, size=5).json()
    b = rec(client, user_id="7", size=5).json()
    assert [i["item_id"] for i in a["items"]] == [i["item_id"] for i in b["items"]]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"user_id": "1"}, 422, "scene"),
        ({"scene": "home_feed"}, 422, "user_id"),
        ({"scene": "home_feed", "user_id": "1", "size": "ten"}, 422, "size"),
        ({"scene": "home_feed", "user_id": "1", "size": 0}, 422, "size"),
        ({"scene": "home_feed", "user_id": "1", "size": 5000}, 422, "size"),
        ({"scene": "home_feed", "user_id": "1", "exclude": "x"}, 422, "exclude"),
        ({"scene": "home_feed", "user_id": "1", "context": []}, 422, "context"),
        ({"scene": "home_feed", "user_id": "1", "colour": "red"}, 422, "colour"),
        ({"scene": "Home Feed", "user_id": "1"}, 422, "scene"),
        ({"scene": "home_feed", "user_id": ""}, 422, "user_id"),
    ],
)
def test_invalid_requests_name_the_field(
    client: TestClient, body: dict[str, Any], status: int, field: str
) -> None:
    r = client.post("/v1/recommend", json=body)
    assert r.status_code == status, r.text
    err = r.json()
    assert err["error"] == "invalid_request" and err["field"] == field
    assert field in err["message"] or field == "(body)"


def test_oversized_size_message_says_the_limit(client: TestClient) -> None:
    err = rec(client, size=5000).json()
    assert "200" in err["message"]


def test_unknown_scene_is_404_listing_known_scenes(client: TestClient) -> None:
    r = client.post("/v1/recommend", json={"scene": "nope", "user_id": "1"})
    assert r.status_code == 404
    assert r.json()["known_scenes"] == ["cart", "home_feed", "item_detail"]
    assert r.json()["field"] == "scene"


def test_malformed_json_and_oversized_bodies_are_4xx(client: TestClient) -> None:
    r = client.post(
        "/v1/recommend", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_json"
    big = b'{"scene": "home_feed", "user_id": "1", "exclude": [' + b'"x",' * 100_000 + b'"y"]}'
    r = client.post("/v1/recommend", content=big)
    assert r.status_code == 413 and "exceeds" in r.json()["message"]
    r = client.get("/v1/recommend")
    assert r.status_code == 405 and r.headers["allow"] == "POST"


def test_scene_max_size_caps_the_page(client: TestClient) -> None:
    r = client.patch("/admin/scenes/home_feed", json={"max_size": 7})
    assert r.status_code == 200, r.text
    assert len(rec(client, size=50).json()["items"]) == 7


def test_ops_endpoints(client: TestClient, app: PrismApp) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["ready"] and ready["scenes"] == ["cart", "home_feed", "item_detail"]
    rec(client)
    client.post("/v1/recommend", json={"scene": "nope", "user_id": "1"})
    text = client.get("/metrics").text
    assert 'prism_requests_total{scene="home_feed",bucket="base",strategy="home_feed"' in text
    assert "prism_request_latency_seconds_bucket" in text
    assert 'prism_rejected_requests_total{status="404"} 1' in text
    spec = client.get("/openapi.json").json()
    assert "/v1/recommend" in spec["paths"] and "/admin/deployments" in spec["paths"]
    schema = spec["paths"]["/v1/recommend"]["post"]["requestBody"]["content"]["application/json"]
    assert "scene" in schema["schema"]["properties"]


def test_the_documented_fastapi_route_answers_like_the_hot_path(app: PrismApp) -> None:
    with TestClient(app.api) as c:  # FastAPI alone, bypassing the hot-path router
        body = c.post(
            "/v1/recommend", json={"scene": "home_feed", "user_id": "7", "size": 3}
        ).json()
        assert len(body["items"]) == 3
        assert c.post("/v1/recommend", json={"scene": "x", "user_id": "7"}).status_code == 404
