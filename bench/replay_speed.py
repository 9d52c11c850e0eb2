"""Replay speed in process: requests a second through ``Control.run_replay`` (each request
run on the three arms, A, A′ and B, compared and aggregated) on the demo's ``home_feed``,
against baselines of the same run on the same node and requests:

* plain: ``Dispatcher.recommend`` as a served request (no trace);
* off the record: ``Dispatcher.run`` as an arm runs it (a trace of stage timings and
  counts, no candidates).

A replay's ideal is a third of the off-the-record rate (three runs a request); what it costs beyond
that is the comparison (RBO, overlap, mixes, per-request rows) and the report. Also timed:
a replay recording its data (``--record-data``) and one served from that snapshot
(``--data``). The sample is ``--requests`` home_feed requests the node served and sampled
(users cycling over the world's); each figure is the median of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from prism_platform.app import PrismApp, create_app
from prism_platform.demo.seed import build_demo_data
from prism_platform.demo.world import generate_world
from prism_platform.replay import ReplayOptions
from prism_platform.settings import Settings
from prism_sdk import LocalBackend, Request


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, default=1000, help="sample lines replayed")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each case (median kept)")
    ap.add_argument("--scale", type=float, default=0.2, help="demo world size (1: the full demo)")
    args = ap.parse_args()
    s = args.scale
    world = generate_world(7, int(5000 * s), int(30_000 * s), int(400_000 * s))
    backend = LocalBackend()
    build_demo_data(backend, world, now=time.time())
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        settings = Settings(
            var_dir=var, database_url=f"sqlite:///{var}/prism.db", demo=True
        )  # the demo scenes, served from the repository's strategies/
        app = create_app(settings, backend=backend)
        requests = [
            Request(
                scene="home_feed",
                user_id=str(1 + n % world.n_users),
                size=10,
                context={"page": "home"},
            )
            for n in range(args.requests)
        ]
        lines = serve_and_sample(app, requests)
        run_bench(app, requests, lines, args.repeat, var)
        app.control.store.dispose()


def serve_and_sample(app: PrismApp, requests: list[Request]) -> list[bytes]:
    async def go() -> None:
        for req in requests:
            await app.dispatcher.recommend(req)

    asyncio.run(go())
    lines = list(app.control.sample_lines("home_feed"))
    assert len(lines) == len(requests), (len(lines), len(requests))
    return lines


def per_second(n: int, fn: Callable[[], object], repeat: int) -> float:
    rates = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def run_bench(
    app: PrismApp, requests: list[Request], lines: list[bytes], repeat: int, var: Path
) -> None:
    dispatcher, control = app.dispatcher, app.control
    n = len(requests)

    async def plain() -> None:
        for req in requests:
            await dispatcher.recommend(req)

    async def debug() -> None:
        for i, req in enumerate(requests):
            await dispatcher.run(req, seed=i, detail=False)

    options = ReplayOptions(script="home_feed.py")
    snap = var / "home.data.json"
    plain_rps = per_second(n, lambda: asyncio.run(plain()), repeat)
    debug_rps = per_second(n, lambda: asyncio.run(debug()), repeat)
    replay_rps = per_second(n, lambda: control.run_replay(lines, options), repeat)
    record_rps = per_second(
        n, lambda: control.run_replay(lines, replace(options, record_data=snap)), repeat
    )
    snap_rps = per_second(
        n, lambda: control.run_replay(lines, replace(options, data_snapshot=snap)), repeat
    )
    report = control.run_replay(lines, options)
    print(f"home_feed, {n} sampled requests, median of {repeat} runs (requests/s):")
    print(f"  plain dispatcher calls        {plain_rps:9.0f}")
    print(f"  off-record runs (one arm)     {debug_rps:9.0f}")
    print(
        f"  replay (3 arms + comparison)  {replay_rps:9.0f}   ideal {debug_rps / 3:.0f}: "
        f"{replay_rps / (debug_rps / 3):.0%} of it; {replay_rps / plain_rps:.2f} x plain"
    )
    print(f"  replay recording its data     {record_rps:9.0f}   ({snap.stat().st_size >> 10} KiB)")
    print(f"  replay on the data snapshot   {snap_rps:9.0f}")
    per_request_us = 1e6 / replay_rps - 3e6 / debug_rps
    print(f"  comparison and report: {per_request_us:.0f} us a request beyond 3 arm runs")
    print(f"  (changed: {report['diff']['changed']}, rbo {report['diff']['rbo']})")


if __name__ == "__main__":
    main()
