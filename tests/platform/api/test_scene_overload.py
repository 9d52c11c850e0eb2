"""A scene's answer to overload (``on_overload``): set through the admin API and the CLI,
validated (anything but ``refuse`` or ``standby`` is a 422 naming the field), audited,
served (``prism status``). What it does under load: ``tests/platform/serving/
test_admission.py``."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main


def _served(client: TestClient, scene: str) -> str:
    return str(client.get("/admin/status").json()["scenes"][scene]["on_overload"])


def test_set_through_the_api_validated_and_audited(client: TestClient) -> None:
    assert client.get("/admin/scenes/home_feed").json()["on_overload"] == "standby"  # demo
    assert client.get("/admin/scenes/cart").json()["on_overload"] == "refuse"  # the default
    assert _served(client, "cart") == "refuse"
    for bad in ("fallback", "", None, 1):
        r = client.patch("/admin/scenes/cart", json={"on_overload": bad})
        if bad is None:  # not given: nothing changes
            assert r.status_code == 200 and r.json()["on_overload"] == "refuse"
            continue
        assert r.status_code == 422 and r.json()["field"] == "on_overload", (bad, r.text)
    r = client.post("/admin/scenes", json={"name": "q", "on_overload": "shed"})
    assert r.status_code == 422 and r.json()["field"] == "on_overload"
    r = client.post("/admin/scenes", json={"name": "quick", "on_overload": "standby"})
    assert r.status_code == 201 and r.json()["on_overload"] == "standby"
    assert _served(client, "quick") == "standby"
    r = client.patch("/admin/scenes/quick", json={"on_overload": "refuse"})
    assert r.status_code == 200 and r.json()["on_overload"] == "refuse"
    assert _served(client, "quick") == "refuse"
    audit = client.get("/admin/audit").json()
    assert any(a["key"] == "quick" and a["detail"] == {"on_overload": "refuse"} for a in audit)


def test_the_cli_sets_it(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_client, "open_client", lambda url: nullcontext(client))
    run = CliRunner().invoke
    result = run(main, ["scene", "--name", "quick", "--on-overload", "standby"])
    assert result.exit_code == 0, result.output
    assert _served(client, "quick") == "standby"
    result = run(main, ["scene-set", "quick", "--on-overload", "shed"])
    assert result.exit_code == 2 and "--on-overload" in result.output
    assert run(main, ["scene-set", "quick", "--on-overload", "refuse"]).exit_code == 0
    assert _served(client, "quick") == "refuse"
