"""A sync strategy blocked where the deadline's interrupt cannot reach it (``time.sleep``
in C) is reported as hung: its stack logged, its breaker opened, the route recorded so a
restarted worker keeps it off the path; a node started by ``prism serve`` restarts the
stuck worker."""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from prism_platform.serving.hang import HUNG_FILE
from prism_testkit.accounts import grant, seeded_headers
from prism_testkit.cluster import Cluster, add_scene, demo_env, seed_demo

from ...conftest import AppFactory
from .test_dispatch_failures import GOOD, deploy

REPO = Path(__file__).resolve().parents[3]
HANGS = (
    GOOD
    + """import time

def recommend(ctx):
    if ctx.context.get("hang"):
        time.sleep(ctx.context["hang"])  # one C call: the interrupt waits for it
    return _OK
"""
)


def test_a_hung_strategy_is_logged_with_its_stack_and_kept_off_the_path(
    make_app: AppFactory, strategies_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(hang_grace_s=0.3)
    (strategies_dir / "hangs.py").write_text(HANGS)
    body = {"scene": "home_feed", "user_id": "1", "size": 10, "debug": True}
    with TestClient(app, headers=grant(app.control, name="tester")) as client:
        deploy(client, "hangs.py")
        with caplog.at_level(logging.ERROR, "prism.hang"):
            t0 = time.monotonic()
            hung = client.post("/v1/recommend", json={**body, "context": {"hang": 1.5}}).json()
        assert time.monotonic() - t0 >= 1.5  # nothing could cut the sleep short
        assert hung["trace"]["error"] == "deadline" and hung["degraded"] is True
        [record] = [r for r in caplog.records if "event=strategy_hung" in r.message]
        assert "strategy=hangs@" in record.message and "hangs=1" in record.message
        assert "time.sleep(ctx.context" in record.message  # the script's line, from its stack
        assert "restart=False" in record.message  # an embedded app only reports

        answer = client.post("/v1/recommend", json=body).json()  # healthy, but kept off
        assert answer["trace"]["error"] == "circuit_open"
        [br] = client.get("/admin/status").json()["breakers"]
        assert br["strategy"] == "hangs" and br["last_failure"] == "hung"
        assert 5 < br["retry_in_s"] <= 10  # the breaker's cool-down, 10 s, for a first hang
        version = br["version"]

    rows = json.loads((tmp_path / "var" / HUNG_FILE).read_text())
    assert rows == [
        {"scene": "home_feed", "bucket": "base", "strategy": "hangs", "version": version}
        | {"at": rows[0]["at"], "hangs": 1}
    ]
    # a worker started after it (here: another app on the same var/) keeps it off too
    again = make_app(db_url=str(app.control.store.engine.url), hang_grace_s=0.3)
    with TestClient(again, headers=grant(again.control, name="restarted")) as client:
        answer = client.post("/v1/recommend", json=body).json()
        assert answer["trace"]["error"] == "circuit_open"


def _ask(url: str, scene: str, context: dict[str, Any], timeout: float = 10) -> httpx.Response:
    body = {"scene": scene, "user_id": "1", "size": 10, "context": context}
    return httpx.post(f"{url}/v1/recommend", json=body, timeout=timeout)


def _until_every_worker_serves(url: str, scene: str, strategy: str) -> None:
    """Until 20 answers in a row come from ``strategy`` (each worker learns of a new
    scene from the node's coordinator, one after the other)."""
    deadline, streak = time.monotonic() + 30, 0
    while streak < 20:
        assert time.monotonic() < deadline, "the scene never reached every worker"
        r = _ask(url, scene, {})
        served = r.status_code == 200 and r.json()["strategy"]["name"] == strategy
        streak = streak + 1 if served else 0
        if not served:
            time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_a_served_node_restarts_the_stuck_worker(tmp_path: Path, workers: int) -> None:
    strategies = tmp_path / "strategies"
    shutil.copytree(REPO / "strategies", strategies, ignore=shutil.ignore_patterns("__pycache__"))
    (strategies / "hangs.py").write_text(HANGS)
    env = demo_env(tmp_path, strategies, scale=0.04)
    seed_demo(env)
    env["PRISM_HANG_GRACE_S"] = "1"
    admin = seeded_headers(env)
    cluster = Cluster(tmp_path, env)
    try:
        # the scene first, through one process: without ZooKeeper, workers started
        # together do not hear of each other's changes, but all load the store's state
        first = cluster.start_node()
        add_scene(first.url, admin, "stuck", "hangs.py", deadline_ms=200)
        first.stop()
        node = cluster.start_node(workers=workers)
        url, pid = node.url, node.process.pid  # type: ignore[union-attr]
        _until_every_worker_serves(url, "stuck", "hangs")

        outcome: list[object] = []

        def hang() -> None:
            try:
                outcome.append(_ask(url, "stuck", {"hang": 30}, timeout=60))
            except httpx.HTTPError as exc:  # the worker was replaced under it
                outcome.append(exc)

        t0 = time.monotonic()
        stuck = threading.Thread(target=hang)
        stuck.start()
        time.sleep(0.3)
        if workers > 1:  # the other worker serves while one is stuck
            served = [_ask(url, "home_feed", {}) for _ in range(5)]
            assert all(r.status_code == 200 and not r.json()["degraded"] for r in served)
        stuck.join(timeout=45)
        assert not stuck.is_alive() and isinstance(outcome[0], httpx.HTTPError), outcome
        restarted_in = time.monotonic() - t0
        assert restarted_in < 20  # a 1 s grace and a restart, not the 30 s sleep
        cluster._wait_ready(node, 60)
        time.sleep(1.5)  # the supervisor checks its workers every 0.5 s: it has seen the exit
        assert node.process is not None and node.process.poll() is None  # the node lives on
        if workers == 1:
            assert node.process.pid == pid  # the same process, re-executed
        log = node.log_tail(20_000)
        assert "event=strategy_hung scene=stuck" in log and "restart=True" in log
        assert "failed to start" not in log  # a restart, not what uvicorn calls a failed start
        assert "time.sleep(ctx.context" in log

        # the restarted worker keeps the hung route off the path, from var/hung.json
        rows = json.loads((tmp_path / "var" / HUNG_FILE).read_text())
        assert [(r["scene"], r["strategy"], r["hangs"]) for r in rows] == [("stuck", "hangs", 1)]
        if workers == 1:
            answer = _ask(url, "stuck", {}).json()
            assert answer["strategy"]["name"] == "fallback" and answer["degraded"] is True
            [br] = httpx.get(f"{url}/admin/status", headers=admin).json()["breakers"]
            assert br["scene"] == "stuck" and br["last_failure"] == "hung"
        for _ in range(10):
            assert _ask(url, "home_feed", {}).status_code == 200
    finally:
        cluster.stop()
