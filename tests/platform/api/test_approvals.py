"""Approvals over HTTP: a change to a protected scene answers ``202`` with its change
request (from every changing route), and ``/admin/change-requests`` lists, shows,
approves, rejects and cancels them, each with the role it needs."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_testkit.accounts import grant


@pytest.fixture
def users(app: PrismApp) -> dict[str, dict[str, str]]:
    c = app.control
    return {
        name: grant(c, role, name)
        for name, role in [
            ("ada", "admin"),
            ("olga", "operator"),
            ("oscar", "operator"),
            ("victor", "viewer"),
        ]
    }


@pytest.fixture
def api(app: PrismApp, users: dict[str, dict[str, str]]) -> TestClient:
    c = TestClient(app)
    r = c.patch("/admin/scenes/cart", json={"protected": True}, headers=users["ada"])
    assert r.status_code == 200 and r.json()["protected"] is True, r.text
    body = {"script": "popular_only.py", "name": "default"}
    assert c.post("/admin/configs", json=body, headers=users["olga"]).status_code == 201
    return c


def _status(api: TestClient, admin: dict[str, str]) -> str:
    [bucket] = api.get("/admin/status", headers=admin).json()["scenes"]["cart"]["buckets"]
    return str(bucket["strategy"])


def test_a_deploy_answers_202_and_waits_for_approval(
    api: TestClient, users: dict[str, dict[str, str]]
) -> None:
    olga, oscar, victor = users["olga"], users["oscar"], users["victor"]
    body = {"scene": "cart", "script": "popular_only.py"}
    r = api.post("/admin/deployments", json=body, headers=olga)
    assert r.status_code == 202, r.text
    held = r.json()
    rid = held["change_request"]
    assert held["status"] == "pending" and held["scene"] == "cart"
    assert r.headers["location"] == f"/admin/change-requests/{rid}" == held["url"]
    assert _status(api, victor) == "cart"

    listed = api.get("/admin/change-requests?status=pending", headers=victor).json()
    assert [x["id"] for x in listed] == [rid]
    shown = api.get(f"/admin/change-requests/{rid}", headers=victor).json()
    assert shown["kind"] == "deploy" and shown["gate"]["ok"] is True
    assert shown["diff"]["requested"]["serves"].startswith("popular_only.py@wt-")

    r = api.post(f"/admin/change-requests/{rid}/approve", headers=victor)
    assert r.status_code == 403  # viewers read
    r = api.post(f"/admin/change-requests/{rid}/approve", headers=olga)
    assert r.status_code == 403 and "second operator" in r.json()["message"]
    r = api.post(f"/admin/change-requests/{rid}/approve", json={"reason": "ok"}, headers=oscar)
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["status"], done["decided_by"], done["reason"]) == ("approved", "oscar", "ok")
    assert "diff" not in done and done["result"]["deployment"] > 0
    assert _status(api, victor) == "popular_only"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/admin/scenes/cart/buckets/base/rollback", {}),
        ("POST", "/admin/scenes/cart/experiments", {"name": "ab", "buckets": [
            {"name": "base", "percent": 50}, {"name": "b", "percent": 50}
        ]}),
    ],
)  # fmt: skip
def test_other_changes_answer_202_too(
    api: TestClient,
    app: PrismApp,
    users: dict[str, dict[str, str]],
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    app.control.update_scene("cart", protected=False, actor="ada")  # a deploy to roll back
    app.control.deploy("cart", "base", "popular_only.py", "default", actor="ada")
    app.control.update_scene("cart", protected=True, actor="ada")
    r = api.request(method, path, json=body, headers=users["olga"])
    assert r.status_code == 202, r.text
    assert api.get(r.headers["location"], headers=users["olga"]).json()["status"] == "pending"


def test_an_emergency_rollback_goes_ahead(
    api: TestClient, app: PrismApp, users: dict[str, dict[str, str]]
) -> None:
    app.control.update_scene("cart", protected=False, actor="ada")
    app.control.deploy("cart", "base", "popular_only.py", "default", actor="ada")
    app.control.update_scene("cart", protected=True, actor="ada")
    path = "/admin/scenes/cart/buckets/base/rollback"
    r = api.post(path, json={"emergency": True}, headers=users["olga"])
    assert r.status_code == 201, r.text
    assert _status(api, users["olga"]) == "cart"
    audit = api.get("/admin/audit?limit=5", headers=users["olga"]).json()
    assert "emergency" in [e["action"] for e in audit]


def test_reject_cancel_and_override(api: TestClient, users: dict[str, dict[str, str]]) -> None:
    ada, olga, oscar = users["ada"], users["olga"], users["oscar"]
    body = {"scene": "cart", "script": "popular_only.py"}

    def request(who: dict[str, str]) -> int:
        r = api.post("/admin/deployments", json=body, headers=who)
        assert r.status_code == 202, r.text
        return int(r.json()["change_request"])

    first = request(olga)
    r = api.post(f"/admin/change-requests/{first}/reject", json={}, headers=oscar)
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = api.post(f"/admin/change-requests/{first}/reject", json={"reason": "no"}, headers=oscar)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    r = api.post(f"/admin/change-requests/{first}/approve", headers=oscar)
    assert r.status_code == 409

    second = request(olga)
    assert api.post(f"/admin/change-requests/{second}/cancel", headers=oscar).status_code == 403
    r = api.post(f"/admin/change-requests/{second}/cancel", headers=olga)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"

    third = request(ada)
    r = api.post(f"/admin/change-requests/{third}/approve", json={"override": True}, headers=ada)
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = api.post(
        f"/admin/change-requests/{third}/approve",
        json={"override": True, "reason": "incident 42"},
        headers=olga,
    )
    assert r.status_code == 403 and r.json()["field"] == "override"
    r = api.post(
        f"/admin/change-requests/{third}/approve",
        json={"override": True, "reason": "incident 42"},
        headers=ada,
    )
    assert r.status_code == 200 and r.json()["status"] == "approved"

    assert api.get("/admin/change-requests/999", headers=olga).status_code == 404
    assert api.get("/admin/change-requests?status=nope", headers=olga).status_code == 422


def test_protecting_a_scene_is_for_admins(
    api: TestClient, users: dict[str, dict[str, str]]
) -> None:
    r = api.patch("/admin/scenes/cart", json={"protected": False}, headers=users["olga"])
    assert r.status_code == 403
    r = api.patch("/admin/scenes/cart", json={"protected": "maybe"}, headers=users["ada"])
    assert r.status_code == 422 and r.json()["field"] == "protected"
    r = api.patch("/admin/scenes/cart", json={"protected": False}, headers=users["ada"])
    assert r.status_code == 200 and r.json()["protected"] is False
