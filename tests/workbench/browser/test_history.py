"""The workbench in a real browser: Debian's Chromium (never a downloaded one), driven by
Playwright, against a real ``prism serve`` node with the demo seeded. An operator logs in
through the form, sees every demo scene, rolls cart back from History and logs out; a
viewer sees History without action buttons and is refused a rollback POST (403).

Full-page screenshots of every page visited go to ``test-artifacts/workbench/``."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from prism_platform.demo.setup import DEMO_SCENES
from prism_testkit.browser import DESKTOP, PHONE, DemoNode, log_in, shot

pytestmark = pytest.mark.slow  # make test installs chromium; without it this fails, loudly


def test_operator_and_viewer_in_a_real_browser(demo_node: DemoNode) -> None:
    # a second deployment to cart, so that History has an earlier one to roll back to
    second = demo_node.deploy("cart", "popular_only.py")
    assert demo_node.serves("cart") == "popular_only"

    operator = demo_node.context()
    page = operator.new_page()
    page.set_default_timeout(15000)
    page.goto("/workbench/login")
    shot(page, "login")
    log_in(page, "olga")
    expect(page.locator(".who")).to_contain_text("olga (operator)")
    for scene, *_ in DEMO_SCENES:
        expect(page.get_by_role("heading", name=re.compile(rf"^{scene}\b"))).to_be_visible()
    shot(page, "overview")
    page.set_viewport_size(PHONE)
    shot(page, "overview-phone")
    page.set_viewport_size(DESKTOP)

    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    page.get_by_label("Scene").select_option("cart")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"scene=cart"))
    shot(page, "history")
    page.set_viewport_size(PHONE)
    shot(page, "history-phone")
    page.set_viewport_size(DESKTOP)
    buttons = page.get_by_role("button", name=re.compile(r"^Roll back cart\S* to deployment"))
    expect(buttons.first).to_be_visible()
    earlier = buttons.last  # newest first: the last one is the seed's deployment
    label = earlier.get_attribute("aria-label") or ""
    found = re.search(r"to deployment (\d+)$", label)
    assert found and int(found.group(1)) != second, label
    first = found.group(1)
    earlier.click()
    done = page.get_by_role("status")
    expect(done).to_contain_text(f"rolled back to {first}")
    expect(done).to_contain_text("cart/")
    expect(done).to_contain_text("cart.py@")
    shot(page, "history-rolled-back")
    assert demo_node.serves("cart") == "cart"  # the seed's script again

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/workbench/login$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    shot(page, "logged-out")
    page.goto("/workbench/history")  # the session is gone, not just the page
    expect(page).to_have_url(re.compile(r"/workbench/login$"))
    operator.close()

    viewer = demo_node.context()
    page = viewer.new_page()
    page.set_default_timeout(15000)
    log_in(page, "victor")
    page.goto("/workbench/history?scene=cart")
    expect(page.locator("main tbody tr").first).to_contain_text("olga")  # her rollback
    expect(page.get_by_role("button", name=re.compile("Roll back"))).to_have_count(0)
    expect(page.locator("main button.action")).to_have_count(0)
    shot(page, "history-viewer")
    csrf = page.locator('.who input[name="csrf"]').get_attribute("value")
    assert csrf, "the viewer's page carries no CSRF token"
    refused = page.request.post(
        "/workbench/history/rollback", form={"csrf": csrf, "deployment_id": str(second)}
    )
    assert refused.status == 403, refused.text()
    assert "victor (viewer) may not do this" in refused.text()
    viewer.close()
