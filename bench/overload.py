"""Overload: what clients get at 2x and 5x a node's capacity, admission control off and on.

One ``prism serve`` worker (small demo world) serves a scene ``slow`` whose strategy
blocks the event loop for 20 ms a request (as a CPU-bound strategy does; deadline
80 ms): its capacity is ~50 requests/s, measured first with one connection. An open-loop
generator (``prism_testkit.open_loop``: raw keep-alive HTTP/1.1 on uvloop, requests sent
on a fixed schedule whatever the answers, each timed from when it was due) offers 2x and
5x that for ``--seconds``, against the node with ``PRISM_ADMISSION_SHARE=0`` (no
admission control: every request queues) and with the default ``0.9`` (admitted
requests are expected to be answered within 90 % of the deadline: here each may wait
72 - 2 x 20 = 32 ms for the others to start).

Per case: answers on time (200 and within the 80 ms deadline from when the request was
due) per second as a share of capacity (goodput), the p99 latency of the accepted (200)
answers, and how many were refused (503) or late. Targets (issue 19): with admission
control, accepted p99 within the deadline and goodput >= 90 % of capacity.

The generator says when it fell behind its schedule (then the figures measure it too).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _report import target  # bench/_report.py

from prism_testkit.accounts import seeded_headers
from prism_testkit.bench import percentile
from prism_testkit.cluster import Cluster, add_scene, blocking_script, demo_env, prism
from prism_testkit.open_loop import offer

ROOT = Path(__file__).resolve().parents[1]
DEADLINE_MS = 80
SHARES = [("0", "admission off"), ("0.9", "admission on (default 0.9)")]
BODIES: list[dict[str, object]] = [{"scene": "slow", "user_id": str(n)} for n in range(500)]


def capacity(url: str, seconds: float = 3.0) -> float:
    body = {"scene": "slow", "user_id": "1"}
    with httpx.Client(base_url=url, timeout=10) as client:
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            assert client.post("/v1/recommend", json=body).status_code == 200
            n += 1
    return n / (time.perf_counter() - t0)


def node(work: Path, share: str) -> tuple[Cluster, int]:
    strategies = work / "strategies"
    shutil.copytree(ROOT / "strategies", strategies, ignore=shutil.ignore_patterns("__pycache__"))
    (strategies / "slow.py").write_text(blocking_script(20))
    env = demo_env(work, strategies, scale=0.04)
    env["PRISM_ADMISSION_SHARE"] = share
    prism(["demo", "seed"], env)
    cluster = Cluster(work, env)
    started = cluster.start_node()
    add_scene(started.url, seeded_headers(env), "slow", "slow.py", deadline_ms=DEADLINE_MS)
    return cluster, started.port


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    print(f"{'case':28s} {'offered/s':>9s} {'on time/s':>9s} {'goodput':>8s}"
          f" {'p99 ok ms':>9s} {'refused':>8s} {'late':>6s}")  # fmt: skip
    for share, label in SHARES:
        with tempfile.TemporaryDirectory() as work:
            cluster, port = node(Path(work), share)
            try:
                cap = capacity(f"http://127.0.0.1:{port}")
                for times in (2, 5):
                    run = offer(port, BODIES, cap * times, args.seconds)
                    ok = run.latencies(200)
                    on_time = sum(ms <= DEADLINE_MS for ms in ok)
                    refused = run.count(503)
                    late = len(ok) - on_time
                    if not run.kept_up:
                        print(f"  the generator fell behind: {run.achieved:.0f}/s sent")
                    goodput = on_time / args.seconds / cap
                    print(
                        f"{label + f', {times}x':28s} {cap * times:9.0f} "
                        f"{on_time / args.seconds:9.1f} {goodput:8.0%} {percentile(ok, 99):9.1f} "
                        f"{refused:8d} {late:6d}"
                    )
                    if share != "0":
                        target(
                            f"overload {times}x, admission on: goodput",
                            goodput * 100,
                            ">= 90",
                            goodput >= 0.9,
                            " %",
                        )
                        p99 = percentile(ok, 99)
                        target(
                            f"overload {times}x, admission on: p99 of 200s",
                            p99,
                            f"<= {DEADLINE_MS:.0f}",
                            p99 <= DEADLINE_MS,
                            " ms",
                        )
                    time.sleep(1.5)  # the queue drains, /readyz clears
            finally:
                cluster.stop()
    print(f"capacity (one connection, 20 ms a request) measured per node: ~{cap:.0f}/s")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
