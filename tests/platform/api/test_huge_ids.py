"""An id in a URL or a body beyond the database's 64-bit integers is an unknown id: 404
naming it, never a 500 (SQLite cannot even bind it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_testkit.accounts import grant

HUGE = 10**30


@pytest.fixture
def admin(app: PrismApp) -> Iterator[TestClient]:
    with TestClient(app, headers=grant(app.control, "admin")) as c:
        yield c


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", f"/admin/change-requests/{HUGE}", None, "id"),
        ("POST", f"/admin/change-requests/{HUGE}/approve", None, "id"),
        ("POST", f"/admin/change-requests/{HUGE}/reject", {"reason": "no"}, "id"),
        ("POST", f"/admin/change-requests/{HUGE}/cancel", None, "id"),
        ("POST", f"/admin/deployments/{HUGE}/rollback", None, "id"),
        ("POST", f"/admin/tokens/{HUGE}/revoke", None, "token"),  # found by schemathesis
        ("GET", f"/admin/replays/{HUGE}", None, "id"),
        (
            "POST",
            "/admin/debug/recommend",
            {"scene": "home_feed", "user_id": "7", "deployment_id": HUGE},
            "deployment_id",
        ),
    ],
)
def test_a_huge_id_is_not_found(
    admin: TestClient, method: str, path: str, body: Any, field: str
) -> None:
    r = admin.request(method, path, json=body)
    assert r.status_code == 404, r.text
    assert r.json()["field"] == field
