"""A scene's script budgets (``budgets``): set through the admin API and the CLI,
validated (a bad one is a 422 naming ``budgets.<name>``), audited, served over the
node's defaults; ``null`` goes back to the node's."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main

NODE = {"round_trips": 100, "read_keys": 50_000, "candidates": 100_000, "retained_objects": 64}


def _served(client: TestClient, scene: str) -> Any:
    return client.get("/admin/status").json()["scenes"][scene]["budgets"]


def test_bad_budgets_are_refused_naming_the_field(client: TestClient) -> None:
    for bad, field in [
        ({"candidates": 0}, "budgets.candidates"),
        ({"candidates": "many"}, "budgets.candidates"),
        ({"round_trips": True}, "budgets.round_trips"),
        ({"memory": 5}, "budgets"),
        ([1], "budgets"),
    ]:
        r = client.patch("/admin/scenes/home_feed", json={"budgets": bad})
        assert r.status_code == 422 and r.json()["field"] == field, (bad, r.text)
    r = client.post("/admin/scenes", json={"name": "q", "budgets": {"read_keys": 10**9}})
    assert r.status_code == 422 and r.json()["field"] == "budgets.read_keys"
    assert client.get("/admin/scenes/home_feed").json()["budgets"] is None
    audit = client.get("/admin/audit").json()
    assert not any(a["key"] == "home_feed" and a["action"] == "update" for a in audit)


def test_set_through_the_api_and_audited(client: TestClient) -> None:
    assert _served(client, "home_feed") == NODE
    r = client.post("/admin/scenes", json={"name": "quick", "budgets": {"candidates": 500}})
    assert r.status_code == 201 and r.json()["budgets"] == {"candidates": 500}
    assert _served(client, "quick") == {**NODE, "candidates": 500}
    r = client.patch("/admin/scenes/quick", json={"budgets": {"round_trips": 4}})
    assert r.json()["budgets"] == {"round_trips": 4}  # replaces them
    assert _served(client, "quick") == {**NODE, "round_trips": 4}
    r = client.patch("/admin/scenes/quick", json={"deadline_ms": 90})
    assert r.json()["budgets"] == {"round_trips": 4}  # untouched when not given
    assert client.patch("/admin/scenes/quick", json={"budgets": None}).json()["budgets"] is None
    assert _served(client, "quick") == NODE
    audit = client.get("/admin/audit").json()
    assert any(a["detail"] == {"budgets": {"round_trips": 4}} for a in audit)


def test_the_cli_sets_and_resets_them(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_client, "open_client", lambda url: nullcontext(client))
    run = CliRunner().invoke
    result = run(main, ["scene", "--name", "quick", "--budgets", '{"read_keys": 900}'])
    assert result.exit_code == 0, result.output
    assert _served(client, "quick")["read_keys"] == 900
    result = run(main, ["scene-set", "quick", "--budgets", '{"candidates": -1}'])
    assert result.exit_code == 1 and "budgets.candidates" in result.output
    result = run(main, ["scene-set", "quick", "--budgets", "{not json"])
    assert result.exit_code == 2 and "--budgets" in result.output
    assert run(main, ["scene-set", "quick", "--default-budgets"]).exit_code == 0
    assert _served(client, "quick") == NODE
