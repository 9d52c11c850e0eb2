"""Approvals in the workbench: an admin protects a scene; an operator's rollback or split
on it waits (a notice, not an error), listed on the Approvals page with what it would
change and the gate's result; another operator approves or rejects it, the requester
may only cancel it, an admin may override their own with a reason; an emergency
rollback goes ahead."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.control.facade import Control

Login = Callable[[str], TestClient]
CsrfOf = Callable[[str], str]


def _serves(control: Control) -> str:
    [dep] = [d for d in control.deployments("cart", active=True) if d.canary_percent is None]
    return dep.script_path


def _text(html: str) -> str:
    """The page as text (tags dropped, entities decoded, spaces collapsed)."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def cart(wb_app: PrismApp) -> int:
    """A second deployment on cart (so History has an earlier one) and cart protected;
    the id of the first deployment."""
    control = wb_app.control
    first = control.deployments("cart", active=True)[0].id
    control.put_config("popular_only.py", "default", {}, actor="ada")
    control.deploy("cart", "base", "popular_only.py", "default", actor="ada")
    control.update_scene("cart", protected=True, actor="ada")
    return first


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_protect_a_scene(login: Login, csrf_of: CsrfOf, role: str) -> None:
    c = login(role)
    page = c.get("/workbench/scenes/cart").text
    assert "Protect cart" not in page
    r = c.post("/workbench/scenes/cart/protect", data={"csrf": csrf_of(page), "protected": "1"})
    assert r.status_code == 403 and "may not do this" in r.text


def test_an_admin_protects_and_unprotects_a_scene(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf
) -> None:
    c = login("admin")
    page = c.get("/workbench/scenes/cart").text
    assert "no: changes go ahead at once" in _text(page)
    r = c.post("/workbench/scenes/cart/protect", data={"csrf": csrf_of(page), "protected": "1"})
    assert r.status_code == 200
    assert '<span class="protected-mark">Protected</span>' in r.text and "Unprotect cart" in r.text
    assert "cart is protected: its deploys" in _text(r.text)
    assert wb_app.control.scene("cart").protected
    assert wb_app.control.audit(1)[0].action == "protect"
    r = c.post("/workbench/scenes/cart/protect", data={"csrf": csrf_of(page), "protected": "0"})
    assert not wb_app.control.scene("cart").protected and "Protect cart" in r.text
    r = c.post("/workbench/scenes/nosuch/protect", data={"csrf": csrf_of(page), "protected": "1"})
    assert r.status_code == 404


def test_a_rollback_waits_and_a_second_operator_approves_it(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf, cart: int
) -> None:
    control = wb_app.control
    olga, oscar = login("operator"), login("operator")
    page = olga.get("/workbench/history", params={"scene": "cart"}).text
    assert "Request rollback" in page and "Emergency rollback" in page
    assert "Roll back to this" not in page  # only unprotected scenes' rows have it
    data = {"csrf": csrf_of(page), "deployment_id": str(cart), "scene": "cart"}
    r = olga.post("/workbench/history/rollback", data=data)
    assert r.status_code == 202
    [request] = control.change_requests("pending")
    assert f"Waiting for approval: change request #{request.id}" in _text(r.text)
    assert 'class="notice done" role="status"' in r.text and "notice error" not in r.text
    assert _serves(control) == "popular_only.py"

    mine = olga.get("/workbench/approvals").text
    text = _text(mine)
    assert f"#{request.id} Rollback on cart" in text
    assert f"Requested by {olga.user} (you)" in text  # type: ignore[attr-defined]
    assert "popular_only.py@wt-" in text and "cart.py@wt-" in text  # now vs requested
    assert "Gate passed when requested: 40" in text
    assert "Cancel request" in mine and "Approve change request" not in mine

    theirs = oscar.get("/workbench/approvals").text
    assert f'aria-label="Approve change request #{request.id}"' in theirs
    assert "Cancel request" not in theirs
    forged = olga.post(  # the requester cannot approve by posting either
        f"/workbench/approvals/{request.id}/approve", data={"csrf": csrf_of(mine)}
    )
    assert forged.status_code == 403 and "second operator must approve" in _text(forged.text)

    r = oscar.post(f"/workbench/approvals/{request.id}/approve", data={"csrf": csrf_of(theirs)})
    assert r.status_code == 200, r.text
    assert f"Change request #{request.id} approved: deployment" in _text(r.text)
    assert _serves(control) == "cart.py"
    decided = _text(r.text).split("Decided", 1)[1]
    assert "approved" in decided and "cart.py@wt-" in decided
    assert "No change waits for approval." in _text(r.text)


def test_reject_needs_a_reason_and_an_admin_overrides_with_one(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf, cart: int
) -> None:
    control = wb_app.control
    oscar, admin = login("operator"), login("admin")
    rid = _request_rollback(admin, csrf_of, cart)
    page = oscar.get("/workbench/approvals").text
    r = oscar.post(f"/workbench/approvals/{rid}/reject", data={"csrf": csrf_of(page)})
    assert r.status_code == 422
    assert f'id="reason-{rid}-error"' in r.text and 'aria-invalid="true"' in r.text

    own = admin.get("/workbench/approvals").text
    assert f'aria-label="Override: approve your own change request #{rid}"' in own
    data = {"csrf": csrf_of(own), "override": "1", "reason": ""}
    r = admin.post(f"/workbench/approvals/{rid}/approve", data=data)
    assert r.status_code == 422 and "needs a reason" in r.text
    data["reason"] = "incident 42"
    r = admin.post(f"/workbench/approvals/{rid}/approve", data=data)
    assert r.status_code == 200 and _serves(control) == "cart.py"
    assert control.change_request(rid).reason == "incident 42"

    second = _request_rollback(admin, csrf_of, cart)
    data = {"csrf": csrf_of(page), "reason": "not now"}
    r = oscar.post(f"/workbench/approvals/{second}/reject", data=data)
    assert r.status_code == 200 and f"Change request #{second} rejected" in r.text
    assert control.change_request(second).status == "rejected"
    r = oscar.post(f"/workbench/approvals/{second}/reject", data=data)
    assert r.status_code == 409 and "no longer pending" in r.text


def _request_rollback(c: TestClient, csrf_of: CsrfOf, deployment: int) -> int:
    page = c.get("/workbench/history").text
    data = {"csrf": csrf_of(page), "deployment_id": str(deployment)}
    r = c.post("/workbench/history/rollback", data=data)
    assert r.status_code == 202, r.text
    found = re.search(r"change request #(\d+)", r.text)
    assert found
    return int(found.group(1))


def test_an_emergency_rollback_goes_ahead(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf, cart: int
) -> None:
    c = login("operator")
    page = c.get("/workbench/history").text
    data = {"csrf": csrf_of(page), "deployment_id": str(cart), "emergency": "1"}
    r = c.post("/workbench/history/rollback", data=data)
    assert r.status_code == 200
    assert "as an emergency, without approval" in _text(r.text)
    assert _serves(wb_app.control) == "cart.py"
    assert wb_app.control.change_requests() == []
    assert [a.action for a in wb_app.control.audit(3)] == ["emergency", "gate_passed", "rollback"]


def test_a_split_on_a_protected_scene_waits(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf, cart: int
) -> None:
    c = login("operator")
    page = c.get("/workbench/scenes/cart").text
    form = {"name": "ab", "bucket_0": "base", "percent_0": "60", "bucket_1": "b", "percent_1": "40"}
    r = c.post("/workbench/scenes/cart/split", data={"csrf": csrf_of(page), **form})
    assert r.status_code == 202
    [request] = wb_app.control.change_requests("pending")
    assert f"change request #{request.id}" in r.text
    approvals = _text(c.get("/workbench/approvals").text)
    assert "Traffic split (main layer) on cart" in approvals
    assert "Split base 100.0% base 60.0%, b 40.0%" in approvals
