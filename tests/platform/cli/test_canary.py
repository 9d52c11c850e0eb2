"""`prism canary promote|abort SCENE BUCKET`, against an app in-process."""

from __future__ import annotations

import json
from contextlib import nullcontext

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main


def _strategies(client: TestClient) -> set[str]:
    """The strategies the bucket serves: its primary, and its canary if it has one."""
    [bucket] = client.get("/admin/status").json()["scenes"]["home_feed"]["buckets"]
    return {bucket["strategy"], *([bucket["canary"]["strategy"]] if "canary" in bucket else [])}


@pytest.fixture
def cli(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(cli_client, "open_client", lambda url: nullcontext(client))
    client.post("/admin/configs", json={"script": "noop.py", "name": "default"})
    return CliRunner()


def _deploy_canary(cli: CliRunner) -> None:
    args = ["deploy", "--scene", "home_feed", "--script", "noop.py", "--canary", "10"]
    out = cli.invoke(main, args)
    assert out.exit_code == 0, out.output


def test_promote_and_abort(cli: CliRunner, client: TestClient) -> None:
    _deploy_canary(cli)
    assert _strategies(client) == {"home_feed", "noop"}
    out = cli.invoke(main, ["canary", "abort", "home_feed", "base", "--note", "too slow"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["deployment"]["canary_percent"] == 10
    [entry] = client.get("/admin/audit", params={"limit": 1}).json()
    assert (entry["action"], entry["detail"]["note"]) == ("canary_ended", "too slow")
    assert _strategies(client) == {"home_feed"}

    _deploy_canary(cli)
    out = cli.invoke(main, ["canary", "promote", "home_feed", "base", "--wait", "5"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result["deployment"]["script_path"] == "noop.py" and result["rollout"]["complete"]
    assert _strategies(client) == {"noop"}


def test_no_canary_fails_naming_the_bucket(cli: CliRunner) -> None:
    for how in ("promote", "abort"):
        out = cli.invoke(main, ["canary", how, "home_feed", "base"])
        assert out.exit_code == 1 and "404" in out.output and "no canary" in out.output, out.output
    out = cli.invoke(main, ["canary", "promote", "home_feed"])
    assert out.exit_code == 2 and "BUCKET" in out.output
