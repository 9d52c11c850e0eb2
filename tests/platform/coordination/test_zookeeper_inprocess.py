"""Two nodes in one process, kept in step by a real ZooKeeper. Every wait is for an
event (a rollout complete, a change seen) with a generous timeout: how fast changes
spread is bench/deploy_convergence.py's job."""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from kazoo.client import KazooClient
from starlette.testclient import TestClient

from prism_platform.app import create_app
from prism_platform.coordination.zookeeper import parse_zk_url
from prism_platform.errors import Invalid
from prism_platform.settings import Settings
from prism_sdk import LocalBackend
from prism_testkit.accounts import grant
from prism_testkit.zookeeper import ZooKeeperServer

WAIT_S = 30  # for a rollout to complete or a change to reach the other node


@pytest.fixture
def zk_url(zookeeper: ZooKeeperServer) -> str:
    """A chroot of this test's own."""
    return zookeeper.url(f"/t{uuid.uuid4().hex[:8]}")


@pytest.fixture
def nodes(
    tmp_path: Path, demo_backend: LocalBackend, strategies_dir: Path, zk_url: str
) -> Iterator[list[TestClient]]:
    with ExitStack() as stack:
        clients = []
        for name in ("n1", "n2"):
            settings = Settings(
                var_dir=tmp_path / "var",
                strategies_dir=strategies_dir,
                database_url=f"sqlite:///{tmp_path}/prism.db",
                coordinator=zk_url,
                node_name=name,
            )
            app = create_app(settings, backend=demo_backend)
            stack.callback(app.control.store.dispose)
            client = TestClient(app, headers=grant(app.control))
            clients.append(stack.enter_context(client))
        yield clients


def _wait_nodes(client: TestClient, n: int) -> dict[str, object]:
    deadline = time.monotonic() + WAIT_S
    while True:
        status = client.get("/admin/status").json()
        if len(status["nodes"]) >= n and status["coordinator"]["connected"]:
            return dict(status)
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _ready_with_noop_config(nodes: list[TestClient]) -> tuple[TestClient, TestClient]:
    """Both nodes, once they see each other, with the noop script's default config."""
    a, b = nodes
    _wait_nodes(a, 2)
    a.post("/admin/configs", json={"script": "noop.py", "name": "default"})
    return a, b


def _served(client: TestClient) -> str:
    body = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": "7"}).json()
    return f"{body['strategy']['name']}"


def test_a_deploy_on_one_node_is_served_by_all(nodes: list[TestClient]) -> None:
    a, b = nodes
    status = _wait_nodes(a, 2)
    assert [n["node"] for n in status["nodes"]] == ["n1", "n2"]  # type: ignore[attr-defined]
    a.post("/admin/configs", json={"script": "noop.py", "name": "default"})
    r = a.post(
        "/admin/deployments", json={"scene": "home_feed", "script": "noop.py", "wait_s": WAIT_S}
    )
    assert r.status_code == 201, r.text
    rollout = r.json()["rollout"]
    assert rollout["complete"] is True
    assert {n["node"] for n in rollout["nodes"]} == {"n1", "n2"}
    assert _served(a) == _served(b) == "noop"
    status_b = b.get("/admin/status").json()
    assert status_b["converged"] is True
    for n in status_b["nodes"]:
        assert n["serving"]["home_feed/base"].startswith("noop.py@")

    r = b.post("/admin/scenes/home_feed/buckets/base/rollback", json={"wait_s": WAIT_S})
    assert r.status_code == 201 and r.json()["rollout"]["complete"]
    assert _served(a) == _served(b) == "home_feed"


def test_scene_changes_reach_every_node(nodes: list[TestClient]) -> None:
    a, b = nodes
    _wait_nodes(a, 2)
    assert a.post("/admin/scenes", json={"name": "fresh"}).status_code == 201
    _until(lambda: "fresh" in b.get("/admin/status").json()["scenes"], "scene not on node b")


def test_coordinator_url_is_validated() -> None:
    assert parse_zk_url("zk://h1:1,h2:2/x") == ("h1:1,h2:2", "/x")
    assert parse_zk_url("zk://h:1") == ("h:1", "/prism")
    with pytest.raises(Invalid) as exc:
        parse_zk_url("redis://h:1")
    assert exc.value.field == "PRISM_COORDINATOR"


def test_generations_keep_growing_when_zookeeper_loses_its_data(
    nodes: list[TestClient], zk_url: str
) -> None:
    a, b = _ready_with_noop_config(nodes)
    body = {"scene": "home_feed", "script": "noop.py", "wait_s": WAIT_S}
    before = a.post("/admin/deployments", json=body).json()["rollout"]["generation"]
    hosts, root = parse_zk_url(zk_url)
    zk = KazooClient(hosts=hosts)
    zk.start(timeout=5)
    try:
        zk.delete(f"{root}/serving")  # as if ZooKeeper had been rebuilt empty
    finally:
        zk.stop()
        zk.close()
    r = b.post("/admin/scenes/home_feed/buckets/base/rollback", json={"wait_s": WAIT_S})
    rollout = r.json()["rollout"]
    assert rollout["generation"] > before and rollout["complete"], rollout
    assert _served(a) == _served(b) == "home_feed"


def test_an_experiment_layer_reaches_every_node(
    nodes: list[TestClient],
) -> None:
    a, b = nodes
    _wait_nodes(a, 2)
    layer = {
        "name": "deeper",
        "layer": "rank",
        "buckets": [
            {"name": "x", "percent": 50},
            {"name": "y", "percent": 50, "params": {"quota_i2i": 10}},
        ],
    }
    deadline = time.monotonic() + WAIT_S
    assert a.post("/admin/scenes/home_feed/experiments", json=layer).status_code == 201
    while True:
        body = {"scene": "home_feed", "user_id": "7"}
        exp = b.post("/v1/recommend", json=body).json()["experiment"]
        if exp.get("layers", {}).get("rank") in ("x", "y"):
            break
        assert time.monotonic() < deadline, exp
        time.sleep(0.01)


def test_metrics_series_sum_every_node(nodes: list[TestClient]) -> None:
    """Each node samples its own requests; either node's series is the sum of both."""
    _wait_nodes(nodes[0], 2)
    samplers = [c.app.control.series for c in nodes]  # type: ignore[attr-defined]
    for s in samplers:
        s.stop()  # the test takes the samples, at times of its choosing
    step = samplers[0].interval_s
    start = (math.floor(time.time() / step) + 1) * step + 0.05  # after the threads' samples
    for s in samplers:
        s.sample(start)
    for client, n in zip(nodes, (3, 5), strict=True):
        for uid in range(n):
            r = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": str(uid)})
            assert r.status_code == 200
    for s in samplers:
        s.sample(start + step)
        s.publish_now()
    for client in nodes:
        r = client.get("/admin/metrics/series", params={"window_s": 60})
        assert r.status_code == 200, r.text
        home = r.json()["scenes"]["home_feed"]
        assert len(home["t"]) == 60 / step
        assert home["t"][-1] == math.floor((start + step / 2) / step) * step + step
        assert home["rps"][-1] == round((3 + 5) / step, 3)
        assert home["p50_ms"][-1] is not None and home["error_rate"][-1] == 0.0
    bad = nodes[0].get("/admin/metrics/series", params={"window_s": 7200})
    assert bad.status_code == 422 and bad.json()["field"] == "window_s"


def test_a_change_made_while_zookeeper_is_down_is_published_on_reconnect(
    nodes: list[TestClient], zookeeper: ZooKeeperServer
) -> None:
    a, b = _ready_with_noop_config(nodes)
    zookeeper.kill()
    try:
        body = {"scene": "home_feed", "script": "noop.py", "wait_s": 0.5}
        r = a.post("/admin/deployments", json=body)
        assert r.status_code == 201, r.text
        assert r.json()["rollout"]["complete"] is False  # recorded, live here only
        assert _served(a) == "noop" and _served(b) == "home_feed"
        assert a.get("/admin/status").json()["coordinator"]["pending_publish"] is True
    finally:
        zookeeper.restart()
    _until(lambda: _served(b) == "noop", "the change was not published on reconnect")
    _until(
        lambda: not a.get("/admin/status").json()["coordinator"]["pending_publish"],
        "the change stayed pending",
    )


def test_two_nodes_publishing_at_once_converge(nodes: list[TestClient]) -> None:
    a, b = nodes
    _wait_nodes(a, 2)
    for client, scene in ((a, "left"), (b, "right")):
        assert client.post("/admin/scenes", json={"name": scene}).status_code == 201
    barrier = threading.Barrier(2)

    def change(client: TestClient, scene: str, ms: int) -> None:
        barrier.wait()
        for n in range(5):  # several rounds, each publication racing the other node's
            r = client.patch(f"/admin/scenes/{scene}", json={"deadline_ms": ms + n})
            assert r.status_code == 200, r.text

    threads = [
        threading.Thread(target=change, args=(a, "left", 300)),
        threading.Thread(target=change, args=(b, "right", 400)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    def converged() -> bool:
        views = [c.get("/admin/status").json() for c in (a, b)]
        deadlines = [
            (v["scenes"]["left"]["deadline_ms"], v["scenes"]["right"]["deadline_ms"]) for v in views
        ]
        return (
            deadlines == [(304, 404), (304, 404)]
            and views[0]["generation"] == views[1]["generation"]
        )

    _until(converged, "the two nodes did not converge on both changes")
