"""home_feed served over HTTP vs the same work as a tight in-process loop, on the
embedded backend and on Redis: what share of the strategy's own throughput a node keeps.

(k) kernel: ``strategies/home_feed.py`` called in a loop in this process, as
    ``bench/home_feed_latency.py`` calls it (the ``Context`` the dispatcher builds,
    ``DataClient`` on the backend, the server's GC settings) with nothing around it: no
    HTTP, no dispatch (routing, deadline, fallbacks, field completion, signing,
    metrics, logs, JSON);
(s) served: ``POST /v1/recommend`` on home_feed to a uvicorn worker (uvloop +
    httptools, one process: one core), wrk with ``--connections`` connections sending
    the same users in turn; the figure counts the 200s only.

Both on (e) the embedded backend: the demo world the server builds, loaded here from
its file, and (r) Redis: the same world written to a private ``redis-server``, read by
a server started with ``PRISM_DATA_BACKEND=redis`` and by this process over the same
loopback. The users: every 7th user of the world with events, ``size`` 20. The scenes
are as the demo seeds them except what a production scene has: ``sample_rate`` 0.01
(the demo samples every request) and ``on_overload: refuse`` (so a request past
capacity is a ``503``, not counted, rather than the standby page).

The cases take turns, ``--rounds`` times; each figure is the median of its rounds.
Target: (s)/(k) >= 0.7 on each backend. Also printed: what serving adds to a request,
in microseconds of the server's core (1/(s) - 1/(k)).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _report import target  # bench/_report.py
from home_feed_latency import run
from recommend_http import demo_server, wrk

from prism_platform.data.backend import open_backend
from prism_platform.demo.seed import build_demo_data, load_or_build_demo
from prism_platform.demo.world import generate_world
from prism_platform.settings import Settings
from prism_sdk import DataBackend
from prism_testkit.services import start_redis

ROOT = Path(__file__).resolve().parents[1]
SIZE = 20
SHARE = 0.7
PRODUCTION = {"on_overload": "refuse", "sample_rate": 0.01}


def kernel(backend: DataBackend, users: list[str]) -> float:
    """Requests/s of home_feed called in a loop (after a warm-up pass over ``users``)."""
    times = run(backend, ROOT / "strategies", "home_feed.py", {}, users, size=SIZE)
    return len(times) / (sum(times) / 1000)


def serve(var: Path, extra: dict[str, str]) -> tuple[Any, str]:
    """A demo server under ``var`` (``extra``: its data backend), its home_feed set as in
    production; the process and its recommend URL."""
    server, port = demo_server(var, extra, PRODUCTION, timeout=300)
    return server, f"http://127.0.0.1:{port}/v1/recommend"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=6, help="wrk, per case and round")
    ap.add_argument("--rounds", type=int, default=3, help="figures: the median of the rounds")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--every", type=int, default=7, help="take every Nth user with events")
    args = ap.parse_args()
    redis = start_redis()
    servers: list[Any] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            t0 = time.perf_counter()
            local_var, redis_var = Path(tmp) / "embedded", Path(tmp) / "redis"
            server, local_url = serve(local_var, {})  # builds the demo world
            servers.append(server)
            build_demo_data(open_backend(Settings(data_backend="redis", redis_url=redis.url)),
                            generate_world(), now=time.time())  # fmt: skip
            settings = {"PRISM_DATA_BACKEND": "redis", "PRISM_REDIS_URL": redis.url}
            server, redis_url = serve(redis_var, settings)
            servers.append(server)
            backends: dict[str, DataBackend] = {
                "embedded": load_or_build_demo(local_var),
                "redis": open_backend(Settings(data_backend="redis", redis_url=redis.url)),
            }
            print(f"the world on both backends and two servers ready in "
                  f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
            for backend in backends.values():
                getattr(backend, "warm", lambda: None)()
            users = sorted(load_or_build_demo(local_var).events)[:: args.every]
            bodies = [{"scene": "home_feed", "user_id": u, "size": SIZE} for u in users]
            gc.collect()
            gc.set_threshold(50_000, 20, 100)  # as prism_platform.asgi sets it
            gc.freeze()
            urls = {"embedded": local_url, "redis": redis_url}
            figures: dict[str, list[float]] = {}
            for _ in range(args.rounds):  # in turn: a slow spell hits every case once
                for name, backend in backends.items():
                    figures.setdefault(f"{name} kernel", []).append(kernel(backend, users))
                    wrk(urls[name], bodies, 1, args.connections)  # warm-up
                    served = wrk(urls[name], bodies, args.seconds, args.connections)
                    figures.setdefault(f"{name} served", []).append(served["ok_rps"])
                    figures.setdefault(f"{name} served p99", []).append(served["p99_ms"])
                    figures.setdefault(f"{name} refused", []).append(served["non2xx"])
        finally:
            for server in servers:
                server.terminate()
                server.wait(10)
            redis.stop()
    print(f"home_feed, {len(users)} users in turn, size {SIZE}; median of {args.rounds} rounds")
    for name in backends:
        k = statistics.median(figures[f"{name} kernel"])
        s = statistics.median(figures[f"{name} served"])
        p99 = statistics.median(figures[f"{name} served p99"])
        refused = sum(figures[f"{name} refused"])
        print(f"  {name:9s} (k) kernel  {k:7.0f} req/s   {1e6 / k:6.0f} us a request")
        print(
            f"  {name:9s} (s) served  {s:7.0f} req/s   {1e6 / s:6.0f} us a request   "
            f"p99 {p99:.1f} ms at {args.connections} connections, {refused:.0f} refused"
        )
        print(f"  {name:9s} serving adds {1e6 / s - 1e6 / k:.0f} us a request; (s)/(k) {s / k:.2f}")
        target(
            f"home_feed on {name}: served / in-process kernel, (s)/(k)",
            s / k,
            f">= {SHARE}",
            s / k >= SHARE,
            "x",
        )


if __name__ == "__main__":
    main()
