"""``POST /admin/debug/recommend``: the request debugger over HTTP (viewers live, operators
also dry runs), with bad fields answered 422 (or 404) naming them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_testkit.accounts import grant

URL = "/admin/debug/recommend"


@pytest.fixture
def operator(app: PrismApp) -> Iterator[TestClient]:
    with TestClient(app, headers=grant(app.control, "operator")) as c:
        yield c


def _debug(c: TestClient, **body: Any) -> dict[str, Any]:
    r = c.post(URL, json={"scene": "home_feed", "user_id": "7", **body})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_an_operator_debugs_the_live_routing(operator: TestClient) -> None:
    body = _debug(operator, size=5, context={"page": "home"})
    assert len(body["items"]) == 5 and body["target"]["kind"] == "live"
    stages = {s["stage"]: s for s in body["trace"]["stages"]}
    assert stages["merge"]["candidates"] and "removed" in stages["filter.seen"]
    served = operator.post("/v1/recommend", json={"scene": "home_feed", "user_id": "7", "size": 5})
    assert [i["item_id"] for i in body["items"]] == [i["item_id"] for i in served.json()["items"]]


def test_a_dry_run_of_a_script_at_a_version_with_params(operator: TestClient) -> None:
    body = _debug(operator, script="popular_only.py", version="worktree", params={"pool": 25})
    assert body["dry_run"] is True and body["strategy"]["name"] == "popular_only"
    assert body["trace"]["params"]["pool"] == 25
    history = operator.get("/admin/deployments").json()
    assert not any(d["script_path"] == "popular_only.py" for d in history)


def test_a_dry_run_of_a_deployment(operator: TestClient) -> None:
    (dep,) = operator.get("/admin/deployments", params={"scene": "home_feed"}).json()
    body = _debug(operator, deployment_id=dep["id"], user_id=7)  # an integer user id too
    assert body["target"]["deployment_id"] == dep["id"] and body["dry_run"] is True


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"user_id": "7"}, 422, "scene"),
        ({"scene": "home_feed"}, 422, "user_id"),
        ({"scene": "home_feed", "user_id": "7", "size": 0}, 422, "size"),
        ({"scene": "home_feed", "user_id": "7", "size": 500}, 422, "size"),
        ({"scene": "home_feed", "user_id": "7", "context": []}, 422, "context"),
        ({"scene": "home_feed", "user_id": "7", "colour": "red"}, 422, "colour"),
        ({"scene": "home_feed", "user_id": "7", "context": {"page": 1}}, 422, "context.page"),
        ({"scene": "home_feed", "user_id": ""}, 422, "user_id"),
        ({"scene": "nowhere", "user_id": "7"}, 404, "scene"),
        ({"scene": "home_feed", "user_id": "7", "deployment_id": "x"}, 422, "deployment_id"),
        ({"scene": "home_feed", "user_id": "7", "deployment_id": 99999}, 404, "deployment_id"),
        (
            {"scene": "home_feed", "user_id": "7", "deployment_id": 1, "script": "noop.py"},
            422,
            "deployment_id",
        ),
        ({"scene": "home_feed", "user_id": "7", "config": "default"}, 422, "config"),
        ({"scene": "home_feed", "user_id": "7", "script": "../etc.py"}, 422, "script"),
        ({"scene": "home_feed", "user_id": "7", "script": "nope.py"}, 404, "script"),
        (
            {"scene": "home_feed", "user_id": "7", "script": "noop.py", "config": "nope"},
            404,
            "config",
        ),
        (
            {"scene": "home_feed", "user_id": "7", "script": "popular_only.py", "params": {"x": 1}},
            422,
            "params.x",
        ),
    ],
)
def test_bad_fields_are_named(
    operator: TestClient, body: dict[str, Any], status: int, field: str
) -> None:
    r = operator.post(URL, json=body)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field, r.json()


def test_viewers_debug_the_live_routing_but_dry_runs_need_an_operator(app: PrismApp) -> None:
    with TestClient(app, headers=grant(app.control, "viewer")) as viewer:
        live = viewer.post(URL, json={"scene": "home_feed", "user_id": "7"})
        assert live.status_code == 200 and live.json()["trace"]["stages"], live.text
        for dry in ({"script": "popular_only.py"}, {"deployment_id": 1}):
            body = {"scene": "home_feed", "user_id": "7", **dry}
            r = viewer.post(URL, json=body)
            assert r.status_code == 403 and "needs operator" in r.json()["message"], r.text
