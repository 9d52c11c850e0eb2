"""What a change request was filed for is what its approval makes, or nothing: a config
edited after the request, or a canary replaced by another, fails the approval (409)
instead of making a change nobody reviewed."""

from __future__ import annotations

import pytest

from prism_platform.app import PrismApp
from prism_platform.control.facade import Control
from prism_platform.errors import ApprovalRequired, Conflict


def _held(control: Control, scene: str = "cart", **deploy: object) -> int:
    with pytest.raises(ApprovalRequired) as held:
        control.deploy(scene, "base", "popular_only.py", "default", actor="olga", **deploy)  # type: ignore[arg-type]
    return held.value.request_id


@pytest.fixture
def control(app: PrismApp) -> Control:
    c = app.control
    c.put_config("popular_only.py", "default", {"pool": 40}, actor="olga")
    c.update_scene("cart", protected=True, actor="ada")
    return c


def _serves(control: Control) -> list[tuple[str, dict[str, object], float | None]]:
    active = control.deployments("cart", active=True)
    return [(d.script_path, d.config_params, d.canary_percent) for d in active]


def test_a_config_edited_after_the_request_fails_the_approval(control: Control) -> None:
    rid = _held(control)
    before = _serves(control)
    control.put_config("popular_only.py", "default", {"pool": 5}, actor="olga")  # not reviewed
    with pytest.raises(Conflict, match="changed since") as refused:
        control.approve(rid, actor="oscar", role="operator")
    assert refused.value.field == "config"
    assert control.change_request(rid).status == "failed"
    assert _serves(control) == before  # nothing deployed


def test_an_unchanged_config_deploys_as_requested(control: Control) -> None:
    rid = _held(control)
    done = control.approve(rid, actor="oscar", role="operator")
    assert done.status == "approved"
    assert ("popular_only.py", {"pool": 40}, None) in _serves(control)


def test_a_promotion_promotes_the_canary_it_was_filed_for(control: Control) -> None:
    control.update_scene("cart", protected=False, actor="ada")
    control.deploy("cart", "base", "popular_only.py", "default", actor="olga", canary_percent=10.0)
    control.update_scene("cart", protected=True, actor="ada")
    with pytest.raises(ApprovalRequired) as held:
        control.promote_canary("cart", "base", actor="olga")
    rid = held.value.request_id
    # the canary is replaced by another one before the promotion is approved
    control.update_scene("cart", protected=False, actor="ada")
    control.put_config("popular_only.py", "other", {"pool": 5}, actor="olga")
    control.deploy("cart", "base", "popular_only.py", "other", actor="olga", canary_percent=20.0)
    control.update_scene("cart", protected=True, actor="ada")
    before = _serves(control)
    diff = control.change_diff(control.change_request(rid))
    assert diff["requested"]["serves"].endswith(":default")  # what was filed, not the new one
    with pytest.raises(Conflict, match="canary") as refused:
        control.approve(rid, actor="oscar", role="operator")
    assert refused.value.field == "bucket"
    assert control.change_request(rid).status == "failed"
    assert _serves(control) == before  # the new canary still a canary
