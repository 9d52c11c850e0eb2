"""`prism experiment`: what it sends for a layer's time window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main

START = ["experiment", "home_feed", "cats", "--layer", "rerank", "--bucket", "c=100"]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The JSON bodies the CLI posts (to a transport that answers 201)."""
    bodies: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(201, json={"ok": True})

    transport = httpx.MockTransport(answer)
    monkeypatch.setattr(
        cli_client, "open_client", lambda url: httpx.Client(base_url=url, transport=transport)
    )
    return bodies


def test_a_window_from_now(sent: list[dict[str, Any]]) -> None:
    before = datetime.now(UTC)
    r = CliRunner().invoke(main, [*START, "--starts-at", "+90m", "--ends-at", "+1.5d"])
    after = datetime.now(UTC)
    assert r.exit_code == 0, r.output
    starts = datetime.fromisoformat(sent[0]["starts_at"])
    ends = datetime.fromisoformat(sent[0]["ends_at"])
    assert before + timedelta(minutes=90) <= starts <= after + timedelta(minutes=90)
    assert before + timedelta(hours=36) <= ends <= after + timedelta(hours=36)
    assert starts.utcoffset() == timedelta(0) == ends.utcoffset()


def test_an_iso_window_goes_as_given(sent: list[dict[str, Any]]) -> None:
    r = CliRunner().invoke(main, [*START, "--ends-at", "2031-01-01T00:00Z"])
    assert r.exit_code == 0, r.output
    assert sent[0]["starts_at"] is None and sent[0]["ends_at"] == "2031-01-01T00:00Z"


@pytest.mark.parametrize("value", ["+2w", "+", "+1d2h", "+-1h"])
def test_a_bad_time_from_now_is_a_usage_error(sent: list[dict[str, Any]], value: str) -> None:
    r = CliRunner().invoke(main, [*START, "--ends-at", value])
    assert r.exit_code == 2 and "--ends-at" in r.output and value in r.output, r.output
    assert sent == []
