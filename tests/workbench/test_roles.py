"""Every workbench route × every kind of caller (table-driven, like the API's roles)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_workbench.actions import build_actions_router
from prism_workbench.login import build_login_router
from prism_workbench.pages import build_pages_router
from prism_workbench.render import Renderer

Login = Callable[[str], TestClient]
CsrfOf = Callable[[str], str]

PAGES = [
    "/workbench/",
    "/workbench/fragments/overview",
    "/workbench/history",
    "/workbench/models",
    "/workbench/scenes",
    "/workbench/scenes/{scene}",
    "/workbench/scripts",
    "/workbench/deploy",
    "/workbench/approvals",
    "/workbench/experiments",
    "/workbench/debug",
    "/workbench/replay",
]
CHANGES = [
    "/workbench/history/rollback",
    "/workbench/models/activate",
    "/workbench/scenes/{scene}/preview",
    "/workbench/scenes/{scene}/split",
]
"""Operators' POST routes (logout, open to every role, is tested with the sessions)."""
EXAMPLE = {"{scene}": "home_feed"}
"""What the tests put for each path parameter."""


def concrete(path: str) -> str:
    for param, value in EXAMPLE.items():
        path = path.replace(param, value)
    return path


def test_the_table_covers_every_workbench_route(wb_app: PrismApp) -> None:
    render = Renderer()
    routers = [
        build(wb_app.control, render)
        for build in (build_login_router, build_pages_router, build_actions_router)
    ]
    routes = {(m, r.path) for router in routers for r in router.routes for m in r.methods}
    listed = {("GET", p) for p in PAGES} | {("POST", p) for p in CHANGES}
    listed |= {("GET", "/workbench/login"), ("POST", "/workbench/login")}
    listed |= {("POST", "/workbench/logout")}
    assert routes == listed


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_pages_redirect_to_login(wb_app: PrismApp, path: str) -> None:
    r = TestClient(wb_app, follow_redirects=False).get(concrete(path))
    assert r.status_code == 303 and r.headers["location"] == "/workbench/login"


@pytest.mark.parametrize("path", [*CHANGES, "/workbench/logout"])
def test_anonymous_changes_are_401(wb_app: PrismApp, path: str) -> None:
    r = TestClient(wb_app, follow_redirects=False).post(concrete(path), data={"csrf": "x"})
    assert r.status_code == 401


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_every_role_reads_every_page(login: Login, role: str) -> None:
    c = login(role)
    for path in PAGES:
        r = c.get(concrete(path))
        assert r.status_code == 200, (path, r.text[:300])
        assert r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("role", "allowed"), [("viewer", False), ("operator", True), ("admin", True)]
)
@pytest.mark.parametrize("path", CHANGES)
def test_changes_need_an_operator(
    login: Login, csrf_of: CsrfOf, role: str, allowed: bool, path: str
) -> None:
    c = login(role)
    csrf = csrf_of(c.get("/workbench/").text)
    # a form naming nothing that exists: allowed callers get past the role check to
    # Control's own answer (an error page), the others a 403
    data = {"csrf": csrf, "deployment_id": "999", "name": "x", "version": "1"}
    r = c.post(concrete(path), data=data)
    if allowed:
        assert r.status_code not in (401, 403), r.text[:300]
        assert 'class="notice error"' in r.text
    else:
        assert r.status_code == 403 and "may not do this" in r.text


def test_viewers_see_no_action_buttons(wb_app: PrismApp, login: Login) -> None:
    viewer, operator = login("viewer"), login("operator")
    assert "Roll back to this" in operator.get("/workbench/history").text
    for path in PAGES:
        html = viewer.get(concrete(path)).text
        forms = re.findall(r'<form[^>]*method="post"[^>]*action="([^"]+)"', html)
        fragment = "/fragments/" in path
        assert forms == ([] if fragment else ["/workbench/logout"]), (path, forms)
        assert "Roll back to this" not in html and "Activate" not in html
