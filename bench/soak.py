"""Soak: three nodes at ~70 % of their capacity for 10 minutes, deployed to every 30 s
and their traffic split changed every 45 s (issue 19).

Three ``prism serve`` processes (one worker each, the demo world at 5 % scale, one
SQLite database, a real ZooKeeper) serve ``home_feed``. Their capacity is measured first
(wrk, closed loop, 16 connections on each node, all three at once: answered requests a
second, summed); each node is then offered ``--share`` of a third of it, open loop
(``prism_testkit.open_loop``), while a deploy alternates
two commits of ``home_feed.py`` (``--wait``: every node serves it) and a layer
experiment re-splits the traffic 50/50, 20/80, 80/20 (``prism_testkit.soak``).

Prints the requests and how many failed (anything but a 200), the p99 of the first and
of the last minute (target: within 1.2x of each other), and per process the resident
memory, open files and threads at the start and the end (targets: zero failed, no fd or
thread growth, memory growth reported). The one-minute version in ``make test``
(``tests/platform/coordination/test_soak.py``) checks behaviour only.
"""

from __future__ import annotations

import argparse
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _report import target  # bench/_report.py
from recommend_http import wrk

from prism_testkit.soak import soak, soak_cluster
from prism_testkit.zookeeper import start_zookeeper

ROOT = Path(__file__).resolve().parents[1]
BODIES: list[dict[str, object]] = [
    {"scene": "home_feed", "user_id": str(u), "size": 20} for u in range(1000)
]


def _goodput(urls: list[str], seconds: int) -> list[float]:
    """Each node's answered (``200``) requests a second, all loaded at once: the nodes
    share the machine's cores, so one node alone would overstate what three can carry."""
    with ThreadPoolExecutor(len(urls)) as pool:
        runs = list(pool.map(lambda u: wrk(u, BODIES[0], seconds, 16), urls))
    return [r["rps"] - r["non2xx"] / seconds for r in runs]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--share", type=float, default=0.7, help="of one node's capacity")
    ap.add_argument("--deploy-every", type=float, default=30)
    ap.add_argument("--traffic-every", type=float, default=45)
    args = ap.parse_args()
    zk = start_zookeeper()
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            soak_cluster(Path(tmp), ROOT / "strategies", zk, scale=0.05) as three,
        ):
            urls = [f"{n.url}/v1/recommend" for n in three.cluster.nodes]
            _goodput(urls, 2)  # warm-up
            per_node = _goodput(urls, 8)
            capacity = sum(per_node)
            rate_per_node = capacity * args.share / len(urls)
            print(
                f"three nodes together: {capacity:.0f} answered req/s "
                f"({', '.join(f'{r:.0f}' for r in per_node)}; wrk, closed loop, 16 connections "
                f"each, at once); offering {rate_per_node:.0f}/s to each ({args.share:.0%} of "
                f"it) for {args.seconds:.0f} s"
            )
            report = soak(
                three.cluster,
                seconds=args.seconds,
                rate_per_node=rate_per_node,
                bodies=BODIES,
                every=three.home_feed_changes(args.deploy_every, args.traffic_every),
            )
    finally:
        zk.stop()
    kinds = [what.split()[0] for _, what in report.changes]
    print(
        f"{report.requests} requests, {report.failed} failed (statuses {report.statuses()}, "
        f"connection failures {[r.failures for r in report.runs.values()]}); "
        f"{kinds.count('deploy')} deploys, {kinds.count('traffic')} traffic changes"
    )
    for err in report.errors:
        print(f"  change failed: {err}")
    minute = min(60.0, args.seconds / 3)
    first_p99 = report.p99(0, minute)
    last_p99 = report.p99(args.seconds - minute, args.seconds)
    print(f"p99 first {minute:.0f} s: {first_p99:.1f} ms; last {minute:.0f} s: {last_p99:.1f} ms")
    print("per process, from when each kind of change had been made once to the end:")
    print(f"{'process':8s} {'RSS MB start/end':>18s} {'fds':>9s} {'threads':>9s}")
    for name, start in report.start.items():
        end = report.end[name]
        print(
            f"{name:8s} {start.rss_mb:8.1f}/{end.rss_mb:<8.1f} "
            f"{start.fds:4d}/{end.fds:<4d} {start.threads:4d}/{end.threads:<4d}"
        )
    target("soak: failed requests", report.failed, "= 0", report.failed == 0, "")
    ratio = last_p99 / first_p99 if first_p99 else float("inf")
    target("soak: p99 last / first minute", ratio, "<= 1.2", ratio <= 1.2, "x")
    growth = max(report.end[n].fds - s.fds for n, s in report.start.items())
    target("soak: fd growth per process", growth, "<= 0", growth <= 0, "")
    threads = max(report.end[n].threads - s.threads for n, s in report.start.items())
    target("soak: thread growth per process", threads, "<= 0", threads <= 0, "")


if __name__ == "__main__":
    main()
