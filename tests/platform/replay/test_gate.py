"""The replay gate: a scene that sets ``replay_gate`` has each deploy's candidate replayed
against what the bucket serves live, on the bucket's recent samples, and a rule that holds
refuses the deploy (audited, nothing recorded). Off by default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.control.facade import Control
from prism_platform.errors import Invalid
from prism_platform.replay.gate import ReplayGateRejected
from prism_testkit.accounts import grant
from tests.platform.replay.conftest import serve

GATE = {"fail_if": ["channel_share.usercf<0.01", "rbo<0.5"], "min_samples": 10}


def deploy(control: Control, version: str) -> Any:
    return control.deploy(
        "home_feed", "base", "home_feed.py", "default", actor="t", version=version,
        check_latency=False,
    )  # fmt: skip


def live_version(control: Control) -> str:
    (dep,) = control.deployments("home_feed", active=True)
    return dep.version


def test_without_a_gate_a_deploy_is_not_replayed(app: PrismApp, planted: Path) -> None:
    serve(app, range(1, 41))
    assert app.control.scene("home_feed").replay_gate is None
    deploy(app.control, "drop_usercf")
    actions = [a.action for a in app.control.audit(20)]
    assert not any(a.startswith("replay_gate") for a in actions)


def test_the_gate_refuses_a_candidate_that_breaks_a_rule(app: PrismApp, planted: Path) -> None:
    control = app.control
    serve(app, range(1, 41))
    control.update_scene("home_feed", replay_gate=GATE, actor="ada")
    assert control.scene("home_feed").replay_gate == {
        **GATE,
        "sample_limit": 200,
        "since": "1h",
        "thresholds": {"relative": 0.1, "absolute": 0.01, "absolute_ms": 1.0},
    }
    before = live_version(control)
    with pytest.raises(ReplayGateRejected) as rejected:
        deploy(control, "drop_usercf")
    message = rejected.value.message
    assert "rejected by the replay gate of home_feed (40 requests)" in message
    assert "channel_share.usercf<0.01: 0" in message and "rbo<0.5" not in message
    assert rejected.value.field == "replay_gate" and rejected.value.status == 422
    assert live_version(control) == before  # nothing recorded
    (entry,) = [a for a in control.audit(20) if a.action == "deploy_rejected"]
    assert entry.detail["replay_gate"]["failed"] == ["channel_share.usercf<0.01: 0"]
    assert "channel_share.usercf" in entry.detail["replay_gate"]["changed"]

    deploy(control, "demo")  # the same code as live: passes
    (passed,) = [a for a in control.audit(20) if a.action == "replay_gate_passed"]
    assert (
        passed.detail["replay_gate"]["failed"] == [] and passed.detail["replay_gate"]["rbo"] == 1.0
    )


def test_too_few_samples_let_the_deploy_through_saying_so(app: PrismApp, planted: Path) -> None:
    control = app.control
    serve(app, range(1, 6))
    control.update_scene("home_feed", replay_gate=GATE, actor="ada")
    deploy(control, "drop_usercf")
    (skipped,) = [a for a in control.audit(20) if a.action == "replay_gate_skipped"]
    assert "5 sampled requests of base since 1h, fewer than the 10" in skipped.detail["reason"]


@pytest.mark.parametrize(
    ("gate", "field"),
    [
        ({"fail_if": []}, "replay_gate.fail_if"),
        ({"fail_if": ["speed>1"]}, "replay_gate.fail_if"),
        ({"fail_if": ["rbo<0.5"], "sample_limit": 0}, "replay_gate.sample_limit"),
        ({"fail_if": ["rbo<0.5"], "when": "always"}, "replay_gate.when"),
        ({"fail_if": ["rbo<0.5"], "thresholds": {"relative": -1}}, "replay_gate.thresholds"),
    ],
)
def test_a_bad_gate_is_refused_naming_its_key(
    app: PrismApp, gate: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as bad:
        app.control.update_scene("home_feed", replay_gate=gate, actor="ada")
    assert bad.value.field == field
    with TestClient(app, headers=grant(app.control, "admin")) as c:
        r = c.patch("/admin/scenes/home_feed", json={"replay_gate": gate})
        assert r.status_code == 422 and r.json()["field"] == field
        ok = c.patch("/admin/scenes/home_feed", json={"replay_gate": GATE})
        assert ok.status_code == 200 and ok.json()["replay_gate"]["fail_if"] == GATE["fail_if"]
        off = c.patch("/admin/scenes/home_feed", json={"replay_gate": None})
        assert off.status_code == 200 and off.json()["replay_gate"] is None
