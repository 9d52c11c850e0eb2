"""Approvals in a real browser: ada (admin) protects cart on its Scene page; olga asks
for a rollback from History and is told it waits for approval (#N); she cannot approve
her own request; oscar approves it on the Approvals page and the node serves the
rollback and rejects her canary of a tuned config (filed through the API, answered
202); then he rolls back again as an emergency (a confirm dialog, no approval).
Screenshots: ``scene-protected``, ``approvals-requested``, ``approvals``
(desktop and phone) and ``approvals-approved``."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from prism_testkit.browser import DESKTOP, PASSWORD, PHONE, DemoNode, shot

pytestmark = pytest.mark.slow  # make test installs chromium; without it this fails, loudly


def test_a_protected_scenes_rollback_waits_for_a_second_operator(demo_node: DemoNode) -> None:
    url, admin = demo_node.url, demo_node.admin
    popular = demo_node.deploy("cart", "popular_only.py")
    assert demo_node.serves("cart") == "popular_only"

    ada = demo_node.page("ada")
    ada.goto("/workbench/scenes/cart")
    ada.get_by_role("button", name="Protect cart").click()
    expect(ada.get_by_role("status")).to_contain_text("cart is protected")
    expect(ada.get_by_role("heading", name=re.compile("Scene cart"))).to_contain_text("Protected")
    shot(ada, "scene-protected")
    ada.context.close()

    olga = demo_node.page("olga")
    olga.goto("/workbench/history?scene=cart")
    request = olga.get_by_role("button", name=re.compile(r"^Request rollback of cart.base"))
    expect(olga.get_by_role("button", name=re.compile("^Emergency rollback"))).to_have_count(
        request.count()
    )
    request.last.click()  # newest first: the last is the seed's deployment
    notice = olga.get_by_role("status")
    expect(notice).to_contain_text("Waiting for approval: change request #")
    found = re.search(r"change request #(\d+)", notice.inner_text())
    assert found, notice.inner_text()
    rid = found.group(1)
    shot(olga, "approvals-requested")
    assert demo_node.serves("cart") == "popular_only"  # nothing changed yet

    # and a canary of a tuned config, through the API with her own login token
    login = {"user": "olga", "password": PASSWORD}
    her = {"Authorization": f"Bearer {httpx.post(f'{url}/auth/login', json=login).json()['token']}"}
    tuned = {"script": "popular_only.py", "name": "tuned", "params": {"pool": 200}}
    assert httpx.post(f"{url}/admin/configs", json=tuned, headers=her).status_code == 201
    body = {"scene": "cart", "script": "popular_only.py", "config": "tuned", "canary_percent": 10}
    r = httpx.post(f"{url}/admin/deployments", json=body, headers=her, timeout=60)
    assert r.status_code == 202, r.text
    canary = r.json()["change_request"]

    olga.get_by_role("link", name="Approvals").click()
    mine = olga.locator(f"#request-{rid}")
    expect(mine).to_contain_text("(you)")
    expect(mine.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)
    expect(mine.get_by_role("button", name=f"Cancel change request #{rid}")).to_be_visible()
    csrf = olga.locator('.who input[name="csrf"]').get_attribute("value")
    refused = olga.request.post(f"/workbench/approvals/{rid}/approve", form={"csrf": csrf or ""})
    assert refused.status == 403 and "second operator must approve" in refused.text()
    olga.context.close()

    oscar = demo_node.page("oscar")
    oscar.get_by_role("link", name="Approvals").click()
    theirs = oscar.locator(f"#request-{rid}")
    expect(theirs).to_contain_text("Rollback on cart")
    expect(theirs).to_contain_text("popular_only.py@wt-")  # now
    expect(theirs).to_contain_text("cart.py@wt-")  # requested
    expect(theirs).to_contain_text("Gate passed when requested")
    tuned_canary = oscar.locator(f"#request-{canary}")
    expect(tuned_canary).to_contain_text("as a canary on 10.0%")
    pool = tuned_canary.get_by_role("row", name=re.compile(r"^pool\b"))
    expect(pool).to_contain_text("300")  # the param that changes: 300 -> 200
    expect(pool).to_contain_text("200")
    shot(oscar, "approvals")
    oscar.set_viewport_size(PHONE)
    shot(oscar, "approvals-phone")
    oscar.set_viewport_size(DESKTOP)
    theirs.get_by_label("Reason").fill("back to the seed's cart")
    theirs.get_by_role("button", name=f"Approve change request #{rid}").click()
    expect(oscar.get_by_role("status")).to_contain_text(f"Change request #{rid} approved")
    # what it would change is shown as of now: cart.py serves again, another script
    expect(tuned_canary).to_contain_text("Another script")
    tuned_canary.get_by_label("Reason").fill("not during the sale")
    tuned_canary.get_by_role("button", name=f"Reject change request #{canary}").click()
    expect(oscar.get_by_role("status")).to_contain_text(f"Change request #{canary} rejected")
    expect(oscar.get_by_text("No change waits for approval.")).to_be_visible()
    shot(oscar, "approvals-approved")
    assert demo_node.serves("cart") == "cart"

    history = httpx.get(f"{url}/admin/audit?limit=10", headers=admin).json()
    actions = [(e["actor"], e["action"]) for e in history]
    assert ("oscar", "change_approved") in actions and ("olga", "rollback") in actions

    # an emergency goes ahead at once, once the operator confirms it
    asked: list[str] = []
    oscar.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    oscar.goto("/workbench/history?scene=cart")
    oscar.get_by_role(
        "button", name=f"Emergency rollback of cart/base to deployment {popular}"
    ).click()
    expect(oscar.get_by_role("status")).to_contain_text("as an emergency, without approval")
    assert asked and "without a second operator's approval" in asked[0]
    assert demo_node.serves("cart") == "popular_only"
    oscar.context.close()
