"""A scene's read budget (``read_timeout_ms``): set through the admin API, the CLI and
the store, validated, carried in the serving snapshot (the node default otherwise)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main
from prism_platform.errors import Invalid

DEFAULT_MS = 30.0  # Settings().redis_timeout_ms, PRISM_REDIS_TIMEOUT_MS unset


def _served_budget(client: TestClient, scene: str) -> Any:
    return client.get("/admin/status").json()["scenes"][scene]["read_timeout_ms"]


def test_set_changed_and_reset_through_the_admin_api(client: TestClient) -> None:
    assert client.get("/admin/scenes/home_feed").json()["read_timeout_ms"] is None
    assert _served_budget(client, "home_feed") == DEFAULT_MS
    r = client.post("/admin/scenes", json={"name": "quick", "read_timeout_ms": 12})
    assert r.status_code == 201 and r.json()["read_timeout_ms"] == 12
    assert _served_budget(client, "quick") == 12
    r = client.patch("/admin/scenes/quick", json={"read_timeout_ms": 45, "deadline_ms": 90})
    assert r.json()["read_timeout_ms"] == 45 and _served_budget(client, "quick") == 45
    r = client.patch("/admin/scenes/quick", json={"deadline_ms": 95})  # not given: kept
    assert r.json()["read_timeout_ms"] == 45
    r = client.patch("/admin/scenes/quick", json={"read_timeout_ms": None})
    assert r.json()["read_timeout_ms"] is None and _served_budget(client, "quick") == DEFAULT_MS
    audit = client.get("/admin/audit", params={"limit": 3}).json()
    assert any(a["detail"] == {"read_timeout_ms": None} for a in audit)


def test_the_served_budget_is_at_most_the_deadline(client: TestClient) -> None:
    """A read in flight cannot be interrupted: a budget above the deadline is served as
    the deadline (the stored value is kept, and applies again if the deadline grows)."""
    r = client.post("/admin/scenes", json={"name": "quick", "deadline_ms": 40})
    assert r.status_code == 201
    assert _served_budget(client, "quick") == 30.0  # the default, under the deadline
    client.patch("/admin/scenes/quick", json={"read_timeout_ms": 250})
    assert _served_budget(client, "quick") == 40.0
    assert client.get("/admin/scenes/quick").json()["read_timeout_ms"] == 250
    client.patch("/admin/scenes/quick", json={"deadline_ms": 400})
    assert _served_budget(client, "quick") == 250.0
    client.patch("/admin/scenes/quick", json={"read_timeout_ms": None, "deadline_ms": 20})
    assert _served_budget(client, "quick") == 20.0


@pytest.mark.parametrize("bad", [0, -5, 10_001, 2.5, "20", True])
def test_bad_budgets_are_422_naming_the_field(client: TestClient, bad: Any) -> None:
    for r in (
        client.post("/admin/scenes", json={"name": "quick", "read_timeout_ms": bad}),
        client.patch("/admin/scenes/home_feed", json={"read_timeout_ms": bad}),
    ):
        assert r.status_code == 422, r.text
        assert r.json()["field"] == "read_timeout_ms"
    assert client.get("/admin/scenes/home_feed").json()["read_timeout_ms"] is None


def test_the_store_checks_it_too(client: TestClient, app: Any) -> None:
    with pytest.raises(Invalid) as exc:
        app.control.store.update_scene("home_feed", actor="t", read_timeout_ms=True)
    assert exc.value.field == "read_timeout_ms"


def test_the_cli_sets_and_resets_it(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # the app, in-process
    monkeypatch.setattr(cli_client, "open_client", lambda url: nullcontext(client))
    run = CliRunner().invoke
    result = run(main, ["scene", "--name", "quick", "--read-timeout-ms", "15"])
    assert result.exit_code == 0, result.output
    assert _served_budget(client, "quick") == 15
    result = run(main, ["scene-set", "quick", "--read-timeout-ms", "0"])
    assert result.exit_code == 1 and "read_timeout_ms" in result.output
    result = run(main, ["scene-set", "quick", "--read-timeout-ms", "25", "--max-size", "50"])
    assert result.exit_code == 0 and '"read_timeout_ms": 25' in result.output
    assert client.get("/admin/scenes/quick").json()["max_size"] == 50
    assert run(main, ["scene-set", "quick", "--default-read-timeout"]).exit_code == 0
    assert _served_budget(client, "quick") == DEFAULT_MS
    assert run(main, ["scene-set", "quick"]).exit_code == 2  # nothing to change
