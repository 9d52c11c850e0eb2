"""A real ``prism serve`` started while its metadata database cannot be reached
(PostgreSQL refused by a fault proxy; SQLite locked by another writer): it stays up and
not ready, says why (``/readyz``, ``/v1/recommend`` ``503 not_ready``, its log, its
metrics), and serves by itself once the database answers, with no restart."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url

from prism_testkit.cluster import Cluster, Node, demo_env, seed_demo
from prism_testkit.faults import FaultProxy

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
RETRY = {"PRISM_DATABASE_RETRY_S": "0.5"}
RECOMMEND = {"scene": "home_feed", "user_id": "3", "size": 5}
READY_S = 60  # for the node to start serving once the database answers


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a node serving a small demo world seeded into a SQLite file
    (``prism demo seed``, or a copy of this run's first seed of it)."""
    env = {**demo_env(tmp_path, REPO / "strategies"), **RETRY}
    seed_demo(env)
    yield env


def _not_ready_for(node: Node, database: str, secret: str = "") -> None:
    """What a client, a load balancer and an operator see of a node whose database
    cannot be reached at start."""
    assert httpx.get(f"{node.url}/healthz", timeout=5).status_code == 200  # alive: no restart
    r = httpx.get(f"{node.url}/readyz", timeout=5)
    assert r.status_code == 503, r.text
    why = r.json()
    assert why["ready"] is False and why["reason"] == "database_unavailable", why
    assert why["database"] == database and why["attempts"] >= 1 and why["error"]
    served = httpx.post(f"{node.url}/v1/recommend", json=RECOMMEND, timeout=5)
    assert served.status_code == 503 and served.json()["error"] == "not_ready", served.text
    assert served.headers["retry-after"]
    metrics = httpx.get(f"{node.url}/metrics", timeout=5).text
    assert 'prism_database_unavailable_total{at="start"}' in metrics
    log = node.log_tail(50_000)
    assert "event=database_unavailable_at_start" in log and database in log
    assert not secret or (secret not in r.text and secret not in log)


def _ready_by_itself(node: Node) -> list[str]:
    """Once the database answers: ready, with no reason left; the scenes it serves."""
    deadline = time.monotonic() + READY_S
    while (r := httpx.get(f"{node.url}/readyz", timeout=5)).status_code != 200:
        assert time.monotonic() < deadline, r.text
        time.sleep(0.05)
    assert "reason" not in r.json()
    assert "event=database_back_at_start" in node.log_tail(50_000)
    return list(r.json()["scenes"])


@pytest.mark.postgres
def test_postgresql_refused_at_start(
    proxied_postgres: tuple[str, FaultProxy], tmp_path: Path
) -> None:
    """A new database that refuses every connection; once it answers, the node
    migrates it and serves what it holds (nothing yet: an unknown scene is a 404 now)."""
    url, proxy = proxied_postgres
    proxy.refuse = True
    env = {**demo_env(tmp_path, REPO / "strategies"), **RETRY, "PRISM_DEMO": "0"}
    cluster = Cluster(tmp_path, {**env, "PRISM_DATABASE_URL": url})
    try:
        node = cluster.start_node("pg", ready=False)
        shown = make_url(url).render_as_string(hide_password=True)
        _not_ready_for(node, shown, secret=make_url(url).password or "")
        proxy.heal()
        assert _ready_by_itself(node) == []
        served = httpx.post(f"{node.url}/v1/recommend", json=RECOMMEND, timeout=5)
        assert served.status_code == 404 and served.json()["error"] == "unknown_scene"
    finally:
        cluster.stop()


def test_sqlite_locked_at_start(seeded: dict[str, str], tmp_path: Path) -> None:
    """Another writer holds the seeded database past the node's 5 s lock timeout; once it
    lets go, the node serves what the database holds."""
    path = tmp_path / "prism.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    cluster = Cluster(tmp_path, seeded)
    try:
        try:
            node = cluster.start_node("sqlite", ready=False)
            _not_ready_for(node, f"sqlite:///{path}")
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert "home_feed" in _ready_by_itself(node)
        served = httpx.post(f"{node.url}/v1/recommend", json=RECOMMEND, timeout=5)
        assert served.status_code == 200 and served.json()["degraded"] is False, served.text
    finally:
        cluster.stop()
