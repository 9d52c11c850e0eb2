"""Logging in and out, expiry and revocation, CSRF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from httpx import Response
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_workbench.csrf import csrf_token

Login = Callable[[str], TestClient]
FormLogin = Callable[[TestClient, str, str], Response]
CsrfOf = Callable[[str], str]
PASSWORD = "correct horse battery"


def test_the_login_form_has_labelled_inputs(wb_app: PrismApp) -> None:
    page = TestClient(wb_app).get("/workbench/login")
    assert page.status_code == 200
    assert '<label for="user">' in page.text and 'id="user"' in page.text
    assert '<label for="password">' in page.text and 'type="password"' in page.text


def test_a_good_login_sets_a_strict_http_only_cookie(
    wb_app: PrismApp, form_login: FormLogin
) -> None:
    wb_app.control.accounts.add_user("ann", "viewer", PASSWORD, actor="test")
    c = TestClient(wb_app, follow_redirects=False)
    r = form_login(c, "ann", PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/workbench/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("prism_session=")
    for part in ("HttpOnly", "SameSite=strict", "Path=/workbench", "Max-Age=4319"):
        assert part.lower() in cookie.lower(), cookie
    assert c.get("/workbench/").status_code == 200
    assert wb_app.control.audit(1)[0].action == "login"


def test_a_bad_login_shows_the_form_again_with_the_error(
    wb_app: PrismApp, form_login: FormLogin
) -> None:
    wb_app.control.accounts.add_user("bob", "viewer", PASSWORD, actor="test")
    c = TestClient(wb_app, follow_redirects=False)
    r = form_login(c, "bob", "wrong password")
    assert r.status_code == 401 and "wrong user name or password" in r.text
    assert 'value="bob"' in r.text and "prism_session" not in r.headers.get("set-cookie", "")
    assert c.get("/workbench/").status_code == 303


def test_logins_are_rate_limited(wb_app: PrismApp, form_login: FormLogin) -> None:
    wb_app.control.accounts.add_user("cid", "viewer", PASSWORD, actor="test")
    c = TestClient(wb_app, follow_redirects=False)
    codes = [form_login(c, "cid", "nope nope").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    r = form_login(c, "cid", PASSWORD)
    assert r.status_code == 429 and "too many failed logins" in r.text


def test_logout_revokes_the_session_token(wb_app: PrismApp, login: Login, csrf_of: CsrfOf) -> None:
    c = login("viewer")
    token = c.cookies["prism_session"].partition(".")[2]
    csrf = csrf_of(c.get("/workbench/").text)
    r = c.post("/workbench/logout", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/workbench/login"
    assert "prism_session" not in c.cookies
    c.cookies.set("prism_session", f"0.{token}", path="/workbench")  # replaying the token
    assert c.get("/workbench/").status_code == 303
    assert wb_app.control.audit(1)[0].action == "revoke"


def test_an_expired_session_goes_back_to_the_login_page(wb_app: PrismApp) -> None:
    accounts = wb_app.control.accounts
    accounts.add_user("dee", "operator", PASSWORD, actor="test")
    issued = accounts.create_token("dee", expires_in=timedelta(0), actor="test")
    c = TestClient(wb_app, follow_redirects=False)
    c.cookies.set("prism_session", f"{issued.record.id}.{issued.token}", path="/workbench")
    r = c.get("/workbench/history")
    assert r.status_code == 303 and r.headers["location"] == "/workbench/login"
    r = c.get("/workbench/fragments/overview", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["hx-redirect"] == "/workbench/login"
    r = c.post("/workbench/history/rollback", data={"csrf": csrf_token(issued.token)})
    assert r.status_code == 401


def test_changes_without_the_right_csrf_token_are_403(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf
) -> None:
    c = login("admin")
    before = wb_app.control.deployments(active=True)
    for extra in ({}, {"csrf": "0" * 64}, {"csrf": ""}):
        r = c.post("/workbench/history/rollback", data={"deployment_id": "1", **extra})
        assert r.status_code == 403 and "CSRF" in r.text
    r = c.post("/workbench/logout", headers={"X-CSRF-Token": "wrong"})
    assert r.status_code == 403
    assert wb_app.control.deployments(active=True) == before
    csrf = csrf_of(c.get("/workbench/").text)
    r = c.post("/workbench/logout", headers={"X-CSRF-Token": csrf})  # htmx's way
    assert r.status_code == 303


def test_a_login_without_the_forms_token_is_refused(
    wb_app: PrismApp, form_login: FormLogin
) -> None:
    """Login CSRF: a post from another site carries neither the cookie nor the field."""
    wb_app.control.accounts.add_user("eve", "viewer", PASSWORD, actor="test")
    c = TestClient(wb_app, follow_redirects=False)
    bare = {"user": "eve", "password": PASSWORD}
    for extra in ({}, {"login_csrf": "a" * 64}):
        r = c.post("/workbench/login", data={**bare, **extra})
        assert r.status_code == 403 and "expired or came from another site" in r.text
        assert "prism_session" not in c.cookies
    page = c.get("/workbench/login")  # the form's cookie set, but a different field
    assert "prism_login=" in page.headers["set-cookie"]
    assert "httponly" in page.headers["set-cookie"].lower()
    r = c.post("/workbench/login", data={**bare, "login_csrf": "b" * 64})
    assert r.status_code == 403 and "prism_session" not in c.cookies
    assert form_login(c, "eve", PASSWORD).status_code == 303
    assert "prism_session" in c.cookies
