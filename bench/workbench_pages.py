"""Workbench pages: server time of each page on the demo, against the 100 ms target.

A demo node (the demo world of ``make run``, scaled by ``--scale``) with the workbench
mounted, an admin logged in through the form, a few hundred recommend requests and a
few deploys so the overview and history have content; then each page is requested
in-process through Starlette's TestClient ``--runs`` times, round robin, and the median
wall time of each is printed with its ratio to the target (issue 13: each page under
100 ms of server time). In-process requests include the test client's own overhead
(well under a millisecond), not a network.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from prism_platform.app import PrismApp, create_app
from prism_platform.demo.seed import build_demo_data
from prism_platform.demo.world import generate_world
from prism_platform.settings import Settings
from prism_sdk import LocalBackend
from prism_testkit.repo import strategies_repo
from prism_workbench import mount

TARGET_MS = 100.0
PAGES = (
    "/workbench/",
    "/workbench/fragments/overview",
    "/workbench/history",
    "/workbench/history?scene=home_feed",
    "/workbench/models",
    "/workbench/scenes",
    "/workbench/scenes/home_feed",
    "/workbench/experiments",
    "/workbench/experiments/home_feed",
    "/workbench/deploy",
    "/workbench/debug?scene=home_feed",
    "/workbench/scripts",
    "/workbench/scripts/file?path=home_feed.py&commit=HEAD",
    "/workbench/scripts/diff?path=home_feed.py&a=HEAD~1&b=HEAD",
    "/workbench/login",
)
REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--scale", type=float, default=0.2, help="of the demo world's size")
    args = ap.parse_args()
    s = args.scale
    tmp = Path(tempfile.mkdtemp(prefix="wb-bench-"))
    strategies_repo(REPO / "strategies", tmp / "strategies")  # two commits: Scripts diffs them
    backend = LocalBackend()
    world = generate_world(7, int(5000 * s), int(30000 * s), int(400_000 * s))
    build_demo_data(backend, world, now=time.time())
    settings = Settings(
        var_dir=tmp / "var",
        database_url=f"sqlite:///{tmp}/prism.db",
        demo=True,
        strategies_dir=tmp / "strategies",
    )
    app = create_app(settings, backend=backend, extensions=[mount])
    control = app.control
    control.accounts.add_user("bench", "admin", "bench password 1", actor="bench")
    for i in range(5):  # history: a few deploys
        control.deploy("cart", "base", "cart.py", "default", actor="bench", note=f"n{i}")
    c = TestClient(app)
    for i in range(300):
        c.post("/v1/recommend", json={"scene": "home_feed", "user_id": str(i)})
    fill_overview_charts(app, c)
    form = c.get("/workbench/login").text
    found = re.search(r'name="login_csrf" value="([0-9a-f]{64})"', form)
    assert found, "no login token on the form"
    login = {"user": "bench", "password": "bench password 1", "login_csrf": found.group(1)}
    r = c.post("/workbench/login", data=login)
    assert r.status_code == 200, r.status_code  # followed to the overview
    times: dict[str, list[float]] = {p: [] for p in PAGES}
    for _ in range(args.runs):
        for page in PAGES:
            start = time.perf_counter()
            assert c.get(page).status_code == 200, page
            times[page].append((time.perf_counter() - start) * 1000)
    print(f"workbench pages, {args.runs} runs each, demo scale {s}; target {TARGET_MS:.0f} ms")
    for page, ts in times.items():
        med = statistics.median(ts)
        print(
            f"  {page:38s} median {med:7.2f} ms  p90 {statistics.quantiles(ts, n=10)[-1]:7.2f}"
            f" ms  {med / TARGET_MS:.3f} x target"
        )
    control.store.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


def fill_overview_charts(app: PrismApp, c: TestClient) -> None:
    """The overview's 30 minutes full: a metrics sample (at a made-up time) every few
    requests on every demo scene, as a node sampling every 5 s for half an hour."""
    series = app.control.series
    assert series is not None
    scenes = [s.name for s in app.control.scenes()]
    start = time.time() - series.window_s
    series.sample(start)
    for k in range(1, series.capacity + 1):
        for scene in scenes:
            c.post("/v1/recommend", json={"scene": scene, "user_id": str(k)})
        series.sample(start + k * series.interval_s)


if __name__ == "__main__":
    main()
