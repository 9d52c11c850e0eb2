"""``Control.run_replay`` on the demo app's dispatcher: the same version against itself
changes nothing; randomness shows as A-A′ noise, not as a change; planted regressions
(a channel dropped, 20 ms of sleep, an exception for 5 % of users) are each caught."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from prism_platform.app import PrismApp
from prism_platform.errors import Invalid, PrismPlatformError
from prism_platform.replay import NoiseThresholds, ReplayOptions
from tests.platform.replay.conftest import serve

LATENCY = ("p50_ms", "p90_ms")


def replay(app: PrismApp, lines: list[bytes], **kw: Any) -> dict[str, Any]:
    options = ReplayOptions(script=kw.pop("script", "home_feed.py"), **kw)
    return app.control.run_replay(lines, options)


def patient(app: PrismApp) -> None:
    """No deadline to speak of: a loaded test machine may stall a request past the demo's
    80 ms, and a fallback answer would be a difference the test did not plant."""
    app.control.update_scene("home_feed", deadline_ms=10_000, actor="t")


def changed(report: dict[str, Any]) -> list[str]:
    """What changed, latency aside (it is judged by the rule too, but a loaded test
    machine may jitter a millisecond: the latency tests below check it on their own)."""
    return [m for m in report["diff"]["changed"] if m not in LATENCY]


def test_the_same_version_against_itself_reports_no_change(
    app: PrismApp, samples: list[bytes]
) -> None:
    patient(app)  # and a latency floor of 5 ms (the default is 1 ms)
    report = replay(app, samples, noise=NoiseThresholds(absolute_ms=5.0))
    assert report["requests"] == 120 and report["scene"] == "home_feed"
    assert report["diff"]["changed"] == []
    diff = report["diff"]
    assert diff["rbo"] == diff["noise_rbo"] == 1.0 and diff["overlap_at_k"] == 1.0
    assert diff["new_item_share"] == 0.0 and diff["compared"] == 120
    served = {report["arms"][arm]["serves"] for arm in ("A", "A2", "B")}
    assert len(served) == 1 and served.pop().startswith("home_feed@wt-")
    assert report["errors"] == {"A": 0, "A2": 0, "B": 0}
    shares = set(diff["channel_share"]["A"])
    assert {"i2i", "usercf", "category", "popular"} <= shares <= {
        "i2i", "usercf", "category", "popular", "recent", "emb"}  # fmt: skip
    assert report["fail_if"] == {"rules": [], "failed": []}
    assert "merge" in report["stage_latency_ms"]["B"]
    assert len(report["latency_values"]["A2"]) == 120


def test_randomness_is_noise_between_a_and_a2_and_no_change_for_b(
    app: PrismApp, samples: list[bytes]
) -> None:
    control = app.control
    patient(app)
    control.put_config("popular_only.py", "default", {}, actor="t")
    control.deploy(
        "home_feed", "base", "popular_only.py", "default", actor="t", check_latency=False
    )
    report = replay(app, samples, script="popular_only.py")  # shuffles by the request id
    diff = report["diff"]
    assert diff["noise_rbo"] < 0.5  # A′ drew other shuffles
    assert diff["rbo"] == 1.0  # B drew A's: only a change would differ
    assert changed(report) == []
    other_seed = replay(app, samples, script="popular_only.py", seed=7)
    assert other_seed["diff"]["noise_rbo_values"] != diff["noise_rbo_values"]
    again = replay(app, samples, script="popular_only.py")
    assert again["diff"]["noise_rbo_values"] == diff["noise_rbo_values"]  # same seeds


def test_a_candidate_that_drops_a_channel_is_caught(
    app: PrismApp, planted: Path, samples: list[bytes]
) -> None:
    patient(app)
    report = replay(app, samples, version="drop_usercf", fail_if=("channel_share.usercf<0.01",))
    diff = report["diff"]
    assert "channel_share.usercf" in diff["changed"] and "rbo" in diff["changed"]
    assert diff["channel_share"]["B"].get("usercf", 0.0) == 0.0
    assert diff["channel_share"]["A"]["usercf"] > 0.05
    assert diff["rbo"] < diff["noise_rbo"] == 1.0
    assert report["fail_if"]["failed"] == ["channel_share.usercf<0.01: 0"]
    assert diff["worst"] and diff["worst"][0]["rbo"] == min(v for v in diff["rbo_values"] if v)


def test_a_candidate_that_sleeps_20ms_is_caught(
    app: PrismApp, planted: Path, samples: list[bytes]
) -> None:
    report = replay(app, samples[:40], version="sleep_20ms", fail_if=("p99_ms>15",))
    assert "p50_ms" in report["diff"]["changed"] and "p90_ms" in report["diff"]["changed"]
    assert report["latency_ms"]["B"]["p50"] > report["latency_ms"]["A"]["p50"] + 15
    assert report["stage_latency_ms"]["B"]["merge"]["p50"] >= 20
    assert report["fail_if"]["failed"] and report["fail_if"]["failed"][0].startswith("p99_ms>15:")
    assert changed(report) == []  # the same answers, only later
    assert report["diff"]["rbo"] == 1.0


def test_a_candidate_that_raises_for_5pct_of_users_is_caught(app: PrismApp, planted: Path) -> None:
    lines = serve(app, range(1, 201))
    patient(app)
    report = replay(app, lines, version="raise_5pct", fail_if=("error_rate>0.01",))
    errors = report["errors"]["B"]
    assert 3 <= errors <= 20 and report["errors"]["A"] == report["errors"]["A2"] == 0
    kinds = report["error_kinds"]["B"]
    assert kinds["exception"]["count"] == errors
    assert kinds["exception"]["example"] == "RuntimeError: planted"
    assert {"error_rate", "degraded_rate", "rbo"} <= set(report["diff"]["changed"])
    assert report["degraded"]["B"] == errors / 200
    assert report["fail_if"]["failed"] == [f"error_rate>0.01: {errors / 200:g}"]


def test_an_analysis_function_adds_aggregated_columns(
    app: PrismApp, samples: list[bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "replay_checks.py").write_text(
        "def price_gap(request, a, b):\n"
        "    price = lambda r: sum(it['fields'].get('price', 0) for it in r['items'])\n"
        "    return {'price_gap': price(b) - price(a), 'b_items': len(b['items']),\n"
        "            'user_is_odd': int(request['user_id']) % 2 == 1}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    report = replay(app, samples[:20], analysis="replay_checks:price_gap")
    columns = report["analysis"]
    assert columns["price_gap"] == {"mean": 0.0, "p50": 0.0, "min": 0.0, "max": 0.0, "count": 20}
    assert columns["b_items"]["mean"] == 10.0
    assert columns["user_is_odd"]["mean"] == 0.5  # users 1-20
    assert report["analysis_errors"] is None
    with pytest.raises(Invalid, match="has no function 'nope'") as bad:
        replay(app, samples, analysis="replay_checks:nope")
    assert bad.value.field == "analysis"


def test_bad_replays_are_refused_naming_the_field(app: PrismApp, samples: list[bytes]) -> None:
    for lines, kw, field in [
        ([b"{not json"], {}, "samples"),
        (samples, {"scene": "cart"}, "samples"),
        (samples, {"script": "nope.py"}, "script"),
        (samples, {"config": "nope"}, "config"),
        (samples, {"fail_if": ("speed>1",)}, "fail_if"),
    ]:
        with pytest.raises(PrismPlatformError) as bad:
            replay(app, lines, **kw)
        assert bad.value.field == field, (kw, bad.value)


def test_a_rate_paces_the_requests(app: PrismApp, samples: list[bytes]) -> None:
    report = replay(app, samples[:21], rate_rps=100.0)
    assert report["elapsed_s"] >= 0.2  # request n starts n / 100 s after the first
    assert report["requests_per_s"] <= 105
