"""Stress capacity of a scene on this machine: ``prism stress`` against a demo node as
``make run`` serves it, with a sample of ``prism demo simulate`` traffic.

A demo node (``prism serve``, one worker, the demo world scaled by ``--scale``; 1 is the
full world of ``make run``) in a temporary folder; ``prism demo simulate --users N``
sends N ``home_feed`` requests (the demo scenes sample every request); ``prism samples
export`` writes them; ``prism stress`` ramps them and prints its step table, capacity and
client ceiling. Reports stay under ``--out`` (default ``var/stress-bench``; each run's
node has a port of its own, so runs are not compared). Arguments after ``--`` go to
``prism stress``.

    .venv/bin/python bench/stress.py
    .venv/bin/python bench/stress.py --scale 0.05 -- --step-rps 100 --step-s 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from prism_testkit.cluster import Cluster, demo_env, prism

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--scene", default="home_feed")
    parser.add_argument("--users", type=int, default=2000, help="sample requests")
    parser.add_argument("--out", type=Path, default=REPO / "var" / "stress-bench")
    parser.add_argument("stress_args", nargs="*", help="more prism stress options")
    args = parser.parse_args()
    ramp = args.stress_args or ["--start-rps", "100", "--step-factor", "1.4", "--refine", "3"]
    with tempfile.TemporaryDirectory(prefix="prism-stress-") as tmp:
        work = Path(tmp)
        strategies = work / "strategies"
        shutil.copytree(
            REPO / "strategies", strategies, ignore=shutil.ignore_patterns("__pycache__")
        )
        env = demo_env(work, strategies, scale=args.scale)
        prism(["demo", "seed"], env, timeout=1200)
        cluster = Cluster(work, env)
        try:
            env["PRISM_URL"] = cluster.start_node(ready_timeout=600).url
            sample = work / f"{args.scene}.jsonl"
            prism(["demo", "simulate", "--users", str(args.users), "--scene", args.scene], env)
            prism(["samples", "export", "--scene", args.scene, "--out", str(sample)], env)
            command = [sys.executable, "-m", "prism_platform", "stress", "--sample", str(sample)]
            command += ["--out", str(args.out), *ramp]
            return subprocess.run(command, env={**os.environ, **env}).returncode
        finally:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
