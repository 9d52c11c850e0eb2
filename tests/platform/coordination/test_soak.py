"""A minute of the soak (``bench/soak.py`` runs ten): three nodes under steady open-loop
load, deployed to every 20 s and their traffic split changed every 25 s. No request
fails, and no serving process grows past a small bound (memory, files, threads) from
when every kind of change has been made once to the end."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from prism_testkit.accounts import seeded_headers
from prism_testkit.cluster import Cluster, demo_env, prism
from prism_testkit.repo import strategies_repo
from prism_testkit.soak import deploys, soak, traffic_splits
from prism_testkit.zookeeper import ZooKeeperServer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
BODIES: list[dict[str, object]] = [
    {"scene": "home_feed", "user_id": str(u), "size": 20} for u in range(300)
]


def test_a_minute_of_deploys_and_traffic_changes_under_load_fails_no_request(
    tmp_path: Path, zookeeper: ZooKeeperServer
) -> None:
    repo = tmp_path / "strategies"
    first, second = strategies_repo(REPO / "strategies", repo)
    env = demo_env(tmp_path, repo, scale=0.04)
    env["PRISM_COORDINATOR"] = zookeeper.url(f"/soak{uuid.uuid4().hex[:8]}")
    prism(["demo", "seed"], env)
    admin = seeded_headers(env)
    cluster = Cluster(tmp_path, env)
    try:
        for _ in range(3):
            cluster.start_node()
        url = cluster.nodes[0].url
        every = {
            20.0: deploys(url, admin, "home_feed", "home_feed.py", [second, first]),
            25.0: traffic_splits(url, admin, "home_feed", {"quota_i2i": 200}),
        }
        report = soak(cluster, seconds=60, rate_per_node=40, bodies=BODIES, every=every)
    finally:
        cluster.stop()
    assert report.errors == []
    assert [what.split()[0] for _, what in report.changes].count("deploy") >= 2
    assert [what.split()[0] for _, what in report.changes].count("traffic") >= 2
    assert report.requests >= 3 * 40 * 60 * 0.95
    assert report.failed == 0, report.statuses()
    assert sorted(report.start) == sorted(report.end) == ["node1", "node2", "node3"]
    for name, start in report.start.items():
        end = report.end[name]
        assert end.rss_mb - start.rss_mb < 60, (name, start, end)
        assert end.fds - start.fds <= 8, (name, start, end)
        assert end.threads - start.threads <= 4, (name, start, end)
