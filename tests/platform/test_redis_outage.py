"""The platform on Redis through an outage: a real private Redis, frozen (slow), stopped
and restarted under a running app; requests keep answering and recover by themselves."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.app import create_app
from prism_platform.demo.seed import build_demo_data
from prism_platform.demo.world import generate_world
from prism_platform.settings import Settings
from prism_sdk import RedisBackend
from prism_testkit.services import RedisServer

BREAKER_S = 0.2
DEADLINE_MS = 80  # the demo scenes' deadline


@pytest.fixture
def server(private_redis: RedisServer) -> RedisServer:
    return private_redis


@pytest.fixture
def client(server: RedisServer, tmp_path: Path, strategies_dir: Path) -> Iterator[TestClient]:
    backend = RedisBackend.from_url(server.url, timeout_ms=30, breaker_s=BREAKER_S)
    world = generate_world(seed=11, n_users=150, n_items=1500, n_events=12_000)
    build_demo_data(backend, world, now=time.time())
    settings = Settings(
        var_dir=tmp_path / "var",
        strategies_dir=strategies_dir,
        database_url=f"sqlite:///{tmp_path}/prism.db",
    )
    app = create_app(settings, backend=backend)
    with TestClient(app) as c:
        yield c
    app.platform.store.dispose()
    backend.close()


def rec(client: TestClient) -> dict[str, Any]:
    body = {"scene": "home_feed", "user_id": "7", "size": 10, "debug": True}
    r = client.post("/v1/recommend", json=body)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    assert out["trace"]["ms"] < DEADLINE_MS + 20, out["trace"]
    return out


def assert_served(body: dict[str, Any]) -> None:
    assert body["degraded"] is False and len(body["items"]) == 10
    assert body["trace"]["data"]["errors"] == []


def data_errors(client: TestClient) -> str:
    lines = client.get("/metrics").text.splitlines()
    return next((ln for ln in lines if ln.startswith("prism_data_errors_total{")), "")


def test_redis_stopped_then_restarted_under_a_running_app(
    server: RedisServer, client: TestClient
) -> None:
    assert_served(rec(client))
    server.stop(keep_data=True)
    down = rec(client)
    assert down["degraded"] is True
    assert down["trace"]["data"]["errors"][0].startswith("redis: ConnectionError")
    again = rec(client)  # the breaker is open: every read fails at once
    assert all("circuit open" in e for e in again["trace"]["data"]["errors"])
    assert data_errors(client) == 'prism_data_errors_total{scene="home_feed"} 2'
    server.restart()
    time.sleep(BREAKER_S + 0.05)
    assert_served(rec(client))  # same app, same connection pool
    assert data_errors(client).endswith(" 2")


def test_a_frozen_redis_costs_one_timeout_then_nothing(
    server: RedisServer, client: TestClient
) -> None:
    assert_served(rec(client))
    os.kill(server.process.pid, signal.SIGSTOP)
    slow = rec(client)
    assert slow["degraded"] is True
    errors = slow["trace"]["data"]["errors"]
    assert errors[0].startswith("redis: TimeoutError") and "circuit open" in errors[-1]
    os.kill(server.process.pid, signal.SIGCONT)
    time.sleep(BREAKER_S + 0.05)
    assert_served(rec(client))
