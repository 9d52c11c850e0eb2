"""Every admin route names the role it needs; each role gets exactly what it grants.

A route added without an entry in ROUTES fails the first test: list it with its role."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_testkit.accounts import grant

V, OP, A = "viewer", "operator", "admin"
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/admin/status"): V,
    ("GET", "/admin/metrics/series"): V,
    ("POST", "/admin/reload"): OP,
    ("GET", "/admin/scenes"): V,
    ("POST", "/admin/scenes"): A,
    ("GET", "/admin/scenes/{name}"): V,
    ("PATCH", "/admin/scenes/{name}"): A,
    ("GET", "/admin/scenes/{name}/experiments"): V,
    ("POST", "/admin/scenes/{name}/experiments"): OP,
    ("POST", "/admin/scenes/{name}/layers/{layer}/stop"): OP,
    ("GET", "/admin/scripts"): V,
    ("POST", "/admin/scripts"): OP,
    ("GET", "/admin/scripts/schema"): V,
    ("GET", "/admin/configs"): V,
    ("POST", "/admin/configs"): OP,
    ("GET", "/admin/deployments"): V,
    ("POST", "/admin/deployments"): OP,
    ("POST", "/admin/deployments/{deployment_id}/rollback"): OP,
    ("POST", "/admin/scenes/{name}/buckets/{bucket}/rollback"): OP,
    ("POST", "/admin/scenes/{name}/buckets/{bucket}/canary/promote"): OP,
    ("POST", "/admin/scenes/{name}/buckets/{bucket}/canary/abort"): OP,
    ("GET", "/admin/canaries"): V,
    ("GET", "/admin/scripts/versions"): V,
    ("POST", "/admin/scripts/fetch"): OP,
    ("GET", "/admin/audit"): V,
    ("GET", "/admin/change-requests"): V,
    ("GET", "/admin/change-requests/{request_id}"): V,
    ("POST", "/admin/change-requests/{request_id}/approve"): OP,
    ("POST", "/admin/change-requests/{request_id}/reject"): OP,
    ("POST", "/admin/change-requests/{request_id}/cancel"): OP,
    ("GET", "/admin/models"): V,
    ("POST", "/admin/models/reload"): OP,
    ("POST", "/admin/models/{name}/activate"): OP,
    ("GET", "/admin/experiments/{scene}/report"): V,
    ("GET", "/admin/samples"): OP,
    ("POST", "/admin/debug/recommend"): V,  # a dry run (script, deployment_id): operators
    ("POST", "/admin/replays"): OP,
    ("GET", "/admin/replays"): V,
    ("GET", "/admin/replays/{replay_id}"): V,
    ("GET", "/auth/me"): V,
    ("GET", "/admin/users"): A,
    ("POST", "/admin/users"): A,
    ("GET", "/admin/tokens"): A,
    ("POST", "/admin/tokens"): A,
    ("POST", "/admin/tokens/{token_id}/revoke"): A,
    ("DELETE", "/admin/user-data/{user_id}"): A,
    ("GET", "/admin/export"): A,  # it lists the users
    ("POST", "/admin/import"): A,
}
PUBLIC = {("POST", "/auth/login")}
GRANTED = {
    "viewer": {V},
    "operator": {V, OP},
    "admin": {V, OP, A},
    "data-reader": set(),
}


def _guarded_routes(app: PrismApp) -> set[tuple[str, str]]:
    """Every route the app serves under /admin and /auth, as its OpenAPI document says."""
    paths = app.api.openapi()["paths"]
    return {
        (method.upper(), path)
        for path, ops in paths.items()
        if path.startswith(("/admin", "/auth"))
        for method in ops
    } - PUBLIC


def _url(path: str) -> str:
    """Path parameters filled with values that name nothing (no route has effects)."""
    return re.sub(r"\{(\w+)\}", lambda m: "999999" if m.group(1).endswith("_id") else "zz", path)


def test_every_admin_route_is_listed_with_the_role_it_needs(app: PrismApp) -> None:
    assert _guarded_routes(app) == set(ROUTES)


def test_no_token_is_401_and_each_role_gets_what_it_grants(app: PrismApp) -> None:
    headers = {role: grant(app.control, role) for role in GRANTED}
    bad_token = {"Authorization": "Bearer prism_not-a-token"}
    with TestClient(app) as c:
        for (method, path), needed in sorted(ROUTES.items()):
            url, body = _url(path), {"not_a_field": 1}  # bodies fail validation: no effect
            for anonymous in ({}, bad_token):
                r = c.request(method, url, json=body, headers=anonymous)
                assert r.status_code == 401, (method, path, r.text)
                assert r.headers["www-authenticate"] == "Bearer"
            for role, granted in GRANTED.items():
                r = c.request(method, url, json=body, headers=headers[role])
                if needed in granted:
                    assert r.status_code not in (401, 403), (role, method, path, r.text)
                else:
                    assert r.status_code == 403, (role, method, path, r.text)
                    assert needed in r.json()["message"]


@pytest.mark.parametrize("header", ["X-Prism-Actor", "x-prism-actor"])
def test_the_audit_names_the_authenticated_user_never_a_header(app: PrismApp, header: str) -> None:
    headers = {**grant(app.control, "operator", name="olga"), header: "mallory"}
    with TestClient(app, headers=headers) as c:
        body = {"script": "home_feed.py", "name": "quick", "params": {}}
        assert c.post("/admin/configs", json=body).status_code == 201
        [entry] = [a for a in c.get("/admin/audit").json() if a["key"].endswith(":quick")]
    assert entry["actor"] == "olga"
