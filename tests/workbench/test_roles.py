"""Every workbench route × every kind of caller (table-driven, like the API's roles)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_workbench.actions import build_actions_router
from prism_workbench.approvals import build_approvals_router
from prism_workbench.debug import build_debug_router
from prism_workbench.deploy_routes import build_deploy_router
from prism_workbench.experiments import build_experiments_router
from prism_workbench.login import build_login_router
from prism_workbench.pages import build_pages_router
from prism_workbench.render import Renderer
from prism_workbench.replay import build_replay_router
from prism_workbench.scripts import build_scripts_router
from prism_workbench.whitelist import build_whitelist_router

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
    "/workbench/scripts/file",
    "/workbench/scripts/diff",
    "/workbench/deploy",
    "/workbench/deploy/rollout/{generation}",
    "/workbench/fragments/rollout/{generation}",
    "/workbench/approvals",
    "/workbench/experiments",
    "/workbench/experiments/{scene}",
    "/workbench/debug",
    "/workbench/fragments/debug/deployments",
    "/workbench/replay",
    "/workbench/replay/{replay_id:int}",
    "/workbench/replay/{replay_id:int}.json",
    "/workbench/fragments/replay/{replay_id:int}",
]
CHANGES = [
    "/workbench/history/rollback",
    "/workbench/models/activate",
    "/workbench/scenes/{scene}/preview",
    "/workbench/scenes/{scene}/split",
    "/workbench/deploy/check",
    "/workbench/deploy",
    "/workbench/scenes/{scene}/buckets/{bucket}/canary/promote",
    "/workbench/scenes/{scene}/buckets/{bucket}/canary/abort",
    "/workbench/scenes/{scene}/whitelist",
    "/workbench/experiments/{scene}/start",
    "/workbench/experiments/{scene}/stop",
    "/workbench/approvals/{request_id}/{decision}",
    "/workbench/replay",
]
"""Operators' POST routes (logout, open to every role, is tested with the sessions)."""
READS = ["/workbench/debug"]
"""POST routes open to every role: CSRF-checked, they change nothing (a debug run of the
live routing; its dry runs need an operator: tests/workbench/test_debug.py)."""
VIEWER_FORMS = {"/workbench/debug": ["/workbench/debug"]}
"""The POST forms a viewer sees on a page besides "Log out" (those of READS)."""
ADMIN_CHANGES = ["/workbench/scenes/{scene}/protect"]
"""Admins' POST routes (their roles: tests/workbench/test_approvals.py)."""
EXAMPLE = {
    "{scene}": "home_feed",
    "{bucket}": "base",
    "{generation}": "1",
    "{request_id}": "999",
    "{decision}": "approve",
    "{replay_id:int}": "1",
}
"""What the tests put for each path parameter."""
QUERY = {
    "/workbench/scripts/file": "?path=home_feed.py",
    "/workbench/scripts/diff": "?path=home_feed.py&a=worktree&b=worktree",
}
"""What the tests put in the query of pages that need one."""
ABSENT = {
    "/workbench/replay/{replay_id:int}",
    "/workbench/replay/{replay_id:int}.json",
    "/workbench/fragments/replay/{replay_id:int}",
}
"""Pages of a replay, which a new node has none of: every role gets past the session to
a 404 (tests/workbench/test_replay.py reads real ones as a viewer)."""


def concrete(path: str) -> str:
    query = QUERY.get(path, "")
    for param, value in EXAMPLE.items():
        path = path.replace(param, value)
    return path + query


def test_the_table_covers_every_workbench_route(wb_app: PrismApp) -> None:
    render = Renderer()
    routers = [
        build(wb_app.control, render)
        for build in (
            build_login_router,
            build_pages_router,
            build_actions_router,
            build_approvals_router,
            build_deploy_router,
            build_experiments_router,
            build_whitelist_router,
            build_scripts_router,
            build_debug_router,
            build_replay_router,
        )
    ]
    routes = {(m, r.path) for router in routers for r in router.routes for m in r.methods}
    listed = {("GET", p) for p in PAGES}
    listed |= {("POST", p) for p in [*CHANGES, *ADMIN_CHANGES, *READS]}
    listed |= {("GET", "/workbench/login"), ("POST", "/workbench/login")}
    listed |= {("POST", "/workbench/logout")}
    assert routes == listed


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_pages_redirect_to_login(wb_app: PrismApp, path: str) -> None:
    r = TestClient(wb_app, follow_redirects=False).get(concrete(path))
    assert r.status_code == 303 and r.headers["location"] == "/workbench/login"


@pytest.mark.parametrize("path", [*CHANGES, *ADMIN_CHANGES, *READS, "/workbench/logout"])
def test_anonymous_changes_are_401(wb_app: PrismApp, path: str) -> None:
    r = TestClient(wb_app, follow_redirects=False).post(concrete(path), data={"csrf": "x"})
    assert r.status_code == 401


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_every_role_reads_every_page(login: Login, role: str) -> None:
    c = login(role)
    for path in PAGES:
        r = c.get(concrete(path))
        expected = 404 if path in ABSENT else 200
        assert r.status_code == expected, (path, r.text[:300])
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


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
@pytest.mark.parametrize("path", READS)
def test_reads_by_post_are_open_to_every_role_with_the_csrf_token(
    login: Login, csrf_of: CsrfOf, role: str, path: str
) -> None:
    c = login(role)
    assert c.post(concrete(path), data={"csrf": "0" * 64}).status_code == 403
    csrf = csrf_of(c.get("/workbench/").text)
    r = c.post(concrete(path), data={"csrf": csrf})  # an empty form: its errors, inline
    assert r.status_code not in (401, 403), r.text[:300]
    assert 'class="notice error"' in r.text


def test_viewers_see_no_action_buttons(wb_app: PrismApp, login: Login) -> None:
    viewer, operator = login("viewer"), login("operator")
    assert "Roll back to this" in operator.get("/workbench/history").text
    for path in PAGES:
        html = viewer.get(concrete(path)).text
        forms = re.findall(r'<form[^>]*method="post"[^>]*action="([^"]+)"', html)
        fragment = "/fragments/" in path and path not in ABSENT  # a 404 is a whole page
        expected = [] if fragment else ["/workbench/logout", *VIEWER_FORMS.get(path, [])]
        assert forms == expected, (path, forms)
        assert "Roll back to this" not in html and "Activate" not in html
