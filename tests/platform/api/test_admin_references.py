"""Admin writes check what they refer to, fail without side effects, answer the same
status for the same cause, and quote only a prefix of what they were sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from prism_sdk import LocalBackend


def audit(client: TestClient) -> list[tuple[str, str, str]]:
    return [(a["action"], a["entity"], a["key"]) for a in client.get("/admin/audit").json()]


def test_a_scene_fallback_must_be_in_the_data(
    client: TestClient, demo_backend: LocalBackend
) -> None:
    before = audit(client)
    r = client.post("/admin/scenes", json={"name": "shelf", "fallback_table": "nope"})
    assert r.status_code == 422 and r.json()["field"] == "fallback_table", r.text
    assert "empty fallbacks" in r.json()["message"]
    assert client.get("/admin/scenes/shelf").status_code == 404 and audit(client) == before

    r = client.post("/admin/scenes", json={"name": "shelf"})  # popular/all: in the data
    assert r.status_code == 201, r.text
    r = client.patch("/admin/scenes/shelf", json={"fallback_table": "popular_cat"})
    assert r.status_code == 422 and r.json()["field"] == "fallback_table"  # no key 'all'
    r = client.patch("/admin/scenes/shelf", json={"fallback_key": "nope"})
    assert r.status_code == 422 and r.json()["field"] == "fallback_key"
    category = next(iter(demo_backend.tables["popular_cat"]))
    r = client.patch(
        "/admin/scenes/shelf", json={"fallback_table": "popular_cat", "fallback_key": category}
    )
    assert r.status_code == 200 and r.json()["fallback_key"] == category
    served = client.post("/v1/recommend", json={"scene": "shelf", "user_id": "1"}).json()
    assert served["items"]  # no deployment yet: the fallback serves, and it is not empty


def test_a_failed_deploy_registers_nothing(client: TestClient, strategies_dir: Path) -> None:
    (strategies_dir / "fresh.py").write_text((strategies_dir / "noop.py").read_text())
    before = audit(client)
    body = {"scene": "home_feed", "script": "fresh.py", "config": "prod"}
    r = client.post("/admin/deployments", json=body)
    assert r.status_code == 404, r.text
    assert r.json()["field"] == "config" and "has no config 'prod'" in r.json()["message"]
    (strategies_dir / "empty.py").write_text("def recommend(ctx):\n    return []\n")
    r = client.post("/admin/deployments", json={"scene": "home_feed", "script": "empty.py"})
    assert r.status_code == 422 and "no items" in r.json()["message"], r.text  # the gate
    assert [a for a in audit(client) if a[0] != "deploy_rejected"] == before
    scripts = {s["path"] for s in client.get("/admin/scripts").json()}
    assert not {"fresh.py", "empty.py"} & scripts
    assert client.get("/admin/configs", params={"script": "empty.py"}).status_code == 404


def test_a_deploy_without_a_config_serves_the_scripts_defaults(
    client: TestClient, strategies_dir: Path
) -> None:
    """``default``, when the script has no config of that name, is its ``Config``
    defaults: saved as it once the deploy goes ahead, so rollbacks re-serve the same."""
    (strategies_dir / "fresh.py").write_text((strategies_dir / "noop.py").read_text())
    r = client.post("/admin/deployments", json={"scene": "home_feed", "script": "fresh.py"})
    assert r.status_code == 201, r.text
    dep = r.json()["deployment"]
    assert dep["config_name"] == "default" and dep["config_params"] == {}
    [cfg] = client.get("/admin/configs", params={"script": "fresh.py"}).json()
    assert (cfg["name"], cfg["params"]) == ("default", {})
    mine = [a for a in audit(client) if a[2].startswith("fresh.py")]
    assert ("create", "script", "fresh.py") in mine, mine
    assert ("put", "config", "fresh.py:default") in mine, mine


def _start(client: TestClient, name: str, buckets: list[str]) -> None:
    share = 100 / len(buckets)
    body = {"name": name, "buckets": [{"name": b, "percent": share} for b in buckets]}
    r = client.post("/admin/scenes/home_feed/experiments", json=body)
    assert r.status_code == 201, r.text


def test_deploy_and_rollback_agree_on_a_missing_bucket(client: TestClient) -> None:
    _start(client, "first", ["a", "b"])
    r = client.post(
        "/admin/deployments", json={"scene": "home_feed", "bucket": "a", "script": "home_feed.py"}
    )
    assert r.status_code == 201, r.text
    dep_a = r.json()["deployment"]["id"]
    _start(client, "second", ["c", "d"])  # bucket a is gone

    answers: list[Any] = [
        client.post(
            "/admin/deployments",
            json={"scene": "home_feed", "bucket": "a", "script": "home_feed.py"},
        ),
        client.post(f"/admin/deployments/{dep_a}/rollback"),
        client.post("/admin/scenes/home_feed/buckets/a/rollback"),
    ]
    for r in answers:
        assert r.status_code == 404, r.text
        assert r.json()["error"] == "NotFound" and r.json()["field"] == "bucket"
    assert "has no bucket 'a'" in answers[0].json()["message"]
    assert answers[1].json()["message"] == answers[0].json()["message"]


def test_admin_errors_quote_only_a_prefix(client: TestClient) -> None:
    huge = "x" * 100_000
    for r in (
        client.post(
            "/admin/deployments", json={"scene": "home_feed", "bucket": huge, "script": "noop.py"}
        ),
        client.post("/admin/deployments", json={"scene": huge, "script": "noop.py"}),
        client.post("/admin/configs", json={"script": huge + ".py", "name": "default"}),
        client.post("/admin/scenes", json={"name": "long", "fallback_table": huge}),
        client.post("/admin/scenes", json={"name": "long", "context_schema": {huge: {}}}),
        client.post(  # a body the API models refuse, naming a key of the client's
            "/admin/scenes/home_feed/experiments",
            json={"name": "e", "buckets": [{"name": "a", "percent": 100}], "whitelist": {huge: 5}},
        ),
    ):
        assert 400 <= r.status_code < 500 and len(r.content) < 1_500, r.text[:300]
        assert "x" * 64 in r.text
