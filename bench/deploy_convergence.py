"""Deploy convergence across 3 nodes over ZooKeeper, and request latency during deploys.

Starts a private ZooKeeper and three ``prism serve`` processes (a small demo world),
then, in one run:

* steady state: a load generator sends ``home_feed`` requests for a while, no deploys;
* deploys: the same load while 20 deploys alternate two commits of ``home_feed.py``,
  each waiting until every node reports it (``converged_ms`` = publication → last report).

The two phases alternate ``--rounds`` times (3), so a slow spell of the machine lands in
one round, not in the whole figure: the ratio reported is the median of the rounds'.
Prints convergence p50/p99 and p99 latency during deploys as a ratio of steady state.
Targets: convergence p99 ≤ 1000 ms; p99 during deploys ≤ 1.5x steady; zero errors.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from _report import target  # bench/_report.py

from prism_testkit.accounts import seeded_headers
from prism_testkit.cluster import Cluster, prism
from prism_testkit.load import LoadGenerator, Result
from prism_testkit.repo import strategies_repo
from prism_testkit.zookeeper import start_zookeeper

REPO = Path(__file__).resolve().parents[1]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(results: list[Result]) -> tuple[float, float, int]:
    lat = [r.latency_ms for r in results if r.ok]
    return pct(lat, 50), pct(lat, 99), sum(not r.ok for r in results)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--deploys", type=int, default=20)
    ap.add_argument("--steady-s", type=float, default=8.0)
    ap.add_argument("--rounds", type=int, default=3, help="steady and deploy phases, alternated")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scale", default="0.1", help="PRISM_DEMO_SCALE of the demo world")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="prism-bench-deploy-"))
    zk = start_zookeeper()
    first, second = strategies_repo(REPO / "strategies", work / "strategies")
    env = {
        "PRISM_VAR_DIR": str(work / "var"),
        "PRISM_DATABASE_URL": f"sqlite:///{work / 'prism.db'}",
        "PRISM_STRATEGIES_DIR": str(work / "strategies"),
        "PRISM_DEMO_SCALE": args.scale,
        "PRISM_COORDINATOR": zk.url(f"/bench{uuid.uuid4().hex[:6]}"),
    }
    prism(["demo", "seed"], env)
    cluster = Cluster(work, env)
    try:
        for _ in range(3):
            cluster.start_node()
        urls = [n.url for n in cluster.nodes]
        admin = httpx.Client(base_url=urls[0], headers=seeded_headers(env), timeout=30)
        # a 503 past capacity, as before the demo's home_feed answered it with a page
        admin.patch("/admin/scenes/home_feed", json={"on_overload": "refuse"}).raise_for_status()

        def deploy(commit: str) -> dict[str, object]:
            body = {"scene": "home_feed", "script": "home_feed.py", "version": commit}
            r = admin.post("/admin/deployments", json={**body, "wait_s": 5})
            r.raise_for_status()
            return dict(r.json()["rollout"])

        deploy(first)
        converged: list[float] = []
        incomplete = 0
        rounds: list[tuple[list[Result], list[Result]]] = []
        for _ in range(args.rounds):
            with LoadGenerator(urls, scene="home_feed", threads=args.threads) as load:
                time.sleep(args.steady_s)
            steady = load.results
            with LoadGenerator(urls, scene="home_feed", threads=args.threads) as load:
                t0 = time.monotonic()
                for i in range(args.deploys):
                    rollout = deploy(second if i % 2 == 0 else first)
                    if rollout["complete"]:
                        converged.append(float(rollout["converged_ms"]))  # type: ignore[arg-type]
                    else:
                        incomplete += 1
                # keep the same duration as the steady phase if deploys were quicker
                time.sleep(max(0.0, args.steady_s - (time.monotonic() - t0)))
            rounds.append((steady, load.results))
    finally:
        cluster.stop()
        zk.stop()

    print(
        f"nodes: 3  deploys: {args.deploys} a round, {args.rounds} rounds  "
        f"load threads: {args.threads}"
    )
    print(
        f"convergence ms: p50 {pct(converged, 50):.1f}  p99 {pct(converged, 99):.1f}  "
        f"max {max(converged):.1f}  mean {statistics.mean(converged):.1f}  "
        f"incomplete {incomplete}   (target p99 <= 1000)"
    )
    ratios: list[float] = []
    errors = 0
    for k, (steady, during) in enumerate(rounds, 1):
        s50, s99, s_err = summary(steady)
        d50, d99, d_err = summary(during)
        errors += s_err + d_err
        ratios.append(d99 / s99)
        print(
            f"round {k}: steady {len(steady):6d} requests p50 {s50:6.2f} ms p99 {s99:6.2f} ms; "
            f"deploys {len(during):6d} requests p50 {d50:6.2f} ms p99 {d99:6.2f} ms; "
            f"errors {s_err + d_err}; p99 during/steady {d99 / s99:.2f}"
        )
    ratio = statistics.median(ratios)
    print(f"ratio p99 during/steady, median of {len(ratios)} rounds: {ratio:.2f}  (target <= 1.5)")
    c99 = pct(converged, 99)
    target(
        "deploy convergence p99 (3 nodes)", c99, "<= 1000", c99 <= 1000 and not incomplete, " ms"
    )
    target("requests failed during deploys", errors, "== 0", errors == 0)
    target("p99 during deploys / steady", ratio, "<= 1.5", ratio <= 1.5, "x")
    return 0 if errors == incomplete == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
