"""Memory growth per route: a strategy that keeps objects alive request after request
is reported (log, metric, ``prism status``) and still served; one that keeps a bounded
cache of as much is not, over as many requests.

The two run one after the other: interleaved, CPython's free lists can shift growth
between routes that churn the same small objects (``serving/memory.py``, Limits)."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from prism_platform.metrics.registry import Metrics
from prism_platform.serving.breaker import CLOSED
from prism_platform.serving.memory import RETRIES, STREAK, MemoryWatch
from prism_testkit.accounts import grant

from ...conftest import AppFactory
from .test_dispatch_failures import DEADLINE_MS, deploy

LEAKY = """from prism_sdk import Item

_SEEN = []

def recommend(ctx):
    rows = ctx.data.table("popular", "all", 100)
    _SEEN.append([(i, s * 2.0) for i, s in rows])  # ~200 objects a request, never let go
    return [Item(i, s, "popular") for i, s in rows]
"""
TIDY = """from collections import OrderedDict

from prism_sdk import Item

_RECENT = OrderedDict()

def recommend(ctx):
    rows = ctx.data.table("popular", "all", 100)
    _RECENT[ctx.request_id] = [(i, s * 2.0) for i, s in rows]  # as much, but bounded:
    while len(_RECENT) > 3:  # the oldest entry goes as a new one comes
        _RECENT.popitem(last=False)
    return [Item(i, s, "popular") for i, s in rows]
"""
WINDOW = 8
REQUESTS = 6 * WINDOW  # per route: six verdicts each


def test_a_leaking_route_is_reported_and_a_bounded_one_is_not(
    make_app: AppFactory, strategies_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(memory_sample_every=1, memory_window=WINDOW)
    (strategies_dir / "leaky.py").write_text(LEAKY)
    (strategies_dir / "tidy.py").write_text(TIDY)
    with TestClient(app, headers=grant(app.control, name="tester")) as client:
        for scene, script in (("cart", "leaky.py"), ("home_feed", "tidy.py")):
            # a request the replay log keeps is not measured (the next one is): none here
            budgets = {"retained_objects": 64}
            patch = {"deadline_ms": DEADLINE_MS, "budgets": budgets, "sample_rate": 0.0}
            assert client.patch(f"/admin/scenes/{scene}", json=patch).status_code == 200
            deploy(client, script, scene=scene)
        served: dict[str, set[str]] = {"cart": set(), "home_feed": set()}
        for scene in served:
            for i in range(REQUESTS):
                body = {"scene": scene, "user_id": str(i), "size": 10}
                answer = client.post("/v1/recommend", json=body).json()
                served[scene].add(answer["strategy"]["name"])
        assert served == {"cart": {"leaky"}, "home_feed": {"tidy"}}  # both kept serving
        routes = {r["strategy"]: r for r in client.get("/admin/status").json()["memory"]["routes"]}
        leaky, tidy = routes["leaky"], routes["tidy"]
        assert leaky["leaking"] is True and leaky["kept_per_request"] > 100, leaky
        assert leaky["windows"] == tidy["windows"] == REQUESTS // WINDOW
        assert tidy["leaking"] is False and tidy["kept_per_request"] < 64, tidy
        assert tidy["windows_over"] == 0  # its first window, filling the cache, was over
        metrics = client.get("/metrics").text
        leaks = [line for line in metrics.splitlines() if line.startswith("prism_strategy_leaks")]
        assert len(leaks) == 1 and 'scene="cart"' in leaks[0] and 'strategy="leaky"' in leaks[0]
        assert leaks[0].endswith(f" {REQUESTS // WINDOW - STREAK + 1}")  # every window over
        logged = [r.message for r in caplog.records if "event=strategy_leak" in r.message]
        assert len(logged) == 1 and "scene=cart bucket=base strategy=leaky@" in logged[0]
        key = ("cart", "base", "leaky", leaky["version"])
        assert app.recommend.dispatcher.breakers.state(key) == CLOSED  # reported, not cut off


def test_a_route_under_its_budget_again_is_no_longer_reported() -> None:
    watch = MemoryWatch(Metrics(), every=1, window=2)
    key = ("s", "b", "x", "v1")
    for kept in (500, 500, 500, 500):  # two windows over: reported
        watch.record(key, kept, 64)
    assert watch.leaking(key)
    watch.record(key, 500, 64)
    watch.record(key, 0, 64)  # a mean of 250: still over
    assert watch.leaking(key)
    watch.record(key, 10, 64)
    watch.record(key, 20, 64)
    [route] = watch.status()["routes"]
    assert not watch.leaking(key) and route["kept_per_request"] == 15.0 and route["windows"] == 4
    watch.keep_only([])  # a swap that no longer serves it
    assert watch.status()["routes"] == []


def test_sampling_one_request_in_every() -> None:
    watch = MemoryWatch(Metrics(), every=4)
    assert [watch.due() for _ in range(8)] == [False, False, False, True] * 2
    off = MemoryWatch(Metrics(), every=0)
    assert not any(off.due() for _ in range(100))


def test_a_request_a_log_keeps_hands_its_measurement_to_the_next() -> None:
    watch = MemoryWatch(Metrics(), every=4)
    assert [watch.due() for _ in range(4)] == [False, False, False, True]
    watch.again()  # that one went to the feature log
    assert [watch.due() for _ in range(5)] == [True, False, False, False, True]


def test_requests_a_log_keeps_in_a_row_hand_it_on_only_so_often() -> None:
    """Every request of a route whose every request the feature log keeps would be
    measured (and pay for it) if each passed its measurement on."""
    watch = MemoryWatch(Metrics(), every=4)
    assert [watch.due() for _ in range(4)] == [False, False, False, True]
    for _ in range(RETRIES):
        watch.again()
        assert watch.due()
    watch.again()  # one too many: a whole period on
    assert [watch.due() for _ in range(4)] == [False, False, False, True]
    watch.record(("s", "b", "x", "v1"), 3, 64)  # a measurement taken: the count starts over
    for _ in range(RETRIES):
        watch.again()
        assert watch.due()


def test_a_request_the_replay_log_will_keep_is_skipped_for_free() -> None:
    watch = MemoryWatch(Metrics(), every=4)
    assert [watch.due() for _ in range(4)] == [False, False, False, True]
    for _ in range(10):  # as many as come: nothing was paid for them
        watch.skip()
        assert watch.due()
    assert [watch.due() for _ in range(4)] == [False, False, False, True]


def test_a_scene_sampling_every_user_pays_for_no_measurement(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replay log keeps every request of a scene sampling every user: none of them is
    measured, and none pays for a measurement (two young collections and two counts of
    the heap, ~0.5 ms) only to pass it on."""
    marks: list[int] = []
    real = MemoryWatch.mark

    def counted() -> tuple[int, int]:
        marks.append(1)
        return real()

    monkeypatch.setattr(MemoryWatch, "mark", staticmethod(counted))
    app = make_app(memory_sample_every=4)
    with TestClient(app, headers=grant(app.control, name="tester")) as client:
        for rate, expected in ((1.0, 0), (0.0, 10)):
            patch = {"sample_rate": rate}
            assert client.patch("/admin/scenes/cart", json=patch).status_code == 200
            marks.clear()
            for i in range(40):
                body = {"scene": "cart", "user_id": str(i), "size": 5}
                assert client.post("/v1/recommend", json=body).status_code == 200
            assert len(marks) == expected, rate
