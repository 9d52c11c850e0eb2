"""The admin API: every bad input is a JSON error naming the culprit."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from prism_sdk import parse_acm


def test_status_lists_each_scene_bucket_and_version(client: TestClient) -> None:
    status = client.get("/admin/status").json()
    feed = status["scenes"]["home_feed"]
    assert feed["experiment"] == "default"
    [bucket] = feed["buckets"]
    assert bucket["bucket"] == "base" and bucket["slots"] == [0, 1000]
    assert bucket["strategy"] == "home_feed" and bucket["version"].startswith("wt-")


def test_config_is_validated_against_the_script_schema(client: TestClient) -> None:
    r = client.post(
        "/admin/configs",
        json={"script": "home_feed.py", "name": "bad", "params": {"quota_i2i": "lots"}},
    )
    assert r.status_code == 422
    body = r.json()
    assert body["field"] == "script" and "home_feed.py:" in body["message"]
    assert "quota_i2i: Input should be a valid integer" in body["message"]
    schema = client.get("/admin/scripts/schema", params={"path": "home_feed.py"}).json()
    assert schema["schema"]["properties"]["quota_i2i"]["default"] == 300


def test_deploying_a_broken_script_names_file_and_line_and_keeps_serving(
    client: TestClient, strategies_dir: Path
) -> None:
    before = client.get("/admin/status").json()
    (strategies_dir / "broken.py").write_text("def recommend(ctx):\n    return [\n")
    r = client.post("/admin/configs", json={"script": "broken.py", "name": "default"})
    assert r.status_code == 422 and r.json()["message"].startswith("broken.py:2: syntax error")
    r = client.post("/admin/deployments", json={"scene": "home_feed", "script": "broken.py"})
    assert r.status_code == 422 and "broken.py:2" in r.json()["message"]
    assert client.get("/admin/status").json()["scenes"] == before["scenes"]
    ok = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": "1"}).json()
    assert ok["degraded"] is False and ok["strategy"]["name"] == "home_feed"


def test_deploy_a_new_config_changes_what_is_served(client: TestClient) -> None:
    r = client.post(
        "/admin/configs",
        json={
            "script": "home_feed.py",
            "name": "popular_only",
            "params": {
                "quota_i2i": 0,
                "quota_usercf": 0,
                "quota_category": 0,
                "quota_recent": 0,
                "quota_emb": 0,
            },
        },
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/admin/deployments",
        json={"scene": "home_feed", "script": "home_feed.py", "config": "popular_only"},
    )
    assert r.status_code == 201, r.text
    body = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": "5"}).json()
    assert body["strategy"]["config"] == "popular_only"
    assert {parse_acm(it["acm"]).channels for it in body["items"]} == {("popular",)}
    history = client.get("/admin/deployments", params={"scene": "home_feed"}).json()
    assert history[0]["config_name"] == "popular_only" and history[0]["created_by"] == "tester"
    assert history[0]["active"] and not history[1]["active"]


def test_unknown_things_are_404_and_bad_bodies_422(client: TestClient) -> None:
    r = client.get("/admin/scenes/nope")
    assert r.status_code == 404 and r.json()["error"] == "NotFound"
    r = client.post("/admin/deployments", json={"scene": "nope", "script": "noop.py"})
    assert r.status_code in (404, 422)
    r = client.post("/admin/scenes", json={"name": "Bad Name"})
    assert r.status_code == 422 and r.json()["field"] == "name"
    r = client.post(
        "/admin/scenes/home_feed/experiments",
        json={"name": "x", "buckets": [{"name": "a", "percent": 40}, {"name": "b", "percent": 40}]},
    )
    assert r.status_code == 422 and "100" in r.json()["message"]
    r = client.post("/admin/deployments", json={"scene": "home_feed", "script": "../etc/passwd.py"})
    assert r.status_code == 422 and r.json()["field"] == "script"
    r = client.post(
        "/admin/deployments", json={"scene": "home_feed", "script": "noop.py", "bucket": "zzz"}
    )
    assert r.status_code in (404, 422) and "zzz" in r.json()["message"]
    r = client.post("/admin/scenes", json={"name": "home_feed"})
    assert r.status_code == 409


def test_mutations_are_audited_with_the_actor(client: TestClient) -> None:
    client.post("/admin/scenes", json={"name": "audited"})
    rows = client.get("/admin/audit").json()
    assert any(r["actor"] == "tester" and r["entity"] == "scene" for r in rows)
