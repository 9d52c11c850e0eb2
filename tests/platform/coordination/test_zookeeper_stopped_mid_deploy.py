"""ZooKeeper stopped during a deploy, under open-loop load on two real nodes.

ZooKeeper is frozen (``SIGSTOP``: its sockets stay open, nothing answers, as in a long
GC pause or a hung machine) before the deploy is sent: a deploy touches ZooKeeper only
to publish, after its database commit, so the fault is in place exactly between the
commit and the publication, and the node does not know yet (its session still looks
connected: the publication times out). Event-driven, no sleeps: ZooKeeper resumes when
the node has logged that its publication failed (the stall outlived the publication
but not the session, which a reconnect would otherwise have papered over), or after the
operator has seen the deploy's outcome and ``prism status`` (a longer outage)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from prism_testkit.cluster import Node, prism
from prism_testkit.open_loop import BackgroundLoad
from prism_testkit.soak import SoakCluster, soak_cluster
from prism_testkit.zookeeper import ZooKeeperServer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
BODIES: list[dict[str, object]] = [
    {"scene": "home_feed", "user_id": str(u), "size": 10} for u in range(200)
]
RATE = 25  # requests a second on each node
CONVERGE_S = 20  # for every node to serve the deploy once ZooKeeper answers


@pytest.fixture(scope="module")
def two(
    tmp_path_factory: pytest.TempPathFactory, zookeeper: ZooKeeperServer
) -> Iterator[SoakCluster]:
    work = tmp_path_factory.mktemp("zk-mid-deploy")
    with soak_cluster(work, REPO / "strategies", zookeeper, scale=0.03, nodes=2) as cluster:
        yield cluster


def _cli(two: SoakCluster) -> dict[str, str]:
    return {"PRISM_TOKEN": two.admin["Authorization"].removeprefix("Bearer ")}


def _version(node: Node) -> str:
    r = httpx.post(
        f"{node.url}/v1/recommend", json={"scene": "home_feed", "user_id": "5"}, timeout=5
    )
    assert r.status_code == 200, r.text
    return str(r.json()["strategy"]["version"])


def _status(two: SoakCluster, node: Node) -> dict[str, Any]:
    return dict(httpx.get(f"{node.url}/admin/status", headers=two.admin, timeout=10).json())


def _deploy(two: SoakCluster, node: Node, version: str, wait_s: float) -> Future[str]:
    """``prism deploy --wait wait_s`` of ``home_feed.py@version`` through ``node``, running."""
    args = ["deploy", "--url", node.url, "--scene", "home_feed", "--script", "home_feed.py"]
    args += ["--version", version, "--wait", str(wait_s)]
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(prism, args, _cli(two), 120)
    finally:
        pool.shutdown(wait=False)


def _until(check: Callable[[], bool], what: str, timeout: float = CONVERGE_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _converged(two: SoakCluster, version: str) -> None:
    """Every node serves ``version``, and the node that took the deploy has published it."""
    nodes = two.cluster.nodes
    _until(
        lambda: (
            all(_version(n) == version[:12] for n in nodes)
            and not _status(two, nodes[0])["coordinator"]["pending_publish"]
        ),
        f"the nodes did not converge on {version[:12]} once ZooKeeper answered",
    )
    assert _status(two, nodes[1])["converged"] is True


def _recorded_once(two: SoakCluster, version: str) -> None:
    """One deployment of ``version``, active, and one audit entry of it: nothing
    half-written, nothing twice (a publication retried is not a deploy retried)."""
    url = two.cluster.nodes[1].url
    deps = httpx.get(
        f"{url}/admin/deployments", params={"scene": "home_feed"}, headers=two.admin
    ).json()
    mine = [d for d in deps if d["version"] == version]
    assert len(mine) == 1 and mine[0]["active"], deps
    assert [d["id"] for d in deps if d["active"] and d["bucket"] == "base"] == [mine[0]["id"]]
    audit = httpx.get(f"{url}/admin/audit", params={"limit": 50}, headers=two.admin).json()
    deploys = [e for e in audit if e["action"] == "deploy" and e["detail"]["version"] == version]
    assert [e["detail"]["id"] for e in deploys] == [mine[0]["id"]], audit


def _load(two: SoakCluster, seconds: float) -> BackgroundLoad:
    return BackgroundLoad([n.port for n in two.cluster.nodes], BODIES, RATE, seconds)


def _nothing_failed(load: BackgroundLoad) -> None:
    runs = load.results()
    assert all(r.kept_up for r in runs), [r.achieved for r in runs]
    assert sum(len(r.answers) for r in runs) >= 2 * RATE * load.seconds * 0.95
    assert [(s, due) for r in runs for s, _, due in r.answers if s != 200] == []


def test_a_stall_at_the_publish_that_the_session_outlives(
    two: SoakCluster, zookeeper: ZooKeeperServer
) -> None:
    """ZooKeeper stalls for about the publication's timeout (2 s): the publication
    fails and the session survives it, so no reconnect comes to publish the change: the
    node publishes it again by itself, and the deploy completes within its ``--wait``
    (it stayed ``pending_publish`` for good, and the node deaf to every other node's
    publication)."""
    a, b = two.cluster.nodes
    _, second = two.versions
    before = _version(b)
    load = _load(two, 6)
    logged = len(a.log_path.read_bytes())
    with zookeeper.frozen():
        deploy = _deploy(two, a, second, CONVERGE_S)
        _until(
            lambda: b"event=zk_publish_failed" in a.log_path.read_bytes()[logged:],
            "the node tried no publication",
        )
    rollout = json.loads(deploy.result(60))["rollout"]
    assert rollout["complete"] is True and rollout["pending_publish"] is False, rollout
    assert sorted(n["node"] for n in rollout["nodes"]) == ["node1", "node2"]
    assert before != second[:12] and {_version(a), _version(b)} == {second[:12]}
    _converged(two, second)
    _recorded_once(two, second)
    _nothing_failed(load)


def test_an_outage_through_the_deploy_and_what_the_operator_sees(
    two: SoakCluster, zookeeper: ZooKeeperServer
) -> None:
    """ZooKeeper stays stopped through the deploy and a ``prism status``: the deploy
    is recorded and live on the node that took it, ``--wait`` says so and why,
    ``prism status`` says ``pending_publish`` and not converged; every node serves it
    once ZooKeeper is back."""
    a, b = two.cluster.nodes
    first, _ = two.versions
    load = _load(two, 10)
    before = _version(b)
    assert before != first[:12]
    with zookeeper.frozen():
        with pytest.raises(RuntimeError) as failed:
            _deploy(two, a, first, 2).result(60)
        status = json.loads(prism(["status", "--url", a.url], _cli(two)))
        assert _version(a) == first[:12] and _version(b) == before  # live where it was made
    said = str(failed.value)
    assert "recorded, and live on node1 only" in said and "pending_publish" in said, said
    assert status["coordinator"]["pending_publish"] is True
    assert status["converged"] is False
    assert status["scenes"]["home_feed"]["buckets"][0]["version"] == first[:12]
    _converged(two, first)
    _recorded_once(two, first)
    _nothing_failed(load)
