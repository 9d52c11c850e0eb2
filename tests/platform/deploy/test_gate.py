"""The deploy gate rejects, with a reason an author can act on, and the old version serves on."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from prism_platform.deploy import gate
from prism_platform.deploy.gate import percentile, smoke_run
from prism_platform.scripts.loader import load_strategy
from prism_platform.scripts.sources import WorkTree
from prism_sdk import Request
from prism_sdk.data import MockBackend

from ...conftest import FakeClock

BROKEN = {
    "raises_sometimes.py": (
        "from prism_sdk import Item\n\ndef recommend(ctx):\n"
        "    if ctx.user_id.endswith('7'):\n        raise KeyError('no profile')\n"
        "    return [Item('1')]\n",
        "KeyError: 'no profile'",
    ),
    "always_empty.py": (
        "def recommend(ctx):\n    return []\n",
        "returned no items for any of 40 sample requests",
    ),
    "too_slow.py": (
        "import time\nfrom prism_sdk import Item\n\ndef recommend(ctx):\n"
        "    time.sleep(0.1)\n    return [Item('1')]\n",
        "exceeds the scene deadline of 80 ms",
    ),
    "bad_result.py": (
        "def recommend(ctx):\n    return ['1', '2']\n",
        "item 0 is str, expected prism_sdk.Item",
    ),
}


@pytest.mark.parametrize("script", sorted(BROKEN))
def test_the_gate_rejects_and_the_previous_version_keeps_serving(
    client: TestClient, strategies_dir: Path, script: str
) -> None:
    body, reason = BROKEN[script]
    (strategies_dir / script).write_text(body)
    client.post("/admin/configs", json={"script": script, "name": "default"})
    r = client.post("/admin/deployments", json={"scene": "home_feed", "script": script})
    assert r.status_code == 422, r.text
    err = r.json()
    assert err["error"] == "GateRejected" and err["field"] == "script"
    assert "rejected by the deploy gate" in err["message"] and reason in err["message"]
    served = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": "1"}).json()
    assert served["strategy"]["name"] == "home_feed" and not served["degraded"]
    [rejected] = [a for a in client.get("/admin/audit").json() if a["action"] == "deploy_rejected"]
    assert rejected["detail"]["script"] == script and rejected["detail"]["gate"]["ok"] is False


def test_a_passing_gate_is_recorded_with_its_latency(client: TestClient) -> None:
    client.post("/admin/configs", json={"script": "noop.py", "name": "default"})
    r = client.post("/admin/deployments", json={"scene": "cart", "script": "noop.py"})
    assert r.status_code == 201
    dep_id = r.json()["deployment"]["id"]
    passed = [a for a in client.get("/admin/audit").json() if a["action"] == "gate_passed"]
    assert passed[0]["detail"]["deployment"] == dep_id
    gate = passed[0]["detail"]["gate"]
    assert gate["ok"] and gate["requests"] == 40
    assert 0 < gate["p50_ms"] <= gate["p90_ms"] <= gate["max_ms"]


LOAD_FAILURES = {
    "syntax_error.py": ("def recommend(ctx:\n    return []\n", "syntax_error.py:1"),
    "raises_on_import.py": (
        "from prism_sdk import Item\n\nraise RuntimeError('no model file')\n\n"
        "def recommend(ctx):\n    return [Item('1')]\n",
        "RuntimeError: no model file",
    ),
}


@pytest.mark.parametrize("script", sorted(LOAD_FAILURES))
def test_scripts_that_cannot_load_are_rejected_and_the_old_version_serves(
    client: TestClient, strategies_dir: Path, script: str
) -> None:
    body, reason = LOAD_FAILURES[script]
    (strategies_dir / script).write_text(body)
    r = client.post("/admin/deployments", json={"scene": "home_feed", "script": script})
    assert r.status_code == 422 and reason in r.json()["message"], r.text
    served = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": "1"}).json()
    assert served["strategy"]["name"] == "home_feed" and not served["degraded"]


def test_an_invalid_config_is_rejected_naming_the_field(client: TestClient) -> None:
    r = client.post(
        "/admin/configs",
        json={"script": "home_feed.py", "name": "bad", "params": {"quota_i2i": "many"}},
    )
    assert r.status_code == 422 and "quota_i2i" in r.json()["message"], r.text
    r = client.post(
        "/admin/deployments", json={"scene": "home_feed", "script": "home_feed.py", "config": "bad"}
    )
    assert r.status_code == 404 and r.json()["field"] == "config", r.text
    served = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": "1"}).json()
    assert served["strategy"]["name"] == "home_feed"


def test_the_gate_replays_recorded_traffic_when_there_is_enough(
    client: TestClient, strategies_dir: Path
) -> None:
    (strategies_dir / "picky.py").write_text(
        "from prism_sdk import Item\n\ndef recommend(ctx):\n"
        "    if ctx.context.get('page') == 'promo':\n        raise ValueError('promo page')\n"
        "    return [Item('1')]\n"
    )
    client.post("/admin/configs", json={"script": "picky.py", "name": "default"})
    first = client.post("/admin/deployments", json={"scene": "home_feed", "script": "picky.py"})
    assert first.status_code == 201  # synthetic requests carry no page
    assert first.json()["deployment"]["script_path"] == "picky.py"
    client.post("/admin/scenes/home_feed/buckets/base/rollback")
    for u in range(200):  # real traffic does
        body = {"scene": "home_feed", "user_id": str(u), "context": {"page": "promo"}}
        assert client.post("/v1/recommend", json=body).status_code == 200
    r = client.post("/admin/deployments", json={"scene": "home_feed", "script": "picky.py"})
    assert r.status_code == 422 and "ValueError: promo page" in r.json()["message"], r.text
    [rejected] = [a for a in client.get("/admin/audit").json() if a["action"] == "deploy_rejected"]
    assert rejected["detail"]["gate"]["source"] == "recorded"


def test_percentiles_are_nearest_rank() -> None:
    ms = [float(v) for v in range(1, 41)]  # 1..40
    assert (percentile(ms, 50), percentile(ms, 90), percentile(ms, 99)) == (20.0, 36.0, 40.0)
    assert percentile([7.0], 90) == 7.0 and percentile([], 90) == 0.0


SLOW_USERS = (
    "import prism_test_clock\nfrom prism_sdk import Item\n\ndef recommend(ctx):\n"
    "    if int(ctx.user_id) < {n}:\n        prism_test_clock.advance(0.12)\n"
    "    return [Item('1')]\n"
)


@pytest.mark.parametrize(("slow", "passes"), [(3, True), (4, True), (5, False), (6, False)])
def test_a_few_slow_requests_pass_the_gate_and_many_do_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slow: int, passes: bool
) -> None:
    """p90 of 40: up to four pauses over the deadline pass; a script slow for one request
    in eight does not, and the rejection names the percentile that failed. The gate's
    clock is the test's: a slow request takes 120 ms of it, the others none, whatever
    the machine does meanwhile."""
    clock = FakeClock()
    monkeypatch.setattr(gate, "perf_counter", clock)
    monkeypatch.setitem(sys.modules, "prism_test_clock", clock)  # the scripts' clock
    (tmp_path / "slowish.py").write_text(SLOW_USERS.format(n=slow))
    strategy = load_strategy(WorkTree(tmp_path), "slowish.py")
    requests = [Request(scene="s", user_id=str(u)) for u in range(40)]
    result = smoke_run(
        strategy, strategy.make_config({}), requests, MockBackend(lambda r: []), 50.0
    )
    assert result.ok is passes, result.reasons
    assert (result.p50_ms, result.max_ms) == (0.0, pytest.approx(120.0))
    assert result.p90_ms == (0.0 if passes else pytest.approx(120.0))
    if not passes:
        assert result.reasons == [
            "p90 120.0 ms of 40 smoke requests exceeds the scene deadline of 50 ms "
            "(p50 0.0 ms, max 120.0 ms)"
        ]
