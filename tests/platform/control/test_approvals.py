"""Protected scenes through ``Control``: deploys, rollbacks, promotions and traffic
changes wait as change requests; who may approve, reject or cancel them; emergencies
and canary aborts go ahead; what approving makes, or fails to make; the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from prism_platform.app import PrismApp
from prism_platform.control.dev_mode import redeploy_edited
from prism_platform.control.facade import Control
from prism_platform.errors import ApprovalRequired, Conflict, Forbidden, Invalid, NotFound


def _serves(control: Control, scene: str = "cart", bucket: str = "base") -> str:
    [dep] = [
        d
        for d in control.deployments(scene, active=True)
        if d.bucket == bucket and d.canary_percent is None
    ]
    return dep.script_path


def _held(change: Callable[[], Any]) -> int:
    """The id of the change request ``change`` was held as."""
    with pytest.raises(ApprovalRequired) as held:
        change()
    assert held.value.status == 202
    return held.value.request_id


@pytest.fixture
def control(app: PrismApp) -> Control:
    """The demo's control plane, with a second script's config and ``cart`` protected."""
    c = app.control
    c.put_config("popular_only.py", "default", {}, actor="olga")
    c.update_scene("cart", protected=True, actor="ada")
    return c


def _deploy(control: Control, actor: str = "olga", scene: str = "cart") -> Any:
    return control.deploy(scene, "base", "popular_only.py", "default", actor=actor)


def test_an_unprotected_scene_changes_at_once(control: Control) -> None:
    _deploy(control, scene="home_feed")
    assert _serves(control, "home_feed") == "popular_only.py"
    assert control.change_requests() == []


def test_a_deploy_waits_for_a_second_operator(control: Control) -> None:
    rid = _held(lambda: _deploy(control))
    assert _serves(control) == "cart.py"  # nothing changed yet
    req = control.change_request(rid)
    assert (req.scene, req.kind, req.status, req.requested_by) == (
        "cart", "deploy", "pending", "olga"
    )  # fmt: skip
    assert req.gate is not None and req.gate["ok"] is True  # gated when requested
    assert req.args["version"].startswith("wt-")  # pinned: approved is what was gated
    diff = control.change_diff(req)
    assert diff["current"]["serves"].startswith("cart.py@")
    assert diff["requested"]["serves"] == f"popular_only.py@{req.args['version']}:default"

    with pytest.raises(Forbidden, match="second operator"):
        control.approve(rid, actor="olga", role="operator")
    done = control.approve(rid, actor="oscar", role="operator", reason="looks right")
    assert (done.status, done.decided_by, done.reason) == ("approved", "oscar", "looks right")
    assert _serves(control) == "popular_only.py"
    dep = control.deployments("cart", active=True)[0]
    assert dep.created_by == "olga" and dep.version == req.args["version"]  # as requested
    assert done.result is not None and done.result["deployment"] == dep.id
    trail = [(e.actor, e.action) for e in reversed(control.audit(5))]
    assert trail[-4:] == [
        ("olga", "change_requested"),
        ("oscar", "change_approved"),
        ("olga", "deploy"),
        ("olga", "gate_passed"),
    ]
    with pytest.raises(Conflict, match="no longer pending"):
        control.approve(rid, actor="oscar", role="operator")


@pytest.mark.parametrize(
    ("actor", "role", "reason", "override", "refused", "field"),
    [
        ("olga", "operator", "", False, Forbidden, "id"),  # one's own
        ("olga", "operator", "urgent", True, Forbidden, "override"),  # only admins override
        ("ada", "admin", "", False, Forbidden, "id"),  # an admin's own, no override
        ("ada", "admin", "  ", True, Invalid, "reason"),  # an override needs a reason
        ("victor", "viewer", "", False, Forbidden, None),  # viewers read
    ],
)
def test_who_may_not_approve(
    control: Control,
    actor: str,
    role: Any,
    reason: str,
    override: bool,
    refused: type[Exception],
    field: str | None,
) -> None:
    requester = "ada" if role == "admin" else "olga"
    rid = _held(lambda: _deploy(control, actor=requester))
    with pytest.raises(refused) as no:
        control.approve(rid, actor=actor, role=role, reason=reason, override=override)
    assert getattr(no.value, "field", None) == field
    assert control.change_request(rid).status == "pending"
    assert _serves(control) == "cart.py"


def test_an_admin_overrides_their_own_request_with_a_reason(control: Control) -> None:
    rid = _held(lambda: _deploy(control, actor="ada"))
    done = control.approve(rid, actor="ada", role="admin", reason="incident 42", override=True)
    assert done.status == "approved" and _serves(control) == "popular_only.py"
    approved = next(e for e in control.audit(10) if e.action == "change_approved")
    assert approved.actor == "ada"
    assert approved.detail["override"] is True and approved.detail["reason"] == "incident 42"


def test_a_failing_application_marks_the_request_failed(control: Control) -> None:
    rid = _held(lambda: _deploy(control))
    # meanwhile the bucket goes away (unprotected for a moment)
    control.update_scene("cart", protected=False, actor="ada")
    control.start_experiment("cart", "other", [("other", 100.0)], actor="ada")
    with pytest.raises(NotFound) as gone:
        control.approve(rid, actor="oscar", role="operator")
    assert gone.value.field == "bucket"
    req = control.change_request(rid)
    assert req.status == "failed" and req.result is not None
    assert "base" in req.result["error"] and req.result["field"] == "bucket"
    failed = control.audit(1)[0]
    assert (failed.actor, failed.action, failed.detail["request"]) == (
        "oscar",
        "change_failed",
        rid,
    )


def test_reject_and_cancel(control: Control) -> None:
    first = _held(lambda: _deploy(control))
    with pytest.raises(Conflict, match="cancel it instead"):
        control.reject(first, actor="olga", reason="changed my mind")
    with pytest.raises(Invalid) as why:
        control.reject(first, actor="oscar", reason=" ")
    assert why.value.field == "reason"
    rejected = control.reject(first, actor="oscar", reason="not during the sale")
    assert (rejected.status, rejected.reason) == ("rejected", "not during the sale")
    with pytest.raises(Conflict):
        control.approve(first, actor="oscar", role="operator")

    second = _held(lambda: _deploy(control))
    with pytest.raises(Forbidden, match="only olga"):
        control.cancel(second, actor="oscar")
    assert control.cancel(second, actor="olga").status == "cancelled"
    assert [r.status for r in control.change_requests()] == ["cancelled", "rejected"]
    assert [a.action for a in control.audit(2)] == ["change_cancelled", "change_requested"]
    assert _serves(control) == "cart.py"


def test_rollbacks_wait_unless_an_emergency(control: Control) -> None:
    control.update_scene("cart", protected=False, actor="ada")
    first = control.deployments("cart", active=True)[0].id
    _deploy(control)  # popular_only now
    control.update_scene("cart", protected=True, actor="ada")

    by_bucket = _held(lambda: control.rollback_bucket("cart", "base", actor="olga"))
    req = control.change_request(by_bucket)
    assert req.kind == "rollback_bucket"
    assert req.args == {"method": "rollback", "deployment_id": first, "note": ""}
    by_id = _held(lambda: control.rollback(first, actor="olga"))
    assert control.change_request(by_id).kind == "rollback"
    assert _serves(control) == "popular_only.py"

    control.rollback(first, actor="olga", emergency=True)
    assert _serves(control) == "cart.py"
    emergency, gate, rolled = control.audit(3)  # newest first: audited once made
    assert gate.action == "gate_passed"
    assert (emergency.actor, emergency.action, emergency.key) == ("olga", "emergency", "cart")
    assert emergency.detail["method"] == "rollback"
    assert rolled.action == "rollback"

    done = control.approve(by_bucket, actor="oscar", role="operator")
    assert done.status == "approved" and done.result is not None  # the same again: allowed
    assert done.result["serves"].startswith("cart.py@")


def test_a_canary_abort_never_waits_and_a_promotion_does(control: Control) -> None:
    control.update_scene("cart", protected=False, actor="ada")
    control.deploy("cart", "base", "popular_only.py", "default", actor="olga", canary_percent=10.0)
    control.update_scene("cart", protected=True, actor="ada")

    promote = _held(lambda: control.promote_canary("cart", "base", actor="olga"))
    assert control.change_request(promote).kind == "promote"
    diff = control.change_diff(control.change_request(promote))
    assert diff["requested"]["serves"].startswith("popular_only.py@")

    control.rollback_bucket("cart", "base", actor="olga")  # ends the canary: an abort
    assert not [d for d in control.deployments("cart", active=True) if d.canary_percent]
    assert [a.action for a in control.audit(2)] == ["emergency", "canary_ended"]
    with pytest.raises(NotFound):  # nothing to promote any more
        control.approve(promote, actor="oscar", role="operator")
    assert control.change_request(promote).status == "failed"


def test_traffic_changes_wait_and_are_checked_first(control: Control) -> None:
    with pytest.raises(Invalid) as bad:  # refused now, not on approval
        control.start_experiment("cart", "ab", [("base", 50.0), ("b", 40.0)], actor="olga")
    assert bad.value.field == "buckets"
    with pytest.raises(NotFound):
        control.stop_layer("cart", "ranking", actor="olga")
    assert control.change_requests() == []

    split = [("base", 50.0), ("b", 50.0)]
    rid = _held(lambda: control.start_experiment("cart", "ab", split, actor="olga"))
    req = control.change_request(rid)
    assert req.kind == "traffic" and req.gate is None
    diff = control.change_diff(req)
    assert (diff["current"], diff["requested"]) == (
        [["base", 100.0]],
        [["base", 50.0], ["b", 50.0]],
    )
    assert [e.name for e in control.experiments("cart") if e.status == "running"] == ["default"]

    done = control.approve(rid, actor="oscar", role="operator")
    assert done.result is not None and done.result["name"] == "ab"
    running = [e for e in control.experiments("cart") if e.status == "running"]
    assert [(b.name, b.percent) for b in running[0].buckets] == split


def test_a_whitelist_change_waits(control: Control) -> None:
    with pytest.raises(Invalid):  # a bucket the layer has not: refused now
        control.set_whitelist("cart", "main", {"qa1": "nope"}, actor="olga")
    rid = _held(lambda: control.set_whitelist("cart", "main", {"qa1": "base"}, actor="olga"))
    diff = control.change_diff(control.change_request(rid))
    assert (diff["whitelist"], diff["requested_whitelist"]) == ({}, {"qa1": "base"})
    control.approve(rid, actor="oscar", role="operator")
    [running] = [e for e in control.experiments("cart") if e.status == "running"]
    assert dict(running.whitelist) == {"qa1": "base"}


def test_dev_mode_does_not_redeploy_a_protected_scene(
    control: Control, strategies_dir: Path
) -> None:
    script = strategies_dir / "dev.py"
    script.write_text(DEV_SCRIPT.format(channel="first"))
    control.put_config("dev.py", "default", {}, actor="olga")
    control.update_scene("cart", protected=False, actor="ada")
    first = control.deploy("cart", "base", "dev.py", "default", actor="olga").deployment
    control.update_scene("cart", protected=True, actor="ada")
    script.write_text(DEV_SCRIPT.format(channel="second"))
    done = redeploy_edited(control)
    assert done == {"cart/base": "cart is protected: an edit is not redeployed (prism "
                    "deploy files it for approval)"}  # fmt: skip
    assert control.deployments("cart", active=True)[0].id == first.id
    control.update_scene("cart", protected=False, actor="ada")
    assert redeploy_edited(control)["cart/base"].startswith("serving wt-")


DEV_SCRIPT = (
    "from prism_sdk import Item\n\n\n"
    "def recommend(ctx):\n    return [Item(str(i), 1.0, {channel!r}) for i in range(1, 40)]\n"
)


def test_the_diff_compares_params_as_the_script_sees_them(control: Control) -> None:
    control.put_config("cart.py", "tuned", {"per_item": 20}, actor="olga")
    rid = _held(lambda: control.deploy("cart", "base", "cart.py", "tuned", actor="olga"))
    diff = control.change_diff(control.change_request(rid))
    assert diff["current"]["params"]["per_item"] == 30  # the seed's {}: the default
    assert diff["requested"]["params"]["top_up"] == 2.0  # defaults filled in
    assert diff["params_changed"] == [{"param": "per_item", "from": 30, "to": 20}]
