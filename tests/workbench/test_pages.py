"""What the pages show, and a rollback made from History."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.testclient import TestClient

from prism_platform.app import PrismApp

Login = Callable[[str], TestClient]
CsrfOf = Callable[[str], str]


def _served_config(app: PrismApp) -> str:
    r = TestClient(app).post("/v1/recommend", json={"scene": "home_feed", "user_id": "5"})
    return str(r.json()["strategy"]["config"])


def test_the_overview_shows_scenes_buckets_traffic_and_nodes(
    wb_app: PrismApp, login: Login
) -> None:
    _served_config(wb_app)  # one request on home_feed/base
    c = login("viewer")
    html = c.get("/workbench/").text
    for scene in ("home_feed", "item_detail", "cart"):
        assert f"<h2>{scene} <small>" in html
    assert "home_feed@wt-" in html and "deadline 80 ms" in html
    assert wb_app.control.status()["node"] in html
    assert 'hx-get="/workbench/fragments/overview" hx-trigger="every 5s"' in html
    assert '<script src="/workbench/static/htmx.min.js"' in html
    fragment = c.get("/workbench/fragments/overview", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment and "home_feed@wt-" in fragment
    js = c.get("/workbench/static/htmx.min.js")
    assert js.status_code == 200 and js.text.startswith("/*! htmx 2.")


def test_history_filters_by_scene_and_actor(wb_app: PrismApp, login: Login) -> None:
    c = login("viewer")
    html = c.get("/workbench/history", params={"scene": "cart"}).text
    assert "<code>cart/base</code>" in html and "home_feed/base" not in html
    html = c.get("/workbench/history", params={"actor": "nobody"}).text
    assert "Nothing recorded for this filter" in html


def test_a_rollback_from_history_changes_what_is_served_and_is_audited(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf
) -> None:
    control = wb_app.control
    first = control.deployments("home_feed", active=True)[0]
    params = {"quota_i2i": 0, "quota_usercf": 0, "quota_category": 0}
    control.put_config("home_feed.py", "popular_only", params, actor="someone")
    control.deploy("home_feed", "base", "home_feed.py", "popular_only", actor="someone")
    assert _served_config(wb_app) == "popular_only"

    c = login("operator")
    page = c.get("/workbench/history", params={"scene": "home_feed"}).text
    assert f'name="deployment_id" value="{first.id}"' in page
    data = {"csrf": csrf_of(page), "deployment_id": str(first.id), "scene": "home_feed"}
    r = c.post("/workbench/history/rollback", data=data)
    assert r.status_code == 200 and "serves home_feed.py@" in r.text, r.text[:500]
    assert _served_config(wb_app) == "default"
    entry = next(e for e in control.audit(10) if e.action == "rollback")
    assert entry.actor == c.user and entry.detail["to"] == first.id  # type: ignore[attr-defined]


def test_a_rejected_rollback_shows_why(login: Login, csrf_of: CsrfOf) -> None:
    c = login("operator")
    csrf = csrf_of(c.get("/workbench/history").text)
    r = c.post("/workbench/history/rollback", data={"csrf": csrf, "deployment_id": "4242"})
    assert r.status_code == 404 and "4242" in r.text


def test_models_page_without_models_says_how_to_make_one(login: Login) -> None:
    assert "No ranker models are registered" in login("operator").get("/workbench/models").text


def test_every_page_answers_well_under_a_second(login: Login) -> None:
    c = login("admin")
    for path in ("/workbench/", "/workbench/history", "/workbench/models", "/workbench/deploy"):
        start = time.perf_counter()
        assert c.get(path).status_code == 200
        assert time.perf_counter() - start < 1.0, path
