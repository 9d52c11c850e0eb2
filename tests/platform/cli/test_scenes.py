"""`prism scene` / `scene-set` with a context schema, against an app in-process."""

from __future__ import annotations

import json
from contextlib import nullcontext

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main

SCHEMA = {"q": {"type": "str", "max_len": 20}, "additional": False}


def test_a_scene_gets_sets_and_drops_its_context_schema(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_client, "open_client", lambda url: nullcontext(client))
    run = CliRunner().invoke
    out = run(main, ["scene", "--name", "search", "--context-schema", json.dumps(SCHEMA)])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["context_schema"] == SCHEMA
    body = {"scene": "search", "user_id": "1", "context": {"q": "x" * 21}}
    r = client.post("/v1/recommend", json=body)
    assert r.status_code == 422 and r.json()["field"] == "context.q"

    out = run(main, ["scene-set", "search", "--context-schema", '{"q": {"type": "text"}}'])
    assert out.exit_code == 1 and "422" in out.output and "context_schema.q.type" in out.output
    out = run(main, ["scene-set", "search", "--context-schema", "{nope"])
    assert out.exit_code == 2 and "--context-schema" in out.output
    out = run(main, ["scene-set", "search", "--no-context-schema"])
    assert out.exit_code == 0 and json.loads(out.output)["context_schema"] is None
    assert client.post("/v1/recommend", json=body).status_code == 200
