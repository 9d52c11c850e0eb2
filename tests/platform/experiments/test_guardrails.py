"""Serving guardrails per bucket in the experiment report: p99 latency, degraded and
fallback rates, from the serving metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from prism_platform.experiments.guardrails import guardrails
from prism_platform.metrics.registry import Metrics
from prism_testkit.accounts import grant

# fails for the test's users only: it passes the deploy gate
BROKEN = """
from prism_sdk import Context, Item


def recommend(ctx: Context) -> list[Item]:
    if ctx.user_id.startswith("guard-"):  # the test's users (the deploy gate's pass)
        raise RuntimeError("broken on purpose")
    rows = ctx.data.tables("popular", ["all"], ctx.size)[0]
    return [Item(i, s, "popular") for i, s in rows]
"""


def test_p99_is_the_bound_of_the_bucket_holding_the_99th_request() -> None:
    m = Metrics()
    for i in range(100):  # 98 fast requests, 2 slow ones: the 99th is slow
        key = ("feed", "a", "s", "v1")
        m.latency.observe(key, 0.030 if i >= 98 else 0.0015)
        m.requests.inc((*key, "degraded" if i >= 98 else "ok"))
    m.latency.observe(("feed", "b", "fallback", "builtin"), 5.0)  # beyond the last bound
    m.requests.inc(("feed", "b", "fallback", "builtin", "degraded"))
    m.latency.observe(("other", "a", "s", "v1"), 0.0001)  # another scene: not counted
    m.requests.inc(("other", "a", "s", "v1", "ok"))
    got = guardrails(m, "feed", "main", ["a", "b", "c"])
    assert got["a"] == {
        "requests": 100,
        "p99_ms": 50.0,
        "degraded_rate": 0.02,
        "fallback_rate": 0.0,
    }
    assert got["b"] == {"requests": 1, "p99_ms": None, "degraded_rate": 1.0, "fallback_rate": 1.0}
    assert got["c"] == {"requests": 0, "p99_ms": None, "degraded_rate": None, "fallback_rate": None}


def test_a_failing_bucket_shows_its_fallbacks_in_the_report(
    make_app: Any, strategies_dir: Path
) -> None:
    (strategies_dir / "broken.py").write_text(BROKEN)
    app = make_app(events_aggregate_s=0)
    with TestClient(app, headers=grant(app.control)) as c:
        c.patch("/admin/scenes/home_feed", json={"deadline_ms": 5000}).raise_for_status()
        buckets = [{"name": "control", "percent": 50}, {"name": "treatment", "percent": 50}]
        c.post("/admin/scenes/home_feed/experiments", json={"name": "g", "buckets": buckets})
        c.post("/admin/configs", json={"script": "broken.py", "name": "default"})
        for bucket, script in (("control", "home_feed.py"), ("treatment", "broken.py")):
            dep = {"scene": "home_feed", "bucket": bucket, "script": script}
            c.post("/admin/deployments", json=dep).raise_for_status()
        served: dict[str, int] = {}
        for u in range(30):
            body = {"scene": "home_feed", "user_id": f"guard-{u}", "size": 5}
            bucket = c.post("/v1/recommend", json=body).json()["experiment"]["bucket"]
            served[bucket] = served.get(bucket, 0) + 1
        report = c.get("/admin/experiments/home_feed/report").json()
    control, treatment = (b["guardrails"] for b in report["buckets"])
    assert (control["requests"], treatment["requests"]) == (served["control"], served["treatment"])
    assert control["fallback_rate"] == 0.0 and control["degraded_rate"] == 0.0
    assert treatment["fallback_rate"] == 1.0 and treatment["degraded_rate"] == 1.0
    assert control["p99_ms"] is not None
