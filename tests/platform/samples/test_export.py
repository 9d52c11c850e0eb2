"""``GET /admin/samples`` and ``prism samples export``: a scene's samples in a window,
as JSONL, optionally with user ids replaced by a hash keyed for the one export."""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main
from prism_platform.errors import Invalid, Unavailable
from prism_platform.samples import parse_since, user_hasher
from prism_platform.samples.record import decode

from .conftest import sample

NOW = time.time()


@pytest.fixture(autouse=True)
def _now() -> None:
    """ "A moment ago" is each test's start, not the module's import: ``since="10m"``
    must not depend on how long the suite ran before this test."""
    global NOW
    NOW = time.time()


@pytest.fixture
def logged(app: PrismApp) -> PrismApp:
    """The demo app with samples of three users, served 3 h, 30 min and a moment ago."""
    writer = app.control.sample_writer
    assert writer is not None
    writer.log.append(
        [
            sample("old", user="alice@example.com", ts=NOW - 3 * 3600),
            sample("mid", user="bob-1", ts=NOW - 1800),
            sample("cart", user="bob-1", ts=NOW - 1800, scene="cart"),
            sample("new1", user="alice@example.com", ts=NOW - 5),
            sample("new2", user="carol", ts=NOW - 1),
        ]
    )
    return app


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_the_window_and_the_limit(logged: PrismApp, client: TestClient) -> None:
    def ids(**params: Any) -> list[str]:
        r = client.get("/admin/samples", params={"scene": "home_feed", **params})
        assert r.status_code == 200, r.text
        return [s["request_id"] for s in lines(r.text)]

    assert ids() == ["old", "mid", "new1", "new2"]
    assert ids(since="1h") == ["mid", "new1", "new2"]
    assert ids(since="10m", limit=1) == ["new1"]
    assert ids(since=datetime.fromtimestamp(NOW - 2, UTC).isoformat()) == ["new2"]
    assert ids(limit=2) == ["old", "mid"]


def test_bad_requests_name_their_field(logged: PrismApp, client: TestClient) -> None:
    for params, status, field in (
        ({"scene": "nope"}, 404, "scene"),
        ({"scene": "home_feed", "since": "yesterday"}, 422, "since"),
        ({"scene": "home_feed", "since": "2026-01-01T00:00:00"}, 422, "since"),  # no timezone
        ({"scene": "home_feed", "limit": 0}, 422, "limit"),
        ({}, 422, "scene"),
    ):
        r = client.get("/admin/samples", params=params)
        assert (r.status_code, r.json()["field"]) == (status, field), r.text


def test_hashed_users_do_not_reveal_ids_and_keep_sessions(
    logged: PrismApp, client: TestClient
) -> None:
    def export() -> tuple[str, list[dict[str, Any]]]:
        r = client.get("/admin/samples", params={"scene": "home_feed", "hash_users": True})
        assert r.status_code == 200
        return r.text, lines(r.text)

    text, first = export()
    for uid in ("alice@example.com", "alice", "bob-1", "carol"):
        assert uid not in text
    assert all(s["user_hashed"] is True and s["user_id"].startswith("h:") for s in first)
    by_rid = {s["request_id"]: s["user_id"] for s in first}
    assert by_rid["old"] == by_rid["new1"] != by_rid["mid"] != by_rid["new2"]
    _, second = export()  # another export, another key: ids cannot be matched across files
    assert {s["user_id"] for s in second}.isdisjoint(by_rid.values())
    assert [s["items"] for s in second] == [s["items"] for s in first]


def test_the_hash_is_keyed() -> None:
    a, b = user_hasher(b"k" * 32), user_hasher(b"l" * 32)
    assert a("u1") == a("u1") != a("u2") and a("u1") != b("u1") and len(a("u1")) == 22


def test_since_reads_durations_and_times() -> None:
    assert parse_since("90s", 1000.0) == 910.0 and parse_since("1.5h", 10_000.0) == 4600.0
    assert parse_since("2d", 200_000.0) == 200_000.0 - 2 * 86400
    assert (
        parse_since("2026-12-05T10:00:00+00:00", 0.0)
        == datetime(2026, 12, 5, 10, tzinfo=UTC).timestamp()
    )
    for bad in ("", "1w", "-1h", "soon"):
        with pytest.raises(Invalid) as info:
            parse_since(bad, 0.0)
        assert info.value.field == "since"


def test_a_node_without_a_sampler_says_so(app: PrismApp) -> None:
    app.control.sample_writer = None
    with pytest.raises(Unavailable, match="keeps no sampled requests"):
        app.control.samples("home_feed")


def test_the_cli_writes_a_replayable_file(
    logged: PrismApp, client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_client, "open_client", lambda url: nullcontext(client))
    run = CliRunner().invoke
    out = tmp_path / "exports" / "home.jsonl"
    res = run(
        main, ["samples", "export", "--scene", "home_feed", "--since", "1h", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == {
        "scene": "home_feed",
        "samples": 3,
        "hashed_users": False,
        "out": str(out),
    }
    got = lines(out.read_text())
    assert [s["request_id"] for s in got] == ["mid", "new1", "new2"]
    body = decode(out.read_text().splitlines()[0]).request()
    assert body == {k: got[0][k] for k in ("scene", "user_id", "size", "context", "exclude")}
    assert client.post("/v1/recommend", json=body).status_code == 200  # replays as is

    hashed = tmp_path / "hashed.jsonl"
    res = run(
        main,
        [
            "samples",
            "export",
            "--scene",
            "home_feed",
            "--hash-users",
            "--limit",
            "2",
            "--out",
            str(hashed),
        ],
    )
    assert res.exit_code == 0, res.output
    text = hashed.read_text()
    assert len(lines(text)) == 2 and "alice" not in text and "bob-1" not in text

    missing = tmp_path / "missing.jsonl"
    res = run(main, ["samples", "export", "--scene", "nope", "--out", str(missing)])
    assert res.exit_code == 1 and "404" in res.output and "(scene)" in res.output
    assert not missing.exists() and not list(tmp_path.glob(".missing*"))
