"""Circuit breakers: a strategy version that keeps failing is taken off the request path
for a cool-down, tried again by itself, and closes when healthy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from prism_platform.serving.breaker import CLOSED, HALF_OPEN, OPEN, BreakerPolicy, Breakers
from prism_testkit.accounts import grant

from ...conftest import AppFactory, FakeClock
from .test_dispatch_failures import GOOD, SCRIPTS, deploy

KEY = ("home_feed", "base", "feed", "v1")
POLICY = BreakerPolicy(failure_rate=0.5, min_requests=4, window_s=10, cool_down_s=5, probes=2)


def breakers(policy: BreakerPolicy = POLICY) -> tuple[Breakers, FakeClock, list[str]]:
    clock, changes = FakeClock(), []
    b = Breakers(policy, clock, on_change=lambda key, state, _b: changes.append(state))
    return b, clock, changes


def test_it_opens_at_the_failure_rate_once_enough_requests_were_seen() -> None:
    b, clock, changes = breakers()
    for _ in range(3):
        b.record(KEY, False, "exception")
    assert b.state(KEY) == CLOSED  # 3 of 3 failed, but 3 are too few to judge
    b.record(KEY, True)
    b.record(KEY, False, "exception")  # 4 of 5
    assert b.state(KEY) == OPEN and changes == [OPEN]
    assert not b.allow(KEY)
    [status] = b.status()
    assert status["state"] == OPEN and status["last_failure"] == "exception"
    assert status["retry_in_s"] == 5.0 and status["opened"] == 1


def test_below_the_rate_or_outside_the_window_it_stays_closed() -> None:
    b, clock, _ = breakers()
    for _ in range(10):
        b.record(KEY, True)
        b.record(KEY, True)
        b.record(KEY, False, "deadline")  # a third fail: under half
    assert b.state(KEY) == CLOSED
    for _ in range(6):  # failures spread out: never 4 in one 10 s window
        clock.advance(4.0)
        b.record(KEY, False, "deadline")
    assert b.state(KEY) == CLOSED and b.status() == []


def test_after_the_cool_down_probes_close_it_or_a_failure_reopens_it_for_longer() -> None:
    b, clock, changes = breakers()
    for _ in range(4):
        b.record(KEY, False, "bad_result")
    clock.advance(4.9)
    assert not b.allow(KEY)
    clock.advance(0.2)
    assert b.allow(KEY) and b.state(KEY) == HALF_OPEN  # the first probe
    assert b.allow(KEY)  # the second
    assert not b.allow(KEY)  # more than the probes wait for their answers
    b.record(KEY, False, "bad_result")
    assert b.state(KEY) == OPEN and b.status()[0]["retry_in_s"] == 10.0  # doubled
    clock.advance(10.0)
    assert b.allow(KEY) and b.allow(KEY)
    b.record(KEY, True)
    assert b.state(KEY) == HALF_OPEN
    b.record(KEY, True)
    assert b.state(KEY) == CLOSED and b.allow(KEY)
    assert changes == [OPEN, HALF_OPEN, OPEN, HALF_OPEN, CLOSED]
    for _ in range(3):  # closed afresh: the old failures do not count
        b.record(KEY, False, "bad_result")
    assert b.state(KEY) == CLOSED


def test_routes_no_longer_served_are_forgotten_and_a_rate_of_zero_never_opens() -> None:
    b, _, _ = breakers()
    other = ("home_feed", "base", "feed", "v2")
    for _ in range(4):
        b.record(KEY, False)
        b.record(other, False)
    b.keep_only([other])
    assert b.state(KEY) == CLOSED and b.state(other) == OPEN
    off, _, changes = breakers(BreakerPolicy(failure_rate=0.0, min_requests=1))
    for _ in range(50):
        off.record(KEY, False)
    assert off.allow(KEY) and changes == []


def test_a_failing_strategy_is_taken_off_the_path_reported_and_tried_again(
    make_app: AppFactory, strategies_dir: Path
) -> None:
    app = make_app(breaker_min_requests=4, breaker_cool_down_s=5.0)
    clock = FakeClock()
    app.control.breakers.clock = clock  # type: ignore[union-attr]
    (strategies_dir / "raises.py").write_text(GOOD + SCRIPTS["raises.py"])
    with TestClient(app, headers=grant(app.control, name="tester")) as client:
        deploy(client, "raises.py")
        body = {"scene": "home_feed", "user_id": "1", "size": 10, "debug": True}

        def ask(fail: bool) -> dict[str, Any]:
            r = client.post("/v1/recommend", json={**body, "context": {"fail": fail}})
            assert r.status_code == 200, r.text
            return dict(r.json())

        for _ in range(4):
            assert ask(True)["trace"]["error"] == "exception"
        answer = ask(False)  # healthy now, but the breaker is open: not called
        assert answer["trace"]["error"] == "circuit_open" and answer["degraded"] is True
        assert answer["strategy"]["name"] == "fallback" and len(answer["items"]) == 10
        [br] = client.get("/admin/status").json()["breakers"]
        assert br["scene"] == "home_feed" and br["strategy"] == "raises"
        assert br["state"] == "open" and br["last_failure"] == "exception"
        metrics = client.get("/metrics").text
        assert 'prism_fallbacks_total{scene="home_feed",reason="circuit_open"} 1' in metrics
        assert 'strategy="raises"' in metrics and 'state="open"} 1' in metrics

        clock.advance(5.0)  # the cool-down is over: the probes find it healthy
        for _ in range(5):
            assert ask(False)["strategy"]["name"] == "raises"
        assert client.get("/admin/status").json()["breakers"] == []
        assert 'state="closed"} 1' in client.get("/metrics").text

        for _ in range(4):  # broken again: a rollback serves at once
            ask(True)
        assert ask(False)["trace"]["error"] == "circuit_open"
        (strategies_dir / "raises.py").write_text(GOOD + "def recommend(ctx):\n    return _OK\n")
        deploy(client, "raises.py")  # a new version: its own breaker, closed
        answer = ask(True)
        assert answer["trace"]["error"] is None and answer["strategy"]["name"] == "raises"
        assert client.get("/admin/status").json()["breakers"] == []
