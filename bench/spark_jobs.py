"""The offline jobs on the local engine and on Spark (local[2]): time and peak memory.

Synthetic interactions (bench/itemcf_job.py's shape: log-normal user activity, item
popularity ``1 / rank ** 0.9``; n / 20 users and n / 50 items for n interactions), a
type per event (view 60 %, click 25 %, cart 10 %, order 5 %) and a
time in the last 30 days, written once as CSV (what Spark reads; the local engine gets
the same arrays, loaded from .npy). Each engine and size runs in its own process:

* local: ``jobs/`` in process (ItemCF, popular, bought together on its arrays);
* spark: ``jobs/spark/`` on ``local[2]``, the CSV staged to Parquet once (what
  ``prism events export`` writes), each job reading the Parquet log and each table
  collected to the driver as the data layer would write it. Peak memory: the Python
  driver's plus the JVM's maximum resident set (JVM heap capped by ``--driver-memory``).

A job's time starts with its log in hand: the local engine's arrays loaded, Spark's
Parquet written (Spark's JVM start and staging reported apart). Ratios are spark /
local, measured in the same run. ``--sizes 1000000 10000000`` adds 10M.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

TYPES = np.array(["view", "click", "cart", "order"])
JOBS = ("itemcf", "popular", "bought-together")
NOW = 1_750_000_000.0
CONF = {"spark.sql.shuffle.partitions": "8"}
"""Spark settings of the bench (``--conf`` adds or overrides)."""


def synthetic(n: int, folder: Path, seed: int = 0) -> None:
    """``n`` interactions as .npy arrays and ``events.csv`` in ``folder``."""
    rng = np.random.default_rng(seed)
    n_users, n_items = max(n // 20, 100), max(n // 50, 100)
    popularity = 1.0 / rng.permutation(np.arange(1, n_items + 1)) ** 0.9
    activity = rng.lognormal(0.0, 1.0, n_users)
    users = rng.choice(n_users, n, p=activity / activity.sum())
    items = rng.choice(n_items, n, p=popularity / popularity.sum())
    types = rng.choice(4, n, p=[0.6, 0.25, 0.1, 0.05])
    ts = NOW - rng.uniform(0, 30 * 86400, n)
    np.savez(folder / "log.npz", users=users, items=items, types=types, ts=ts, n_items=n_items)
    with open(folder / "events.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["user_id", "item_id", "type", "ts"])
        out.writerows(
            zip(users.tolist(), items.tolist(), TYPES[types].tolist(), ts.tolist(), strict=True)
        )


def run_local(folder: Path) -> dict[str, Any]:
    from prism_platform.jobs.tables import (
        Interactions,
        write_bought_together,
        write_itemcf,
        write_popular,
    )
    from prism_sdk import LocalBackend

    log = np.load(folder / "log.npz")
    n_items = int(log["n_items"])
    users = log["users"]
    inter = Interactions(
        users, log["items"], log["ts"], TYPES[log["types"]],
        [str(u) for u in range(int(users.max()) + 1)], [str(i) for i in range(n_items)],
        [f"c{i % 40}" for i in range(n_items)],
    )  # fmt: skip
    writer = LocalBackend()
    seconds = {}
    for job, write in (
        ("itemcf", lambda: write_itemcf(writer, inter)),
        ("popular", lambda: write_popular(writer, inter, now=NOW)),
        ("bought-together", lambda: write_bought_together(writer, inter)),
    ):
        t0 = time.perf_counter()
        write()
        seconds[job] = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak, "start_s": 0.0, "staging_s": 0.0}


def run_spark(folder: Path, driver_memory: str, conf: dict[str, str]) -> dict[str, Any]:
    from prism_platform.jobs.spark import inputs
    from prism_platform.jobs.spark.results import collect_table
    from prism_platform.jobs.spark.session import open_session
    from prism_platform.jobs.spark.tables import Inputs, Options, job_tables

    t0 = time.perf_counter()
    spark = open_session("local[2]", {"spark.driver.memory": driver_memory, **conf})
    start = time.perf_counter() - t0
    t0 = time.perf_counter()
    log = str(folder / "events.parquet")
    inputs.read_events(spark, [str(folder / "events.csv")], "csv").write.parquet(log)
    staging = time.perf_counter() - t0
    n_items = int(np.load(folder / "log.npz")["n_items"])
    rows: list[tuple[Any, ...]] = [(str(i), f"c{i % 40}", True, "", [], []) for i in range(n_items)]
    catalogue = spark.createDataFrame(rows, inputs.CATALOGUE_SCHEMA).cache()
    seconds = {}
    for job in JOBS:
        t1 = time.perf_counter()
        events = inputs.read_events(spark, [log])
        frames = job_tables(job, Inputs(inputs.on_catalogue(events, catalogue), catalogue),
                            Options(now=NOW))  # fmt: skip
        for frame in frames.values():
            collect_table(frame)
        seconds[job] = time.perf_counter() - t1
    gateway = spark.sparkContext._gateway
    assert gateway is not None
    jvm = gateway.proc.pid  # the JVM (spark-submit execs java)
    with open(f"/proc/{jvm}/status") as f:
        jvm_kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
    python = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    spark.stop()
    peak = python + jvm_kb / 1024
    return {"seconds": seconds, "peak_mb": peak, "start_s": start, "staging_s": staging}


def measure(engine: str, folder: Path, driver_memory: str, conf: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--engine", engine, "--data", str(folder),
         "--driver-memory", driver_memory, *(f"--conf={c}" for c in conf)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    p.add_argument("--driver-memory", default="2g")
    p.add_argument(
        "--conf", action="append", default=[], metavar="KEY=VALUE",
        help=f"a Spark setting (repeatable; on top of {', '.join(map('='.join, CONF.items()))})",
    )  # fmt: skip
    p.add_argument("--engine", choices=("local", "spark"), help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.engine:
        folder = Path(args.data)
        if args.engine == "local":
            run = run_local(folder)
        else:
            conf = {**CONF, **dict(c.split("=", 1) for c in args.conf)}
            run = run_spark(folder, args.driver_memory, conf)
        print(json.dumps(run))
        return
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            synthetic(n, folder)
            results = {
                e: measure(e, folder, args.driver_memory, args.conf) for e in ("local", "spark")
            }
        loc, spk = results["local"], results["spark"]
        print(f"{n:,} interactions ({n // 20:,} users, {n // 50:,} items)")
        for job in JOBS:
            a, b = loc["seconds"][job], spk["seconds"][job]
            print(f"  {job:<16} local {a:7.2f} s   spark {b:7.2f} s   spark/local {b / a:6.1f}x")
        ta, tb = sum(loc["seconds"].values()), sum(spk["seconds"].values())
        print(f"  {'all three':<16} local {ta:7.2f} s   spark {tb:7.2f} s   "
              f"spark/local {tb / ta:6.1f}x  (+ {spk['start_s']:.1f} s Spark start, "
              f"{spk['staging_s']:.1f} s CSV to Parquet)")  # fmt: skip
        print(f"  peak memory      local {loc['peak_mb']:7.0f} MB  spark {spk['peak_mb']:7.0f} MB"
              f"  spark/local {spk['peak_mb'] / loc['peak_mb']:6.1f}x (driver + JVM)")  # fmt: skip


if __name__ == "__main__":
    main()
