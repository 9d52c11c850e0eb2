"""The overview's charts: requests served through the app, sampled at chosen times, drawn
per scene (summed over the nodes: here the one node)."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable

from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_workbench.charts import Series, line_chart

from ..conftest import FakeClock

Login = Callable[[str], TestClient]


def _serve_and_sample(app: PrismApp, scene: str, n: int) -> None:
    series = app.control.series
    assert series is not None
    step = series.interval_s
    start = (math.floor(time.time() / step) + 1) * step + 0.05
    series.sample(start)
    c = TestClient(app)
    for uid in range(n):
        r = c.post("/v1/recommend", json={"scene": scene, "user_id": str(uid)})
        assert r.status_code == 200, r.text
    series.sample(start + step)


def _section(html: str, scene: str) -> str:
    found = re.search(rf"<h2>{scene} <small>.*?</section>", html, re.S)
    assert found, scene
    return found.group(0)


def test_each_served_scene_gets_its_charts(wb_app: PrismApp, login: Login) -> None:
    _serve_and_sample(wb_app, "home_feed", 6)
    c = login("viewer")
    for path in ("/workbench/", "/workbench/fragments/overview"):
        html = c.get(path).text
        home = _section(html, "home_feed")
        assert home.count("<svg") == 3
        for title in ("requests", "latency", "error rates"):
            assert f"<title>home_feed: {title}, last 30 minutes</title>" in home
        # 6 requests in the newest 15-s point, of which one 5-s slot was sampled
        assert '<span class="chart-now">1.2/s</span>' in home
        assert re.search(r"p50 [0-9.]+ ms · p99 [0-9.]+ ms", home)
        assert "errors 0% · fallbacks 0% · degraded 0%" in home
        cart = _section(html, "cart")
        assert "<svg" not in cart and "No requests in the last 30 minutes." in cart


def test_the_overview_without_samples_has_no_charts(wb_app: PrismApp, login: Login) -> None:
    html = login("viewer").get("/workbench/").text
    scenes = len(wb_app.control.scenes())
    assert "<svg" not in html and html.count("No requests in the last 30 minutes.") == scenes


def test_a_chart_makes_room_for_its_labels() -> None:
    label = "1234.5 ms"
    svg = line_chart(
        [Series("p99", [0.25, 1234.5])],
        title="latency",
        fmt=lambda v: f"{v:.6g} ms",
        x_labels=("−30 min", "now"),
    )
    found = re.search(rf'<text x="([0-9.]+)"[^>]*text-anchor="end"[^>]*>{label}</text>', svg)
    assert found and float(found.group(1)) >= 6 * len(label)  # the label ends there
    assert ">−30 min</text>" in svg and ">now</text>" in svg
    plain = line_chart([Series("x", [1.0, 2.0])], title="x")
    assert "now</text>" not in plain and 'x1="44"' in plain  # as before without them


def test_a_bucket_whose_strategy_is_off_the_path_says_so(wb_app: PrismApp, login: Login) -> None:
    scene = wb_app.control.status()["scenes"]["home_feed"]
    served = scene["buckets"][0]
    key = ("home_feed", served["bucket"], served["strategy"], served["version"])
    breakers = wb_app.control.breakers
    assert breakers is not None
    breakers.clock = FakeClock()  # stands still: the page says exactly when
    for _ in range(breakers.policy.min_requests):
        breakers.record(key, False, "deadline")
    home = _section(login("viewer").get("/workbench/").text, "home_feed")
    found = re.search(r'<span class="bad" data-breaker="open">(.*?)</span>', home, re.S)
    assert found, home
    text = re.sub(r"<[^>]+>", "", found.group(1))
    assert f"Circuit open: {served['strategy']}@{served['version']} failed (deadline)" in text
    assert "answered by the fallback; tried again in 10.0 s" in text
    assert "data-breaker" not in _section(login("viewer").get("/workbench/").text, "cart")


def test_a_bucket_whose_strategy_keeps_memory_says_so(wb_app: PrismApp, login: Login) -> None:
    scene = wb_app.control.status()["scenes"]["cart"]
    served = scene["buckets"][0]
    key = ("cart", served["bucket"], served["strategy"], served["version"])
    memory = wb_app.control.memory
    assert memory is not None
    for _ in range(2 * memory.window):  # two windows over its budget in a row
        memory.record(key, 300, 64)
    page = login("viewer").get("/workbench/").text
    found = re.search(r'<span class="bad" data-leak>(.*?)</span>', _section(page, "cart"), re.S)
    assert found, page
    text = re.sub(r"<[^>]+>", "", found.group(1))
    assert f"Memory growing: {served['strategy']}@{served['version']} keeps 300.0" in text
    assert "(budget 64); still served" in text
    assert "data-leak" not in _section(page, "home_feed")
