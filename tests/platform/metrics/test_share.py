"""One /metrics for all the workers of a node: each publishes its values to a shared
directory, the one that answers a scrape adds them up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from prism_platform.metrics.registry import Metrics
from prism_platform.metrics.share import SharedMetrics, run_directory
from prism_testkit.cluster import Cluster, demo_env, seed_demo

KEY = ("home_feed", "base", "home_feed", "v1")
REPO = Path(__file__).resolve().parents[3]


def worker(directory: Path, name: str, requests: int, latency_s: float) -> SharedMetrics:
    m = Metrics()
    for _ in range(requests):
        m.requests.inc((*KEY, "ok"))
        m.latency.observe(KEY, latency_s)
    m.rejected.inc(("422",))
    return SharedMetrics(m, directory, worker=name)


def total(text: str, series: str) -> float:
    return sum(float(ln.rsplit(" ", 1)[1]) for ln in text.splitlines() if ln.startswith(series))


def published(metrics_dir: Path, scene: str) -> float:
    """The requests of ``scene`` in the workers' published files (each file holds its
    worker's totals: when these add up, every worker has published all it served)."""
    count = 0.0
    for path in metrics_dir.glob("serve-*/*.json"):
        try:
            state = json.loads(path.read_bytes())
        except (OSError, ValueError):  # replaced while read: next time
            continue
        count += sum(v for labels, v in state.get("prism_requests_total", []) if labels[0] == scene)
    return count


def test_any_worker_renders_the_sum_of_all(tmp_path: Path) -> None:
    a = worker(tmp_path, "a", 3, 0.001)
    b = worker(tmp_path, "b", 5, 0.3)
    a.publish()
    b.publish()
    for w in (a, b):
        text = w.render()
        assert total(text, "prism_requests_total{") == 8
        assert total(text, "prism_rejected_requests_total{") == 2
        labels = 'scene="home_feed",bucket="base",strategy="home_feed",version="v1"'
        assert f'prism_request_latency_seconds_bucket{{{labels},le="0.002"}} 3' in text
        assert f'prism_request_latency_seconds_bucket{{{labels},le="0.5"}} 8' in text
        assert f"prism_request_latency_seconds_count{{{labels}}} 8" in text
    a.metrics.requests.inc((*KEY, "ok"))  # live values of the answering worker count at once
    assert total(a.render(), "prism_requests_total{") == 9
    assert total(b.render(), "prism_requests_total{") == 8  # a's file: until a publishes


def test_the_thread_publishes_and_stop_writes_the_last_values(tmp_path: Path) -> None:
    a = SharedMetrics(Metrics(), tmp_path, worker="a", interval_s=0.05).start()
    reader = worker(tmp_path, "b", 0, 0.0)
    try:
        a.metrics.requests.inc((*KEY, "ok"), 4)
        deadline = time.monotonic() + 30
        while total(reader.render(), "prism_requests_total{") != 4:
            assert time.monotonic() < deadline, "the worker never published"
            time.sleep(0.02)
    finally:
        a.metrics.requests.inc((*KEY, "ok"))
        a.stop()
    assert total(reader.render(), "prism_requests_total{") == 5


def test_unreadable_files_are_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    a = worker(tmp_path, "a", 2, 0.01)
    good = '[["cart", "base", "cart", "v1", "ok"], 1]'
    bad = {
        "torn": b'{"prism_requests_total": [[',
        "odd": b'{"prism_requests_total": [[1, "x"]]}',
        "list": b"[1, 2]",
        "arity": b'{"prism_requests_total": [[["home", "base"], 3]]}',
        "half": f'{{"prism_requests_total": [{good}, [["a", "b", "c", "d", "e"], "x"]]}}'.encode(),
        "hist": b'{"prism_request_latency_seconds": [[["a", "b", "c", "d"], [1, 2]]]}',
    }
    for name, raw in bad.items():
        (tmp_path / f"{name}.json").write_bytes(raw)
    text = a.render()  # none of them breaks the page, none adds half of itself
    assert total(text, "prism_requests_total{") == 2
    assert 'scene="cart"' not in text
    assert "metrics_file_unreadable" in caplog.text


def test_each_serve_run_gets_a_new_directory_and_dead_runs_are_removed(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = tmp_path / "metrics" / f"serve-{int(gone.stdout)}"
    live = tmp_path / "metrics" / f"serve-{os.getppid()}"
    for d in (dead, live):
        d.mkdir(parents=True)
    mine = tmp_path / "metrics" / f"serve-{os.getpid()}"  # an earlier run with this pid
    (mine / "1.json").parent.mkdir(parents=True)
    (mine / "1.json").write_text("{}")
    here = run_directory(tmp_path)
    assert here == mine and not here.exists()  # emptied: its files are not this run's
    assert not dead.exists() and live.exists()


@pytest.mark.slow
def test_a_two_worker_node_counts_every_request_in_every_scrape(tmp_path: Path) -> None:
    env = demo_env(tmp_path, REPO / "strategies")
    seed_demo(env)
    cluster = Cluster(tmp_path, env)
    try:
        node = cluster.start_node(workers=2)
        metrics_dir = tmp_path / "var" / "metrics"
        deadline = time.monotonic() + 30
        while len(list(metrics_dir.glob("serve-*/*.json"))) < 2:  # both workers are up
            assert time.monotonic() < deadline, "the second worker never started"
            time.sleep(0.1)
        for u in range(40):  # a new connection each: the kernel spreads them over workers
            r = httpx.post(f"{node.url}/v1/recommend", json={"scene": "cart", "user_id": str(u)})
            assert r.status_code == 200
        deadline = time.monotonic() + 30
        while published(metrics_dir, "cart") < 40:  # every worker has published since
            assert time.monotonic() < deadline, published(metrics_dir, "cart")
            time.sleep(0.1)
        for _ in range(8):  # then every scrape, whichever worker answers, counts them all
            text = httpx.get(f"{node.url}/metrics").text
            assert total(text, 'prism_requests_total{scene="cart"') == 40
    finally:
        cluster.stop()
