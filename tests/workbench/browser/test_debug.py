"""The Request debugger in a real browser, against a real demo node: an operator runs
``home_feed`` for a user who clicked recently, opens the ``filter.seen`` stage (its
candidates and what it removed, with the reason), then compares the live deployment with
``popular_only.py`` at its defaults (a dry run) and sees what differs, highlighted.

then the same script with one parameter changed (items move up and down).

Screenshots: ``debug``, ``debug-stage``, ``debug-compare``, ``debug-compare-moves``,
``debug-phone`` and ``debug-compare-phone``."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from prism_testkit.browser import DESKTOP, PHONE, DemoNode, shot

pytestmark = pytest.mark.slow  # make test installs chromium; without it this fails, loudly


def _active_user(node: DemoNode) -> str:
    """A user whose recent clicks the live strategy filters out (found over the API)."""
    for user in range(1, 60):
        body = {"scene": "home_feed", "user_id": str(user), "size": 10}
        r = httpx.post(f"{node.url}/admin/debug/recommend", json=body, headers=node.admin)
        assert r.status_code == 200, r.text
        seen = [s for s in r.json()["trace"]["stages"] if s["stage"] == "filter.seen"]
        if seen and seen[0].get("removed_total"):
            return str(user)
    raise AssertionError("no demo user with recent clicks")


def _fits(page: Page) -> bool:
    """Whether the page is no wider than the window (wide tables scroll in their box)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_an_operator_debugs_a_request_and_compares_it_with_a_script(demo_node: DemoNode) -> None:
    user = _active_user(demo_node)
    page = demo_node.page("olga")
    nav = page.get_by_role("navigation", name="Pages")
    nav.get_by_role("link", name="Debugger").click()
    expect(page.get_by_role("heading", name="Request debugger")).to_be_visible()
    page.get_by_label("Scene").select_option("home_feed")
    page.get_by_label("User id").fill(user)
    page.get_by_label("Context (JSON)").fill('{"page": "home"}')
    page.get_by_label("Size").fill("10")
    page.get_by_role("button", name="Run").click()

    expect(page.get_by_role("heading", name="the live routing")).to_be_visible()
    items = page.locator("section:has(#side-a) table.items tbody tr")
    expect(items).to_have_count(10)
    expect(items.first.locator("img")).to_have_attribute("loading", "lazy")
    shot(page, "debug")

    seen = page.locator("details.stage", has=page.locator("summary code", has_text="filter.seen"))
    removed = seen.locator("table.removed")
    expect(removed).to_be_hidden()  # closed until opened
    seen.locator("summary").click()
    expect(removed).to_be_visible()
    expect(removed.get_by_role("cell", name="already_interacted").first).to_be_visible()
    expect(seen.locator("table.candidates tbody tr").first).to_be_visible()
    seen.scroll_into_view_if_needed()
    shot(page, "debug-stage")
    page.set_viewport_size(PHONE)
    assert _fits(page)
    shot(page, "debug-phone")
    page.set_viewport_size(DESKTOP)

    page.get_by_label("a script").check()
    page.get_by_label("Script", exact=True).fill("popular_only.py")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_role("heading", name="Differences")).to_be_visible()
    expect(
        page.get_by_role("heading", name=re.compile(r"^B: script popular_only\.py"))
    ).to_be_visible()
    summary = page.locator("p.summary")
    expect(summary).to_contain_text("only in A")
    only_a = page.locator("section:has(#side-a) tr.only")
    only_b = page.locator("section:has(#side-b) tr.only")
    expect(only_a.first).to_contain_text("only in A")
    expect(only_b.first).to_contain_text("only in B")
    count_a = only_a.count()
    expect(summary).to_contain_text(f"{count_a} only in A")
    stages = page.locator("table.stage-diff tr.changed")
    expect(stages.filter(has_text="source.popular")).to_contain_text("not run")
    shot(page, "debug-compare")
    page.set_viewport_size(PHONE)
    assert _fits(page)
    shot(page, "debug-compare-phone")
    page.set_viewport_size(DESKTOP)

    # the same script with one parameter changed: the same items, in another order
    page.get_by_label("Script", exact=True).fill("home_feed.py")
    page.get_by_label("Parameters (JSON, optional)").fill('{"scatter_max": 1}')
    page.get_by_role("button", name="Run").click()
    expect(
        page.get_by_role("heading", name=re.compile(r"^B: script home_feed\.py"))
    ).to_be_visible()
    moved = page.locator("section:has(#side-b) tr.changed .mark")
    expect(moved.filter(has_text=re.compile(r"^[▲▼] (up|down) \d+$")).first).to_be_visible()
    shot(page, "debug-compare-moves")
