"""The overview's metrics series: what one sample costs the node (the sampling thread
reads the registry every 5 s), how big a node's published window is, and what the
overview pays to decode, sum and chart the windows of ``--nodes`` nodes.

The registry holds the demo's shape (4 scenes, 2 buckets each, a primary strategy and
the fallback, both outcomes) times ``--scenes-factor``; every slot of the 30-minute
window has traffic in every scene and bucket (the largest window a node publishes).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from prism_platform.metrics.registry import Metrics
from prism_platform.metrics.series import MetricsSampler
from prism_platform.metrics.series_window import PeerWindows, chart_series, merge

T0 = 400_000_000.05


def traffic(m: Metrics, rng: random.Random, scenes: list[str], n: int) -> None:
    for _ in range(n):
        scene, bucket = rng.choice(scenes), rng.choice(("base", "test"))
        name = "fallback" if rng.random() < 0.02 else "rank"
        key = (scene, bucket, name, "v1")
        m.latency.observe(key, rng.lognormvariate(-5.5, 0.8))
        m.requests.inc((*key, "degraded" if rng.random() < 0.05 else "ok"))
        if name == "fallback":
            m.strategy_errors.inc((scene, bucket, "rank", "v1", "deadline"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=4)
    ap.add_argument("--scenes-factor", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(1)
    scenes = [f"scene{i}" for i in range(4 * args.scenes_factor)]
    m = Metrics()
    s = MetricsSampler(lambda: m, clock=lambda: T0)
    s.sample(T0)
    costs = []
    for k in range(1, s.capacity + 1):
        traffic(m, rng, scenes, 200)
        start = time.perf_counter()
        s.sample(T0 + 5 * k)
        costs.append((time.perf_counter() - start) * 1e6)
    print(
        f"one sample ({len(m.requests.values)} request series): median "
        f"{statistics.median(costs):.0f} us, p90 {statistics.quantiles(costs, n=10)[-1]:.0f} us"
    )
    start = time.perf_counter()
    data = s.encoded()
    print(
        f"published window: {len(data) / 1024:.1f} KiB, encoded in "
        f"{(time.perf_counter() - start) * 1000:.2f} ms"
    )
    for label, fresh in (("every window new", True), ("windows decoded before", False)):
        peers, times = PeerWindows(), []
        for run in range(20):
            published = {
                f"n{i}": data + b" " * (run if fresh else 0) for i in range(args.nodes - 1)
            }
            start = time.perf_counter()
            chart_series(merge([s.window(), *peers.read(published)], 1800))
            times.append((time.perf_counter() - start) * 1000)
        print(
            f"sum + chart series of {args.nodes} nodes ({label}): median "
            f"{statistics.median(times):.2f} ms"
        )


if __name__ == "__main__":
    main()
