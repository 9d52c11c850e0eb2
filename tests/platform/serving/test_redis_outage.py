"""The platform on Redis through an outage: a real private Redis, frozen (slow), stopped
and restarted under a running app; requests keep answering and recover by themselves.

The breaker runs on a stopped clock (``breaker_clock``): it stays open between two
requests however slow the machine, and recovery comes from advancing the clock past
the cooldown, not from sleeping through it."""

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
from prism_testkit.accounts import grant
from prism_testkit.services import RedisServer

from ...conftest import FakeClock

BREAKER_S = 0.2  # on the breaker's stopped clock
CLIENT_TIMEOUT_MS = 5000  # the Redis client's own: what a read not bounded by its scene waits


@pytest.fixture
def server(private_redis: RedisServer) -> RedisServer:
    return private_redis


@pytest.fixture
def client(
    server: RedisServer, tmp_path: Path, strategies_dir: Path, breaker_clock: FakeClock
) -> Iterator[TestClient]:
    # requests read within their scene's budget (30 ms unless set); the client's own
    # timeout, for reads outside requests (the deploy gate), is generous on a busy machine
    yield from served_on_redis(server.url, server.url, tmp_path, strategies_dir)


def served_on_redis(
    data_url: str, serve_url: str, tmp_path: Path, strategies_dir: Path
) -> Iterator[TestClient]:
    """A client of an app serving a small demo world written to ``data_url`` and read
    through ``serve_url`` (the same Redis, or a proxy in front of it)."""
    world = generate_world(seed=11, n_users=150, n_items=1500, n_events=12_000)
    writer = RedisBackend.from_url(data_url)
    build_demo_data(writer, world, now=time.time())
    writer.close()
    backend = RedisBackend.from_url(serve_url, timeout_ms=CLIENT_TIMEOUT_MS, breaker_s=BREAKER_S)
    settings = Settings(
        var_dir=tmp_path / "var",
        strategies_dir=strategies_dir,
        database_url=f"sqlite:///{tmp_path}/prism.db",
        redis_timeout_ms=30,
    )
    app = create_app(settings, backend=backend)
    with TestClient(app, headers=grant(app.control)) as c:
        yield c
    app.control.store.dispose()
    backend.close()


def rec(client: TestClient) -> dict[str, Any]:
    body = {"scene": "home_feed", "user_id": "7", "size": 10, "debug": True}
    r = client.post("/v1/recommend", json=body)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    # bounded by the scene (30 ms budget, 80 ms deadline), never by the client's timeout
    assert out["trace"]["ms"] < CLIENT_TIMEOUT_MS, out["trace"]
    return out


def assert_served(body: dict[str, Any]) -> None:
    assert body["degraded"] is False and len(body["items"]) == 10
    assert body["trace"]["data"]["errors"] == []


def data_errors(client: TestClient) -> str:
    lines = client.get("/metrics").text.splitlines()
    return next((ln for ln in lines if ln.startswith("prism_data_errors_total{")), "")


def test_redis_stopped_then_restarted_under_a_running_app(
    server: RedisServer, client: TestClient, breaker_clock: FakeClock
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
    assert rec(client)["degraded"] is True  # still open: no reconnect before the cooldown
    breaker_clock.advance(BREAKER_S)
    assert_served(rec(client))  # same app, same connection pool
    assert data_errors(client).endswith(" 3")  # the three degraded requests, no more


def test_a_frozen_redis_costs_one_timeout_then_nothing(
    server: RedisServer, client: TestClient, breaker_clock: FakeClock
) -> None:
    assert_served(rec(client))
    os.kill(server.process.pid, signal.SIGSTOP)
    slow = rec(client)
    assert slow["degraded"] is True
    errors = slow["trace"]["data"]["errors"]
    assert errors[0].startswith("redis: TimeoutError")  # the scene's budget, spent at once
    assert all("budget is spent" in e for e in errors[1:])
    again = rec(client)  # the breaker is open: every read fails at once
    assert all("circuit open" in e for e in again["trace"]["data"]["errors"])
    os.kill(server.process.pid, signal.SIGCONT)
    breaker_clock.advance(BREAKER_S)
    assert_served(rec(client))


def _request(client: TestClient, scene: str) -> dict[str, Any]:
    body = {"scene": scene, "user_id": "7", "size": 10, "debug": True}
    body["context"] = {"item_id": "5"}
    r = client.post("/v1/recommend", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_two_scenes_on_a_frozen_redis_wait_their_own_read_budgets(
    server: RedisServer, client: TestClient, breaker_clock: FakeClock
) -> None:
    """A scene's ``read_timeout_ms`` bounds its requests' data reads; the breaker a
    short budget opens does not stop a scene allowed to wait longer. Each request takes
    at least its budget and well under ten times it, far from its deadline and from the
    client's own timeout (5 s), which a read not bounded by its scene would wait."""
    for scene, budget in (("home_feed", 40), ("item_detail", 250)):
        patch = {"read_timeout_ms": budget, "deadline_ms": 5000}  # the reads end first
        assert client.patch(f"/admin/scenes/{scene}", json=patch).status_code == 200
    for scene in ("home_feed", "item_detail"):
        assert _request(client, scene)["degraded"] is False
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        quick = _request(client, "home_feed")
        patient = _request(client, "item_detail")
        refused = _request(client, "home_feed")
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    for body, low, high in ((quick, 40, 400), (patient, 250, 2500)):
        assert body["degraded"] is True and low <= body["trace"]["ms"] < high, body["trace"]
        assert body["trace"]["data"]["errors"][0].startswith("redis: TimeoutError")
    assert "circuit open" in refused["trace"]["data"]["errors"][0]
    lines = client.get("/metrics").text.splitlines()
    counted = {ln for ln in lines if ln.startswith("prism_data_errors_total{")}
    assert counted == {
        'prism_data_errors_total{scene="home_feed"} 2',
        'prism_data_errors_total{scene="item_detail"} 1',
    }
    breaker_clock.advance(BREAKER_S)
    for scene in ("home_feed", "item_detail"):  # recovered by itself
        assert _request(client, scene)["degraded"] is False


def test_with_redis_down_the_scene_answers_its_standby_page(
    server: RedisServer, client: TestClient
) -> None:
    """The strategy and the fallback read nothing: instead of an empty page, the popular
    items read while Redis answered, signed for this request, still ``degraded``."""
    standby = client.app.dispatcher.standby  # type: ignore[attr-defined]
    assert standby is not None and standby.refresh() >= 1
    served = rec(client)
    server.stop(keep_data=True)
    down = rec(client)
    assert down["degraded"] is True and down["strategy"] == {
        "name": "fallback",
        "version": "standby",
    }
    assert down["trace"]["error"] == "data_unavailable"
    assert len(down["items"]) == 10 and all(it["fields"] for it in down["items"])
    page = standby.page("popular", "all")
    assert [it["item_id"] for it in down["items"]] == [i for i, _, _ in page.items[:10]]
    assert all(it["fields"]["status"] == "on" for it in down["items"])
    assert ".fallback@standby." in down["items"][0]["acm"]
    assert standby.refresh() == 0 and standby.page("popular", "all") is page  # kept
    lines = client.get("/metrics").text.splitlines()
    assert 'prism_fallbacks_total{scene="home_feed",reason="data_unavailable"} 1' in lines
    assert served["strategy"]["name"] != "fallback"
