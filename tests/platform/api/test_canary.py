"""``POST /admin/scenes/{name}/buckets/{bucket}/canary/promote|abort``."""

from __future__ import annotations

from collections import Counter

from starlette.testclient import TestClient

CANARY = "/admin/scenes/home_feed/buckets/base/canary"


def _served(client: TestClient, users: int = 60) -> Counter[str]:
    """How many of the users each strategy served."""
    names: Counter[str] = Counter()
    for u in range(users):
        body = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": str(u)})
        names[body.json()["strategy"]["name"]] += 1
    return names


def _canary(client: TestClient, percent: float = 30) -> int:
    client.post("/admin/configs", json={"script": "noop.py", "name": "default"})
    body = {"scene": "home_feed", "script": "noop.py", "canary_percent": percent}
    r = client.post("/admin/deployments", json=body)
    assert r.status_code == 201, r.text
    served = _served(client)
    assert served["noop"] and served["home_feed"], served  # both serve a share
    return int(r.json()["deployment"]["id"])


def test_promote_serves_the_canary_to_the_whole_bucket(client: TestClient) -> None:
    canary_id = _canary(client)
    r = client.post(f"{CANARY}/promote", json={"note": "p99 fine", "wait_s": 5})
    assert r.status_code == 201, r.text
    body = r.json()
    dep = body["deployment"]
    assert dep["script_path"] == "noop.py" and dep["canary_percent"] is None
    assert dep["active"] and dep["note"] == "p99 fine" and dep["created_by"] == "tester"
    assert body["rollout"]["complete"] and body["snapshot"] == body["rollout"]["generation"]
    assert _served(client) == {"noop": 60}
    [bucket] = client.get("/admin/status").json()["scenes"]["home_feed"]["buckets"]
    assert "canary" not in bucket and bucket["strategy"] == "noop"
    [entry] = client.get("/admin/audit", params={"limit": 1}).json()
    assert entry["action"] == "canary_promoted" and entry["detail"]["canary"] == canary_id


def test_abort_sends_the_canary_users_back_to_the_primary(client: TestClient) -> None:
    canary_id = _canary(client)
    r = client.post(f"{CANARY}/abort")  # no body: defaults
    assert r.status_code == 201, r.text
    assert r.json()["deployment"]["id"] == canary_id and not r.json()["deployment"]["active"]
    assert _served(client) == {"home_feed": 60}
    [entry] = client.get("/admin/audit", params={"limit": 1}).json()
    assert entry["action"] == "canary_ended" and entry["actor"] == "tester"


def test_no_canary_is_404_naming_the_bucket(client: TestClient) -> None:
    for how in ("promote", "abort"):
        r = client.post(f"{CANARY}/{how}")
        assert r.status_code == 404 and r.json()["field"] == "bucket", r.text
        assert "no canary" in r.json()["message"]
    r = client.post("/admin/scenes/nope/buckets/base/canary/promote")
    assert r.status_code == 404 and r.json()["field"] == "scene"
    r = client.post(f"{CANARY}/promote", json={"wait_s": 99})
    assert r.status_code == 422 and "wait_s" in r.text


def test_a_canary_named_by_id_that_was_replaced_is_409(client: TestClient) -> None:
    first = _canary(client)
    second = _canary(client, percent=20)  # replaces the first
    for how in ("promote", "abort"):
        r = client.post(f"{CANARY}/{how}", json={"canary_id": first})
        assert r.status_code == 409 and r.json()["field"] == "canary_id", r.text
    r = client.post(f"{CANARY}/abort", json={"canary_id": second})
    assert r.status_code == 201 and r.json()["deployment"]["id"] == second, r.text
    r = client.post(f"{CANARY}/promote", json={"canary_id": 0})
    assert r.status_code == 422 and "canary_id" in r.text
