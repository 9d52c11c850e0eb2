"""`prism backup` of a serving node, `prism restore` into a fresh node (a new var dir and
database): the same deployments served, the same event counts, no event counted twice
or lost, the acm key along (tokens handed out before keep counting)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.app import PrismApp, create_app
from prism_platform.cli.main import main
from prism_platform.settings import Settings
from prism_sdk import LocalBackend
from prism_testkit.accounts import grant


def _cli(*args: str) -> str:
    out = CliRunner().invoke(main, list(args))
    assert out.exit_code == 0, out.output
    return out.output


def _events(c: TestClient, user: str, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    """Exposures of every item of one response, then ``kinds`` of its first item."""
    body = c.post("/v1/recommend", json={"scene": "home_feed", "user_id": user, "size": 4})
    items = body.json()["items"]
    made = [(it, "exposure") for it in items] + [(items[0], kind) for kind in kinds]
    return [
        {
            "event_id": uuid.uuid4().hex,
            "type": kind,
            "acm": it["acm"],
            "user_id": user,
            "item_id": it["item_id"],
            "ts": time.time(),
        }
        for it, kind in made
    ]


def _post(c: TestClient, events: list[dict[str, Any]]) -> None:
    r = c.post("/v1/events", json={"events": events})
    assert r.status_code == 200 and r.json()["accepted"] == len(events), r.text


def _counts(app: PrismApp) -> tuple[int, int]:
    """Exposures and clicks counted on the main layer."""
    sql = "SELECT sum(exposures), sum(clicks) FROM event_counts WHERE layer = 'main'"
    with app.control.store.engine.connect() as conn:
        exposures, clicks = conn.execute(sa.text(sql)).one()
    return int(exposures or 0), int(clicks or 0)


def _active(app: PrismApp) -> list[tuple[int, str, str, str, str]]:
    return [
        (d.id, d.scene, d.bucket, d.script_path, d.version)
        for d in app.control.deployments(active=True)
    ]


def test_a_restored_node_serves_and_counts_the_same(
    env: Path,
    tmp_path: Path,
    make_app: Callable[..., PrismApp],
    demo_backend: LocalBackend,
    strategies_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # var and database where `env` points the local commands; no node aggregates by itself
    a = make_app(events_aggregate_s=0)  # (only `prism events aggregate`, when the test says)
    with TestClient(a, headers=grant(a.control, name="root")) as c:
        _post(c, _events(c, "u1", ("click",)) + _events(c, "u2", ()))
        _cli("events", "aggregate")
        counted = _counts(a)
        assert counted == (8, 1)
        late = _events(c, "u3", ("click",))  # in the log, not counted yet at the backup
        _post(c, late[:-1])
        manifest = json.loads(_cli("backup", "--out", str(tmp_path / "backup")))
        assert manifest["events"]["count"] == 13 and "acm.key" in manifest["files"]
        leftover = _events(c, "u4", ())[:1] + late[-1:]  # tokens of A, reported after
    served = _active(a)

    fresh = tmp_path / "fresh"
    monkeypatch.setenv("PRISM_VAR_DIR", str(fresh / "var"))
    monkeypatch.setenv("PRISM_DATABASE_URL", f"sqlite:///{fresh}/prism.db")
    restored = json.loads(_cli("restore", str(tmp_path / "backup")))
    assert restored["offset_moved"] is True
    settings = Settings(
        var_dir=fresh / "var",
        database_url=f"sqlite:///{fresh}/prism.db",
        demo=False,
        strategies_dir=strategies_dir,
        events_aggregate_s=0,
    )
    b = create_app(settings, backend=demo_backend)
    try:
        assert _active(b) == served
        with TestClient(b) as c:
            one = {"scene": "cart", "user_id": "9"}
            assert c.post("/v1/recommend", json=one).json()["strategy"]["version"] == served[0][4]
            assert _counts(b) == counted
            _cli("events", "aggregate")
            assert _counts(b) == (counted[0] + 4, counted[1])  # u3's, once
            _cli("events", "aggregate")
            assert _counts(b) == (counted[0] + 4, counted[1])
            _post(c, leftover)  # A's acm key came along: its tokens verify here
            _cli("events", "aggregate")
            assert _counts(b) == (counted[0] + 5, counted[1] + 1)
        again = CliRunner().invoke(main, ["restore", str(tmp_path / "backup")])
        assert again.exit_code == 1 and "--force" in again.output and "exist" in again.output
    finally:
        if b.control.sample_writer is not None:
            b.control.sample_writer.close()
        b.control.store.dispose()


def test_a_damaged_backup_is_refused(
    env: Path, tmp_path: Path, make_app: Callable[..., PrismApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_app()
    _cli("backup", "--out", str(tmp_path / "backup"))
    refused = CliRunner().invoke(main, ["backup", "--out", str(tmp_path / "backup")])
    assert refused.exit_code == 1 and "not empty" in refused.output
    db = tmp_path / "backup" / "prism.db"
    db.write_bytes(db.read_bytes()[:-1] + b"x")
    monkeypatch.setenv("PRISM_VAR_DIR", str(tmp_path / "fresh"))
    monkeypatch.setenv("PRISM_DATABASE_URL", f"sqlite:///{tmp_path}/fresh.db")
    out = CliRunner().invoke(main, ["restore", str(tmp_path / "backup")])
    assert out.exit_code == 1 and "prism.db is missing or damaged" in out.output
    assert not (tmp_path / "fresh.db").exists()
    monkeypatch.setenv("PRISM_DATABASE_URL", "postgresql://db.example/prism")
    out = CliRunner().invoke(main, ["backup", "--out", str(tmp_path / "other")])
    assert out.exit_code == 1 and "pg_dump" in out.output
