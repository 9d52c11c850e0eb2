"""A minute of the soak (``bench/soak.py`` runs ten): three nodes under steady open-loop
load, deployed to every 20 s and their traffic split changed every 25 s. No request
fails, and no serving process grows past a small bound (memory, files, threads) from
when every kind of change has been made once to the end."""

from __future__ import annotations

from pathlib import Path

import pytest

from prism_testkit.soak import soak, soak_cluster
from prism_testkit.zookeeper import ZooKeeperServer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
BODIES: list[dict[str, object]] = [
    {"scene": "home_feed", "user_id": str(u), "size": 20} for u in range(300)
]


def test_a_minute_of_deploys_and_traffic_changes_under_load_fails_no_request(
    tmp_path: Path, zookeeper: ZooKeeperServer
) -> None:
    with soak_cluster(tmp_path, REPO / "strategies", zookeeper, scale=0.04) as three:
        report = soak(
            three.cluster,
            seconds=60,
            rate_per_node=40,
            bodies=BODIES,
            every=three.home_feed_changes(deploy_every=20, traffic_every=25),
        )
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
