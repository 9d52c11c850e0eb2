"""Hostile or odd requests get JSON answers naming the culprit, never a bare 500."""

from __future__ import annotations

import time

from starlette.testclient import TestClient


def test_a_token_with_a_huge_number_is_malformed_not_a_crash(client: TestClient) -> None:
    huge = "3.a.b.c@d.abcdef." + "9" * 5000 + ".r.12345678.-.1.12345678.-.aaaaaaaaaaaa"
    v2 = "2.a.b.c@d.-." + "9" * 5000 + ".r.-.aaaaaaaaaaaa"
    events = [
        {"event_id": f"e{n}", "type": "click", "acm": acm, "user_id": "1", "item_id": "1",
         "ts": time.time()}
        for n, acm in enumerate((huge, v2))
    ]  # fmt: skip
    r = client.post("/v1/events", json={"events": events})
    assert r.status_code == 200, r.text
    assert [e["reason"] for e in r.json()["results"]] == ["malformed", "malformed"]


def test_query_parameters_are_named_even_when_called_path(client: TestClient) -> None:
    r = client.get("/admin/scripts/schema")
    assert r.status_code == 422 and r.json()["field"] == "path"
    r = client.get("/admin/scripts/versions", params={"path": "home_feed.py", "limit": -1})
    assert r.status_code == 422 and r.json()["field"] == "limit"


def test_framework_refusals_come_in_the_platform_shape(client: TestClient) -> None:
    r = client.get("/admin/no-such-route")
    assert r.status_code == 404 and r.json()["error"] == "http_error"
    r = client.put("/admin/scenes")
    assert r.status_code == 405 and r.json()["error"] == "http_error"


def test_a_reload_is_audited_with_its_user(client: TestClient) -> None:
    assert client.post("/admin/reload").status_code == 200
    [entry] = [a for a in client.get("/admin/audit").json() if a["action"] == "reload"]
    assert entry["actor"] == "tester" and entry["detail"]["generation"] >= 1
