"""``/admin/replays``: operators start a replay on the node (``202`` and its id), viewers
follow it; bad bodies are ``422`` naming the field; no token ``401``, a viewer's ``403``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_testkit.accounts import grant
from tests.platform.replay.conftest import serve


@pytest.fixture
def lines(app: PrismApp) -> list[str]:
    return [line.decode() for line in serve(app, range(1, 41))]


@pytest.fixture
def operator(app: PrismApp) -> Iterator[TestClient]:
    with TestClient(app, headers=grant(app.control, "operator", name="olga")) as c:
        yield c


def finished(c: TestClient, replay_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = c.get(f"/admin/replays/{replay_id}")
        assert r.status_code == 200, r.text
        run: dict[str, Any] = r.json()
        if run["state"] != "running":
            return run
        time.sleep(0.05)
    raise AssertionError(f"replay {replay_id} still runs")


def test_an_operator_starts_a_replay_of_lines_and_a_viewer_follows_it(
    app: PrismApp, operator: TestClient, lines: list[str]
) -> None:
    body = {"candidate": "home_feed.py", "samples": lines, "fail_if": ["rbo<0.99"]}
    r = operator.post("/admin/replays", json=body)
    assert r.status_code == 202, r.text
    replay_id = r.json()["id"]
    assert r.json()["url"] == f"/admin/replays/{replay_id}"
    with TestClient(app, headers=grant(app.control, "viewer")) as viewer:
        run = finished(viewer, replay_id)
        assert run["state"] == "done" and run["error"] is None and run["actor"] == "olga"
        assert run["progress"] == {"done": 40, "total": 40}
        report = run["report"]
        assert report["requests"] == 40 and report["diff"]["rbo"] == 1.0
        assert report["fail_if"] == {"rules": ["rbo<0.99"], "failed": []}
        assert len(report["diff"]["rbo_values"]) == 40
        listed = viewer.get("/admin/replays").json()
        assert listed[0]["id"] == replay_id and "rbo_values" not in listed[0]["report"]["diff"]
        assert viewer.post("/admin/replays", json=body).status_code == 403
    audit = app.control.audit(20)
    assert any(a.action == "replay" and a.actor == "olga" for a in audit)
    assert (app.control.replay_dir / f"{replay_id}.json").is_file()  # type: ignore[operator]


def test_a_replay_of_the_nodes_sample_log_can_record_its_data_for_the_next(
    operator: TestClient, lines: list[str]
) -> None:
    body = {"candidate": "home_feed.py", "scene": "home_feed", "since": "1h", "record_data": True}
    first = finished(operator, operator.post("/admin/replays", json=body).json()["id"])
    assert first["state"] == "done" and first["report"]["requests"] == 40
    assert first["report"]["data"]["recorded_reads"] > 0
    again = {"candidate": "home_feed.py", "scene": "home_feed", "data": first["id"]}
    second = finished(operator, operator.post("/admin/replays", json=again).json()["id"])
    assert second["report"]["data"]["source"] == "snapshot"
    assert second["report"]["data"]["misses"] == {"A": 0, "A2": 0, "B": 0}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"candidate": "home_feed.py"}, "(body)"),  # neither samples nor a scene
        ({"candidate": "home_feed.py", "samples": ["{}"]}, "samples"),
        ({"candidate": "@v1", "scene": "home_feed"}, "candidate"),
        ({"candidate": "home_feed.py", "scene": "home_feed", "fail_if": ["x<1"]}, "fail_if"),
        ({"candidate": "home_feed.py", "scene": "home_feed", "analysis": "m:f"}, "analysis"),
        ({"candidate": "home_feed.py", "scene": "home_feed", "since": "soon"}, "since"),
        ({"candidate": "home_feed.py", "scene": "home_feed", "k": 0}, "k"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(
    operator: TestClient, lines: list[str], body: dict[str, Any], field: str
) -> None:
    r = operator.post("/admin/replays", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.text


def test_unknown_things_are_404_and_no_token_is_401(operator: TestClient, lines: list[str]) -> None:
    assert operator.get("/admin/replays/999").status_code == 404
    r = operator.post("/admin/replays", json={"candidate": "home_feed.py", "scene": "nope"})
    assert r.status_code == 404 and r.json()["field"] == "scene"
    again = {"candidate": "home_feed.py", "scene": "home_feed", "data": 999}
    assert operator.post("/admin/replays", json=again).status_code == 404
    config = {"candidate": "home_feed.py", "scene": "home_feed", "config": "nope"}
    r = operator.post("/admin/replays", json=config)
    assert r.status_code == 404 and r.json()["field"] == "config"
    anonymous = operator.get("/admin/replays", headers={"Authorization": ""})
    assert anonymous.status_code == 401
