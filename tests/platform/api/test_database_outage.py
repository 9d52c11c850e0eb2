"""The metadata database unreachable under a running node (PostgreSQL cut off through a
fault proxy, SQLite locked by another writer): serving goes on from the snapshot, every
change is refused with ``503 database_unavailable``, nothing is half-written, and the
node needs no restart when the database is back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import make_url
from starlette.testclient import TestClient

from prism_platform.app import PrismApp, create_app
from prism_platform.settings import Settings
from prism_sdk import LocalBackend
from prism_testkit.accounts import grant
from prism_testkit.faults import FaultProxy

RECOMMEND = {"scene": "home_feed", "user_id": "1", "size": 5}


def _app(url: str, tmp_path: Path, strategies_dir: Path, backend: LocalBackend) -> PrismApp:
    settings = Settings(
        var_dir=tmp_path / "var", strategies_dir=strategies_dir, database_url=url, demo=True
    )
    return create_app(settings, backend=backend)


def _refused(client: TestClient, deadline_ms: int, password: str = "") -> None:
    r = client.patch("/admin/scenes/home_feed", json={"deadline_ms": deadline_ms})
    assert r.status_code == 503, r.text
    assert not password or password not in r.text
    assert r.json()["error"] == "database_unavailable" and r.headers["retry-after"] == "5"
    served = client.post("/v1/recommend", json=RECOMMEND)
    assert served.status_code == 200 and served.json()["degraded"] is False


@pytest.mark.postgres
def test_postgresql_cut_off_refuses_changes_and_serving_goes_on(
    proxied_postgres: tuple[str, FaultProxy],
    tmp_path: Path,
    strategies_dir: Path,
    demo_backend: LocalBackend,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The database URL's password is in neither the error bodies nor the logs."""
    caplog.set_level("INFO")
    url, proxy = proxied_postgres
    password = make_url(url).password or ""
    assert password  # the shared fixture's URL carries one, to be looked for
    app = _app(url, tmp_path, strategies_dir, demo_backend)
    try:
        with TestClient(app, headers=grant(app.control)) as client:
            before = client.get("/admin/scenes/home_feed").json()["deadline_ms"]
            proxy.refuse = True
            proxy.drop()
            _refused(client, before + 7, password)
            proxy.heal()
            # back: the refused change was not written, a new one goes through
            assert client.get("/admin/scenes/home_feed").json()["deadline_ms"] == before
            r = client.patch("/admin/scenes/home_feed", json={"deadline_ms": before + 1})
            assert r.status_code == 200 and r.json()["deadline_ms"] == before + 1
    finally:
        app.control.store.dispose()
    assert "database_unavailable" in caplog.text and password not in caplog.text


def test_a_locked_sqlite_database_refuses_changes_and_serving_goes_on(
    tmp_path: Path, strategies_dir: Path, demo_backend: LocalBackend
) -> None:
    path = tmp_path / "prism.db"
    app = _app(f"sqlite:///{path}", tmp_path, strategies_dir, demo_backend)
    try:
        with TestClient(app, headers=grant(app.control)) as client:
            before = client.get("/admin/scenes/home_feed").json()["deadline_ms"]
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN EXCLUSIVE")  # another writer holds the database
            try:
                _refused(client, before + 7)
            finally:
                other.execute("ROLLBACK")
                other.close()
            assert client.get("/admin/scenes/home_feed").json()["deadline_ms"] == before
            r = client.patch("/admin/scenes/home_feed", json={"deadline_ms": before + 1})
            assert r.status_code == 200
    finally:
        app.control.store.dispose()
