"""Under ``prism serve --workers N`` with the embedded coordinator the workers do not see
each other's series: each samples the whole node, its own metrics plus the files the
other workers share (``PRISM_METRICS_DIR``)."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from prism_platform.metrics.registry import Metrics
from prism_platform.metrics.share import SharedMetrics

from ...conftest import AppFactory

T0 = 2_000_000 * 5.0 + 0.05


def test_each_worker_samples_the_whole_node(make_app: AppFactory, tmp_path: Path) -> None:
    shared_dir = tmp_path / "metrics"
    other = Metrics()  # another worker of the same node
    other_file = SharedMetrics(other, shared_dir, worker="other")
    app = make_app(metrics_dir=str(shared_dir))
    series = app.control.series
    assert series is not None
    series.sample(T0)
    for _ in range(4):
        other.requests.inc(("home_feed", "base", "home_feed", "v1", "ok"))
    other_file.publish()
    assert (
        TestClient(app)
        .post("/v1/recommend", json={"scene": "home_feed", "user_id": "1"})
        .status_code
        == 200
    )
    series.sample(T0 + 5)
    assert series.window(5).data["home_feed"][0, 0] == 4 + 1
