"""`prism debug SCENE --user U`: the trace as text (or JSON), live or as a dry run,
against an app in-process."""

from __future__ import annotations

import json
import re
from contextlib import nullcontext

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main


@pytest.fixture
def cli(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(cli_client, "open_client", lambda url: nullcontext(client))
    return CliRunner()


def test_the_trace_as_text(cli: CliRunner, client: TestClient) -> None:
    out = cli.invoke(main, ["debug", "home_feed", "--user", "7", "--size", "3"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].startswith("live routing: home_feed served by home_feed@wt-")
    assert lines[1] == "experiment default bucket base"
    stages = [m.group(1) for line in lines if (m := re.match(r"  (\S+)\s+[\d.]+ ms", line))]
    assert stages[0] == "strategy.home_feed" and stages[-1] == "platform.finalize"
    assert {"merge", "filter.seen", "rerank.scatter"} <= set(stages)
    served = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": "7", "size": 3})
    ids = [it["item_id"] for it in served.json()["items"]]
    items = lines[lines.index("items") + 1 :]
    assert [line.split()[1] for line in items] == ids


def test_a_dry_run_of_a_script_version_with_json_output(cli: CliRunner) -> None:
    args = ["debug", "home_feed", "--user", "7", "--script", "popular_only.py@worktree"]
    args += ["--params", '{"pool": 30}', "--context", '{"page": "home"}', "--json"]
    out = cli.invoke(main, args)
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert body["dry_run"] is True and body["strategy"]["name"] == "popular_only"
    assert body["trace"]["params"]["pool"] == 30

    text = cli.invoke(main, args[:-1])
    assert text.exit_code == 0 and text.output.startswith("DRY RUN (script): home_feed served by")


def test_errors_name_the_field(cli: CliRunner) -> None:
    out = cli.invoke(main, ["debug", "home_feed", "--user", "7", "--context", '{"page": 1}'])
    assert out.exit_code == 1 and "422: context.page must be a string" in out.output
    out = cli.invoke(main, ["debug", "home_feed", "--user", "7", "--context", "{"])
    assert out.exit_code == 2 and "--context" in out.output
    out = cli.invoke(main, ["debug", "home_feed", "--user", "7", "--deployment", "99999"])
    assert out.exit_code == 1 and "404" in out.output
