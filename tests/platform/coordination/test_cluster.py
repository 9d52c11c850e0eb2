"""Three real platform processes kept in step by a real ZooKeeper, on SQLite and on
PostgreSQL.

Waits are for events (a rollout reported complete, every node serving a version) with
generous timeouts; how fast a deploy converges is bench/deploy_convergence.py's job."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from prism_testkit.accounts import seeded_headers
from prism_testkit.cluster import Cluster, demo_env, prism
from prism_testkit.load import LoadGenerator
from prism_testkit.postgres import PostgresServer
from prism_testkit.repo import strategies_repo
from prism_testkit.zookeeper import ZooKeeperServer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A strategies repo with two commits of home_feed.py: (path, first, second)."""
    root = tmp_path_factory.mktemp("repo") / "strategies"
    first, second = strategies_repo(REPO / "strategies", root)
    return root, first, second


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def cluster(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    zookeeper: ZooKeeperServer,
    repo: tuple[Path, str, str],
) -> Iterator[Cluster]:
    """Three nodes on one metadata database: SQLite, then PostgreSQL (every test runs
    on both)."""
    work = tmp_path_factory.mktemp("cluster")
    env = demo_env(work, repo[0], scale=0.06)
    if request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres")
        env["PRISM_DATABASE_URL"] = server.create_database()
    env["PRISM_COORDINATOR"] = zookeeper.url(f"/c{uuid.uuid4().hex[:8]}")
    prism(["demo", "seed"], env)  # data and metadata once, before the nodes start
    AUTH.update(seeded_headers(env))  # the admin token the seed made
    TOKEN.update(PRISM_TOKEN=AUTH["Authorization"].removeprefix("Bearer "))
    c = Cluster(work, env)
    try:
        for _ in range(3):
            c.start_node()
        yield c
    finally:
        c.stop()


AUTH: dict[str, str] = {}
TOKEN: dict[str, str] = {}
"""The seeded admin's headers, and the same token for CLI commands (set by ``cluster``)."""


def _status(url: str) -> dict[str, object]:
    return dict(httpx.get(f"{url}/admin/status", headers=AUTH, timeout=5).json())


WAIT_S = 20  # for a rollout to complete (the CLI's own HTTP timeout is 30 s)
SETTLE_S = 30  # for nodes to register, resync, answer load


def _wait_all_registered(cluster: Cluster, n: int, timeout: float = SETTLE_S) -> None:
    deadline = time.monotonic() + timeout
    while len(_status(cluster.nodes[0].url)["nodes"]) < n:  # type: ignore[arg-type]
        assert time.monotonic() < deadline, "nodes did not register in ZooKeeper"
        time.sleep(0.05)


def _version(url: str) -> str:
    body = httpx.post(
        f"{url}/v1/recommend", json={"scene": "home_feed", "user_id": "5"}, timeout=5
    ).json()
    assert body["degraded"] is False
    return str(body["strategy"]["version"])


def _deploy(url: str, commit: str) -> dict[str, object]:
    out = prism(
        ["deploy", "--url", url, "--scene", "home_feed", "--script", "home_feed.py"]
        + ["--version", commit, "--wait", str(WAIT_S)],
        TOKEN,
    )
    return dict(json.loads(out))


def test_a_deploy_on_one_node_is_served_by_all_three(
    cluster: Cluster, repo: tuple[Path, str, str]
) -> None:
    _wait_all_registered(cluster, 3)
    status = json.loads(prism(["status", "--url", cluster.nodes[2].url], TOKEN))
    assert sorted(n["node"] for n in status["nodes"]) == ["node1", "node2", "node3"]

    body = {"scene": "home_feed", "script": "home_feed.py", "version": repo[1], "wait_s": WAIT_S}
    url = f"{cluster.nodes[0].url}/admin/deployments"
    r = httpx.post(url, json=body, headers=AUTH, timeout=WAIT_S + 30)
    assert r.status_code == 201, r.text
    rollout = r.json()["rollout"]  # answered once every node reported it (or at WAIT_S)
    assert rollout["complete"] is True, rollout
    assert {_version(n.url) for n in cluster.nodes} == {repo[1][:12]}
    for n in _status(cluster.nodes[1].url)["nodes"]:  # type: ignore[attr-defined]
        assert n["serving"]["home_feed/base"] == f"home_feed.py@{repo[1][:12]}:default"


def _wait_answered(load: LoadGenerator, since: float, n: int = 40) -> None:
    """Until ``n`` requests sent after ``since`` (monotonic) have been answered."""
    deadline = time.monotonic() + SETTLE_S
    while sum(r.start > since for r in load.results) < n:
        assert time.monotonic() < deadline, "the load generator stalled"
        time.sleep(0.05)


def test_deploy_and_rollback_under_load_fail_no_request(
    cluster: Cluster, repo: tuple[Path, str, str]
) -> None:
    _, first, second = repo
    _deploy(cluster.nodes[0].url, first)
    old, new = first[:12], second[:12]
    t_start = time.monotonic()
    with LoadGenerator([n.url for n in cluster.nodes], scene="home_feed", threads=4) as load:
        _wait_answered(load, t_start)
        t_deploy = time.monotonic()
        assert _deploy(cluster.nodes[1].url, second)["rollout"]["complete"]  # type: ignore[index]
        t_deployed = time.monotonic()
        _wait_answered(load, t_deployed)  # all served by the new version only
        t_rollback = time.monotonic()
        prism(
            [
                "rollback",
                "--url",
                cluster.nodes[2].url,
                "--scene",
                "home_feed",
                "--wait",
                str(WAIT_S),
            ],
            TOKEN,
        )
        t_rolled = time.monotonic()
        _wait_answered(load, t_rolled)
    results = load.results
    assert len(results) > 100
    assert [r for r in results if not r.ok] == []
    for r in results:  # every response names a version that was live while it ran
        live = set()
        if r.start < t_deployed or r.end > t_rollback:
            live.add(old)
        if r.end > t_deploy and r.start < t_rolled:
            live.add(new)
        assert r.version in live, (r, t_deploy, t_deployed, t_rollback, t_rolled)
    assert any(r.version == new for r in results) and any(r.version == old for r in results)


def test_wait_names_the_node_that_did_not_report(
    cluster: Cluster, repo: tuple[Path, str, str]
) -> None:
    _, first, second = repo
    _wait_all_registered(cluster, 3)
    _deploy(cluster.nodes[0].url, first)
    frozen = cluster.nodes[2]
    assert frozen.process is not None
    os.kill(frozen.process.pid, signal.SIGSTOP)  # registered (its session lives ~6 s), deaf
    try:
        with pytest.raises(RuntimeError) as failed:
            prism(
                ["deploy", "--url", cluster.nodes[0].url, "--scene", "home_feed"]
                + ["--script", "home_feed.py", "--version", second, "--wait", "1.5"],
                TOKEN,
            )
    finally:
        os.kill(frozen.process.pid, signal.SIGCONT)
    message = str(failed.value)
    assert f"live on some nodes only: {frozen.name} did not report generation" in message
    assert "node1" not in message.split("live on some nodes only:")[1]
    deadline = time.monotonic() + SETTLE_S  # resumed, it catches up by itself
    while _version(frozen.url) != second[:12]:
        assert time.monotonic() < deadline, "the resumed node did not catch up"
        time.sleep(0.1)


def test_nodes_serve_through_a_zookeeper_outage_and_resync(
    cluster: Cluster, zookeeper: ZooKeeperServer, repo: tuple[Path, str, str]
) -> None:
    _, first, second = repo
    _deploy(cluster.nodes[0].url, first)
    zookeeper.kill()
    try:
        for node in cluster.nodes:
            assert all(_version(node.url) == first[:12] for _ in range(20))
        late = cluster.start_node("late")  # starts from the database while ZooKeeper is down
        assert _version(late.url) == first[:12]
        assert _status(late.url)["coordinator"]["connected"] is False  # type: ignore[index]
    finally:
        zookeeper.restart()
    _wait_all_registered(cluster, 4)
    result = _deploy(cluster.nodes[1].url, second)
    assert result["rollout"]["complete"] is True  # type: ignore[index]
    # a node whose ZooKeeper session expired during the outage re-registers and resyncs on
    # its own schedule: it must serve the new version soon, not necessarily at once
    deadline = time.monotonic() + SETTLE_S
    while True:
        served = {n.name: _version(n.url) for n in cluster.nodes}
        if set(served.values()) == {second[:12]}:
            break
        statuses = {n.name: _status(n.url) for n in cluster.nodes}
        assert time.monotonic() < deadline, (served, statuses, result)
        time.sleep(0.1)
