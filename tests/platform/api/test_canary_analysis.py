"""Canary analysis end to end: a node with the demo scenes judges a canary deployed with
thresholds on its own traffic, aborts a bad one and promotes a good one (its clock set by
the test), and the audit log says why. Rounds are driven by the test, not by timers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.control.canary_analysis import CanaryWatch
from prism_platform.experiments.canary import ArmStats
from prism_platform.experiments.canary_evidence import CanaryArms, StaticEvidence
from prism_testkit.accounts import grant

from ...conftest import AppFactory

SCENE = "home_feed"
# Fine on the gate's requests (the data's users), not on the live traffic's users.
BAD_ON_LIVE_USERS = {
    "raises": "if ctx.user_id.startswith('live-'):\n        raise KeyError('no profile')",
    "is slow": "if ctx.user_id.startswith('live-'):\n        time.sleep(0.03)",
}
SCRIPT = """import time

from prism_sdk import Context, Item

_ITEMS = [Item(str(i), 1.0 / i, "canary") for i in range(1, 201)]


def recommend(ctx: Context) -> list[Item]:
    {body}
    return _ITEMS[: ctx.size]
"""


class Clock:
    """The analysis' clock (canary ages): still until the test moves it."""

    def __init__(self) -> None:
        self.now = datetime.now().astimezone()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def app(make_app: AppFactory) -> PrismApp:
    return make_app(canary_analysis_s=0)  # no background rounds: the test drives them


@pytest.fixture
def client(app: PrismApp) -> Iterator[TestClient]:
    with TestClient(app, headers=grant(app.control, name="tester")) as c:
        yield c


def _canary(
    client: TestClient, strategies_dir: Path, name: str, body: str, analysis: dict[str, Any]
) -> dict[str, Any]:
    (strategies_dir / f"{name}.py").write_text(SCRIPT.format(body=body))
    r = client.post("/admin/configs", json={"script": f"{name}.py", "name": "default"})
    assert r.status_code == 201, r.text
    deploy = {"scene": SCENE, "script": f"{name}.py", "canary_percent": 30, "analysis": analysis}
    r = client.post("/admin/deployments", json=deploy)
    assert r.status_code == 201, r.text
    return dict(r.json()["deployment"])


def _traffic(client: TestClient, users: int = 200) -> set[str]:
    """Requests of ``users`` live users; the strategies that answered."""
    served = set()
    for u in range(users):
        r = client.post("/v1/recommend", json={"scene": SCENE, "user_id": f"live-{u}"})
        assert r.status_code == 200, r.text
        served.add(r.json()["strategy"]["name"])
    return served


def _canary_entry(client: TestClient) -> dict[str, Any] | None:
    [bucket] = client.get("/admin/status").json()["scenes"][SCENE]["buckets"]
    return bucket.get("canary")


@pytest.mark.parametrize("how", list(BAD_ON_LIVE_USERS))
def test_a_bad_canary_is_aborted_and_the_audit_says_why(
    client: TestClient, app: PrismApp, strategies_dir: Path, how: str
) -> None:
    analysis = {"max_error_rate": 0.05, "max_p99_ms": 20, "min_requests": 20}
    analysis["max_fallback_rate"] = 0.5  # a slow run past the deadline on a busy machine
    dep = _canary(client, strategies_dir, "shaky", BAD_ON_LIVE_USERS[how], analysis)
    [first] = app.control.evaluate_canaries()  # the node's first look: nothing served yet
    assert first.action == "wait" and first.reasons == ["0 of 20 canary requests so far"]
    listed = client.get("/admin/canaries", params={"scene": SCENE}).json()
    assert [(c["deployment_id"], c["analysis"]["max_p99_ms"]) for c in listed] == [(dep["id"], 20)]
    assert listed[0]["verdict"]["action"] == "wait"

    assert "home_feed" in _traffic(client)
    [verdict] = app.control.evaluate_canaries()
    assert verdict.action == "abort" and verdict.outcome == "aborted", verdict
    assert verdict.canary.requests >= 20
    figure = ("error rate 100 %",) if how == "raises" else ("p99 ", "fallback rate")
    reason = next(r for f in figure for r in verdict.reasons if r.startswith(f))

    assert _canary_entry(client) is None
    assert _traffic(client, 40) == {"home_feed"}  # every user back on the primary
    analysed, ended = client.get("/admin/audit", params={"limit": 2}).json()
    assert ended["action"] == "canary_ended" and ended["actor"] == "canary-analysis"
    assert ended["detail"]["id"] == dep["id"] and reason in ended["detail"]["note"]
    assert analysed["action"] == "canary_analysis" and analysed["actor"] == "canary-analysis"
    assert (
        analysed["detail"]["action"] == "abort" and analysed["detail"]["reasons"] == verdict.reasons
    )
    assert analysed["detail"]["canary"]["requests"] == verdict.canary.requests
    assert analysed["detail"]["primary"]["requests"] > 0
    assert app.control.evaluate_canaries() == []  # nothing left to judge


def test_a_good_canary_is_promoted_after_promote_after_s(
    client: TestClient, app: PrismApp, strategies_dir: Path
) -> None:
    clock = Clock()
    app.control.watch_canaries(lambda: app.metrics, clock)
    analysis = {"max_error_rate": 0.01, "max_p99_ms": 200, "min_requests": 20}
    dep = _canary(client, strategies_dir, "steady", "pass", {**analysis, "promote_after_s": 1800})
    started = datetime.fromisoformat(dep["created_at"])
    clock.now = started + timedelta(seconds=5)
    app.control.evaluate_canaries()
    assert {"home_feed", "steady"} <= _traffic(client)

    clock.now = started + timedelta(seconds=600)
    [verdict] = app.control.evaluate_canaries()
    assert verdict.action == "wait" and verdict.reasons[-1] == (
        "promotes in 20 min 0 s without a breach"
    )
    shown = _canary_entry(client)
    assert shown is not None and shown["analysis"]["promote_after_s"] == 1800
    assert shown["verdict"]["action"] == "wait" and shown["verdict"]["age_s"] == 600

    clock.now = started + timedelta(seconds=1800)
    [verdict] = app.control.evaluate_canaries()
    assert verdict.action == "promote" and verdict.outcome == "promoted", verdict
    assert _traffic(client, 40) == {"steady"}
    analysed, promoted = client.get("/admin/audit", params={"limit": 2}).json()
    assert promoted["action"] == "canary_promoted" and promoted["actor"] == "canary-analysis"
    assert "no breach after 30 min 0 s" in promoted["detail"]["note"]
    assert analysed["detail"]["action"] == "promote" and analysed["detail"]["age_s"] == 1800


def test_a_bad_analysis_is_a_422_naming_the_field(client: TestClient, strategies_dir: Path) -> None:
    (strategies_dir / "steady.py").write_text(SCRIPT.format(body="pass"))
    client.post("/admin/configs", json={"script": "steady.py", "name": "default"})
    body: dict[str, Any] = {"scene": SCENE, "script": "steady.py", "canary_percent": 10}
    for analysis, field in (
        ({"max_p99_ms": -1}, "analysis.max_p99_ms"),
        ({"p99": 80}, "analysis.p99"),
        ({"min_requests": 10}, "analysis"),
    ):
        r = client.post("/admin/deployments", json={**body, "analysis": analysis})
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    r = client.post(
        "/admin/deployments", json={**body, "canary_percent": None, "analysis": {"max_p99_ms": 80}}
    )
    assert r.status_code == 422 and r.json()["field"] == "analysis", r.text
    config_change = {**body, "script": "home_feed.py", "analysis": {"max_p99_ms": 80}}
    r = client.post("/admin/deployments", json=config_change)  # like its primary
    assert r.status_code == 422 and "could not tell them apart" in r.json()["message"], r.text
    assert client.get("/admin/canaries").json() == []


class _DecidedElsewhere(StaticEvidence):
    """Evidence of a breach, while another node aborts the canary as this one judges."""

    def __init__(self, other: Any) -> None:
        super().__init__()
        self.other = other

    def stats(self, arms: CanaryArms) -> tuple[ArmStats, ArmStats]:
        self.other.abort_canary(arms.scene, arms.bucket, actor="other-node")
        return ArmStats(requests=100, errors=100), ArmStats(requests=100)


def test_the_second_node_to_decide_finds_the_canary_gone(
    client: TestClient, app: PrismApp, strategies_dir: Path
) -> None:
    _canary(client, strategies_dir, "steady", "pass", {"max_error_rate": 0.01})
    app.control.canary_watch = CanaryWatch(_DecidedElsewhere(app.control))
    [verdict] = app.control.evaluate_canaries()
    assert verdict.action == "abort" and verdict.outcome == "ended elsewhere"
    [entry] = client.get("/admin/audit", params={"limit": 1}).json()
    assert entry["action"] == "canary_ended" and entry["actor"] == "other-node"


def test_a_protected_scene_promotion_waits_for_approval_once(
    client: TestClient, app: PrismApp, strategies_dir: Path
) -> None:
    client.patch(f"/admin/scenes/{SCENE}", json={"protected": True}).raise_for_status()
    app.control.update_scene(SCENE, actor="tester", protected=False)  # to deploy the canary
    _canary(
        client, strategies_dir, "steady", "pass", {"max_error_rate": 0.01, "promote_after_s": 1}
    )
    app.control.update_scene(SCENE, actor="tester", protected=True)
    evidence = StaticEvidence()
    evidence.set(SCENE, "base", ArmStats(requests=500), ArmStats(requests=500))
    clock = Clock()
    clock.now += timedelta(hours=1)
    app.control.canary_watch = CanaryWatch(evidence, clock)
    for _ in range(2):  # the request is filed once, not every round
        [verdict] = app.control.evaluate_canaries()
        assert verdict.action == "promote"
        assert verdict.outcome.startswith("awaiting approval (change request #"), verdict
    pending = app.control.change_requests(status="pending")
    assert [(r.requested_by, r.kind) for r in pending] == [("canary-analysis", "promote")]

    evidence.set(SCENE, "base", ArmStats(requests=500, errors=50), ArmStats(requests=500))
    [verdict] = app.control.evaluate_canaries()  # an abort never waits
    assert verdict.outcome == "aborted" and _canary_entry(client) is None


def test_the_background_loop_runs_a_round_every_interval(
    client: TestClient, app: PrismApp, strategies_dir: Path
) -> None:
    _canary(client, strategies_dir, "steady", "pass", {"max_error_rate": 0.01})
    evidence = StaticEvidence()
    app.control.canary_watch = CanaryWatch(evidence)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:  # after the first round: a breach
            evidence.set(SCENE, "base", ArmStats(requests=500, errors=50), ArmStats())
        if len(slept) == 3:  # after the second round: stop
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(app.control.analyse_canaries_forever(7.5, sleep))
    assert slept == [7.5, 7.5, 7.5]
    assert _canary_entry(client) is None
    [entry] = client.get("/admin/audit", params={"limit": 1}).json()
    assert entry["action"] == "canary_analysis" and entry["detail"]["action"] == "abort"
