"""A canary serves a share of a bucket beside its primary deployment."""

from __future__ import annotations

from collections import Counter

from starlette.testclient import TestClient

from ..conftest import documented_slot


def _who(client: TestClient, users: range) -> dict[str, str]:
    """The strategy that served each user."""
    served: dict[str, str] = {}
    for u in users:
        body = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": str(u)}).json()
        assert not body["degraded"]
        served[str(u)] = body["strategy"]["name"]
    return served


def _names(client: TestClient, users: range) -> Counter[str]:
    return Counter(_who(client, users).values())


def test_a_canary_serves_its_share_and_ends_with_one_call(client: TestClient) -> None:
    client.post("/admin/configs", json={"script": "noop.py", "name": "default"})
    r = client.post(
        "/admin/deployments",
        json={"scene": "home_feed", "script": "noop.py", "canary_percent": 20},
    )
    assert r.status_code == 201, r.text
    assert r.json()["deployment"]["canary_percent"] == 20
    [bucket] = client.get("/admin/status").json()["scenes"]["home_feed"]["buckets"]
    assert bucket["strategy"] == "home_feed"
    assert bucket["canary"]["strategy"] == "noop" and bucket["canary"]["percent"] == 20

    served = _who(client, range(400))
    assert _who(client, range(400)) == served  # deterministic per user
    salt = "home_feed:default:base:canary"  # documented: <experiment salt>:<bucket>:canary
    canary = {u for u in served if documented_slot(u, salt) < 200}  # the first 200 slots
    assert len(canary) == 77  # 20% of 400 is 80: worked out once with hashlib
    assert {"1", "42"} <= canary  # their slots: 131 and 13 (computed once with hashlib)
    assert {u for u, name in served.items() if name == "noop"} == canary
    assert {name for u, name in served.items() if u not in canary} == {"home_feed"}

    nodes = client.get("/admin/status").json()["nodes"]
    assert nodes[0]["serving"]["home_feed/base~canary"].startswith("noop.py@")

    r = client.post("/admin/scenes/home_feed/buckets/base/rollback")
    assert r.status_code == 201 and r.json()["deployment"]["active"] is False
    assert _names(client, range(100)) == {"home_feed": 100}
    actions = [a["action"] for a in client.get("/admin/audit").json()]
    assert actions[0] == "canary_ended"


def test_promoting_a_canary_is_a_plain_deploy(client: TestClient) -> None:
    client.post("/admin/configs", json={"script": "noop.py", "name": "default"})
    body = {"scene": "home_feed", "script": "noop.py"}
    client.post("/admin/deployments", json={**body, "canary_percent": 5})
    assert client.post("/admin/deployments", json=body).status_code == 201
    assert _names(client, range(50)) == {"noop": 50}
    [bucket] = client.get("/admin/status").json()["scenes"]["home_feed"]["buckets"]
    assert "canary" not in bucket


def test_bad_canary_percentages_name_the_field(client: TestClient) -> None:
    for value in (0, 100, 150, "half", 12.34):
        r = client.post(
            "/admin/deployments",
            json={"scene": "home_feed", "script": "home_feed.py", "canary_percent": value},
        )
        assert r.status_code == 422 and r.json()["field"] == "canary_percent", (value, r.text)


def test_no_canary_to_end_falls_back_to_the_previous_deployment(client: TestClient) -> None:
    r = client.post("/admin/scenes/home_feed/buckets/base/rollback")
    assert r.status_code == 404 and "no earlier deployment" in r.json()["message"]
