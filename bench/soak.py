"""Soak: three nodes at ~70 % of their capacity for 10 minutes, deployed to every 30 s
and their traffic split changed every 45 s (issue 19).

Three ``prism serve`` processes (one worker each, the demo world at 5 % scale, one
SQLite database, a real ZooKeeper) serve ``home_feed``. Their capacity is measured first,
the way the soak loads them (``prism_testkit.soak.capacity``): open loop on all three at
once from this process, the rate raised 1.2x every 6 s until a step refuses or fails a
request, falls behind or answers past the 80 ms deadline at p99 (twice at that rate).
The capacity is the lower of the highest rate that held and the rate that would keep
every core of the machine busy (``sustained``: extrapolated from how busy that step kept
it; a 6-second step stays within the deadline past that rate by queueing, which ten
minutes cannot). Each node is then offered ``--share`` of it, open loop
(``prism_testkit.open_loop``), while a deploy alternates
two commits of ``home_feed.py`` (``--wait``: every node serves it) and a layer
experiment re-splits the traffic 50/50, 20/80, 80/20 (``prism_testkit.soak``).

Prints the requests and how many failed (anything but a 200), the p99 of the first and
of the last minute (target: within 1.2x of each other) and how fast the machine itself ran
by minute (``prism_testkit.machine_speed``: a shared host slows every process on it for
minutes at a time, the nodes as much as a fixed piece of work), and per process the resident
memory, open files and threads at the start and the end (targets: zero failed, no fd or
thread growth, memory growth reported). The one-minute version in ``make test``
(``tests/platform/coordination/test_soak.py``) checks behaviour only.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import httpx
from _report import target  # bench/_report.py

from prism_testkit.soak import capacity, carried, soak, soak_cluster, sustained
from prism_testkit.zookeeper import start_zookeeper

ROOT = Path(__file__).resolve().parents[1]
BODIES: list[dict[str, object]] = [
    {"scene": "home_feed", "user_id": str(u), "size": 20} for u in range(1000)
]
DEADLINE_MS = 80  # home_feed's


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--share", type=float, default=0.7, help="of the measured capacity")
    ap.add_argument("--rate", type=float, help="per node, instead of measuring capacity")
    ap.add_argument("--deploy-every", type=float, default=30)
    ap.add_argument("--traffic-every", type=float, default=45)
    ap.add_argument(
        "--sample-rate",
        type=float,
        help="home_feed's replay sampling (the demo samples every request; production 0.01)",
    )
    args = ap.parse_args()
    zk = start_zookeeper()
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            soak_cluster(Path(tmp), ROOT / "strategies", zk, scale=0.05) as three,
        ):
            if args.sample_rate is not None:
                r = httpx.patch(
                    f"{three.cluster.nodes[0].url}/admin/scenes/home_feed",
                    json={"sample_rate": args.sample_rate},
                    headers=dict(three.admin),
                    timeout=30,
                )
                r.raise_for_status()
                time.sleep(2)  # every node takes the new snapshot
            steps = [] if args.rate else capacity(three.cluster, BODIES, deadline_ms=DEADLINE_MS)
            for step in steps:
                print(
                    f"  capacity step: {step.rate_per_node:5.0f}/s a node, {step.ok}/"
                    f"{step.offered} answered 200 ({step.degraded} degraded), "
                    f"p99 {step.p99_ms:.1f} ms, "
                    f"kept up: {step.kept_up}, {step.cores_busy:.2f} cores busy"
                )
            if args.rate:
                held = args.rate / args.share
            else:
                cores = os.cpu_count() or 1
                within = carried(steps, DEADLINE_MS) or steps[0].rate_per_node / 2
                full = sustained(steps, DEADLINE_MS, cores) or within
                held = min(within, full)
                print(
                    f"answered within the deadline up to {within:.0f}/s a node; every core "
                    f"busy at {full:.0f}/s a node (extrapolated from the highest step that held)"
                )
            rate_per_node = held * args.share
            print(
                f"three nodes together carry {3 * held:.0f} req/s ({held:.0f} a node, open "
                f"loop, every node at once); offering {rate_per_node:.0f}/s to each "
                f"({args.share:.0%} of it) for {args.seconds:.0f} s"
            )
            report = soak(
                three.cluster,
                seconds=args.seconds,
                rate_per_node=rate_per_node,
                bodies=BODIES,
                every=three.home_feed_changes(args.deploy_every, args.traffic_every),
                also_ours=[zk.process.pid] if zk.process is not None else [],
            )
            for node in three.cluster.nodes:  # what the nodes said of pauses and overload
                for line in node.log_path.read_text(errors="replace").splitlines():
                    if "event=gc_pause" in line or "event=overloaded" in line:
                        print(f"  {node.name}: {line[-160:]}")
    finally:
        zk.stop()
    kinds = [what.split()[0] for _, what in report.changes]
    print(
        f"{report.requests} requests, {report.failed} failed (statuses {report.statuses()}, "
        f"connection failures {[r.failures for r in report.runs.values()]}); "
        f"{kinds.count('deploy')} deploys, {kinds.count('traffic')} traffic changes; "
        f"{len(report.degraded)} answered 200 but degraded (home_feed answers overload "
        "with its standby page)"
    )
    if report.degraded:
        seconds = sorted({int(t) for t in report.degraded})
        print(f"  degraded answers were due in seconds {seconds[:40]}")
    for err in report.errors:
        print(f"  change failed: {err}")
    changes = sorted(report.changes)
    for second, statuses in report.failures_by_second().items():
        near = [f"{what} at {t:.1f} s" for t, what in changes if second - 3 <= t <= second + 1]
        late = report.sent_late_ms(second)
        cpu = report.cpu[second] if second < len(report.cpu) else None
        busy = (
            f"; the machine {cpu.busy:.2f} of {os.cpu_count()} cores busy, {cpu.others:.2f} "
            f"of them not the soak's, {cpu.steal:.2f} stolen"
            if cpu
            else ""
        )
        slow = report.machine.slowdown(second, second + 1) if report.machine else None
        speed = "" if slow is None else f"; the machine ran {slow:.2f}x slower than its fastest"
        print(
            f"  failed at {second} s: {statuses}; changes near it: {near or 'none'}; "
            f"the generator sent up to {late:.1f} ms late then{busy}{speed}"
        )
    if report.cpu:
        others = sorted(c.others for c in report.cpu)
        print(
            f"cores busy in processes not the soak's: median {others[len(others) // 2]:.2f}"
            f", max {others[-1]:.2f}; stolen by the hypervisor: max "
            f"{max(c.steal for c in report.cpu):.2f}"
        )
    late_all = max(max(r.sent_late_ms, default=0.0) for r in report.runs.values())
    print(f"the generator sent its requests at most {late_all:.1f} ms after they were due")
    minute = min(60.0, args.seconds / 3)
    first_p99 = report.p99(0, minute)
    last_p99 = report.p99(args.seconds - minute, args.seconds)
    print(f"p99 first {minute:.0f} s: {first_p99:.1f} ms; last {minute:.0f} s: {last_p99:.1f} ms")
    per_minute = [report.p99(t, t + minute) for t in range(0, int(args.seconds), int(minute))]
    print("p99 by minute (ms):", " ".join(f"{p:.1f}" for p in per_minute))
    if report.machine is not None:  # the same work's CPU time, minute by minute
        slow = [
            report.machine.slowdown(t, t + minute) for t in range(0, int(args.seconds), int(minute))
        ]
        print(
            "the machine by minute, x slower than its fastest "
            f"({report.machine.fastest_ms:.1f} ms for the fixed work):",
            " ".join("-" if x is None else f"{x:.2f}" for x in slow),
        )
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
