"""The Scripts page in a real browser: the demo node's strategies folder made a git
repository with two commits (the second tunes one line of ``home_feed.py``); an operator
opens Scripts, then ``home_feed.py`` highlighted, then the diff of the two commits side
by side, at desktop and phone width (the diff scrolls inside its box, the page does not).

Screenshots: ``scripts``, ``script-file``, ``script-diff``, and ``script-file-phone`` and
``script-diff-phone``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from prism_testkit.browser import DESKTOP, PHONE, DemoNode, shot
from prism_testkit.repo import commit_edit

pytestmark = pytest.mark.slow  # make test installs chromium; without it this fails, loudly

OLD_LINE = "recent_events: int = 20"
NEW_LINE = "recent_events: int = 25"


def overflows(page: Page, selector: str) -> bool:
    """Whether the element's content is wider than the element (it scrolls)."""
    return bool(page.eval_on_selector(selector, "e => e.scrollWidth > e.clientWidth + 1"))


def test_an_operator_reads_a_script_and_its_diff(demo_node: DemoNode) -> None:
    strategies = Path(demo_node.env["PRISM_STRATEGIES_DIR"])
    messages = ("seed the demo strategies", "home_feed: more recent events")
    first, second = commit_edit(
        strategies, "home_feed.py", OLD_LINE, NEW_LINE, messages=messages, author="Olga"
    )

    page = demo_node.page("olga")
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Scripts").click()
    expect(page.get_by_role("heading", name="Scripts", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name=f"Files at {second[:10]}")).to_be_visible()
    expect(page.get_by_role("cell", name="home_feed: more recent events")).to_be_visible()
    shot(page, "scripts")

    page.get_by_role("link", name="home_feed.py").click()
    expect(page).to_have_url(
        re.compile(rf"/workbench/scripts/file\?path=home_feed.py&commit={second}")
    )
    code = page.locator(".code-view td.code")
    expect(code).to_contain_text(NEW_LINE)
    keyword = code.locator("span.k", has_text="def").first
    expect(keyword).to_be_visible()
    colour = keyword.evaluate("e => getComputedStyle(e).color")
    assert colour not in ("rgb(26, 26, 26)", "rgb(0, 0, 0)"), colour  # highlighted
    shot(page, "script-file")
    page.set_viewport_size(PHONE)
    assert overflows(page, ".code-view") and not overflows(page, "html")
    shot(page, "script-file-phone")
    page.set_viewport_size(DESKTOP)

    page.get_by_role("link", name=f"Diff {second[:10]} with the previous commit").click()
    expect(page.get_by_role("heading", name=f"{first[:10]} → {second[:10]}")).to_be_visible()
    changed = page.locator("table.diff tr.changed")
    expect(changed).to_have_count(1)
    expect(changed.locator("td.src.removed")).to_contain_text(OLD_LINE)
    expect(changed.locator("td.src.added")).to_contain_text(NEW_LINE)
    expect(page.locator("table.diff tr.gap").first).to_contain_text("unchanged lines")
    shot(page, "script-diff")

    page.set_viewport_size(PHONE)
    expect(changed).to_be_attached()
    assert overflows(page, ".diff-view")  # the diff scrolls in its box …
    assert not overflows(page, "html")  # … and the page does not
    shot(page, "script-diff-phone")
    page.set_viewport_size(DESKTOP)
    page.context.close()
