"""The Replay page in a real browser, against a real demo node: an operator replays
home_feed's recent samples (the demo samples every request) against ``popular_only.py``,
watches the progress, and reads the report: the verdict (popular_only ranks unlike
home_feed: RBO changed beyond the noise), the charts, the JSON download.

Screenshots: ``replay``, ``replay-errors``, ``replay-report``, ``replay-phone`` and
``replay-report-phone``."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from prism_testkit.browser import DESKTOP, PHONE, DemoNode, shot

pytestmark = pytest.mark.slow  # make test installs chromium; without it this fails, loudly

REQUESTS = 30


def _fits(page: Page) -> bool:
    """Whether the page is no wider than the window (wide tables scroll in their box)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_an_operator_replays_home_feed_against_popular_only(demo_node: DemoNode) -> None:
    with httpx.Client(base_url=demo_node.url) as client:
        for user in range(REQUESTS):
            body = {"scene": "home_feed", "user_id": str(user), "context": {"page": "home"}}
            assert client.post("/v1/recommend", json=body).status_code == 200

    page = demo_node.page("olga")
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Replay").click()
    expect(page.get_by_role("heading", name="Replay", exact=True)).to_be_visible()
    page.get_by_label("Scene", exact=True).select_option("home_feed")
    page.get_by_label("Script", exact=True).select_option("popular_only.py")
    expect(page.get_by_label("Commit")).to_have_value("worktree")
    shot(page, "replay")
    page.set_viewport_size(PHONE)
    assert _fits(page)
    shot(page, "replay-phone")
    page.set_viewport_size(DESKTOP)

    # only the chosen source's fields show
    expect(page.get_by_label("Sample file", exact=True)).to_be_hidden()
    page.get_by_role("radio", name="a sample file (JSONL)").check()
    expect(page.get_by_label("Sample file", exact=True)).to_be_visible()
    expect(page.get_by_label("Since")).to_be_hidden()
    page.get_by_role("radio", name="the scene's recent samples").check()

    page.get_by_label("At most").fill("lots")  # an error, shown next to its field
    page.get_by_role("button", name="Start replay").click()
    expect(page.locator("#limit-error")).to_contain_text("a whole number")
    expect(page.get_by_label("At most")).to_have_attribute("aria-invalid", "true")
    shot(page, "replay-errors")

    page.get_by_label("At most").fill(str(REQUESTS))
    page.get_by_label("Rate (requests per second)").fill("15")  # 2 s: long enough to watch
    page.get_by_label("Fail if").fill("rbo<0.99")
    page.get_by_role("button", name="Start replay").click()
    expect(page).to_have_url(re.compile(r"/workbench/replay/\d+$"))
    replay_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", name=f"Replay #{replay_id}: home_feed")).to_be_visible()

    # htmx polls the progress until the report replaces it
    expect(page.get_by_role("progressbar", name="Requests replayed")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text(f"of {REQUESTS} requests")
    verdict = page.get_by_role("heading", name="Verdict")
    expect(verdict).to_be_visible(timeout=30000)
    expect(page.get_by_role("status").first).to_contain_text(
        f"Done: {REQUESTS} of {REQUESTS} requests replayed"
    )
    rbo = page.locator("tr", has=page.get_by_role("rowheader", name=re.compile("^RBO with A")))
    expect(rbo.get_by_text("changed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Fail-if failed: rbo<0.99")
    arms = page.locator("table", has=page.get_by_role("columnheader", name="Serves"))
    expect(arms.locator("tr", has_text="the candidate")).to_contain_text("popular_only@")
    expect(page.locator("svg.chart")).to_have_count(2)  # latency and RBO distributions
    shot(page, "replay-report")
    page.set_viewport_size(PHONE)
    assert _fits(page)
    shot(page, "replay-report-phone")
    page.set_viewport_size(DESKTOP)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the report (JSON)").click()
    report = json.loads(download.value.path().read_text())
    assert report["scene"] == "home_feed" and report["requests"] == REQUESTS
    assert "rbo" in report["diff"]["changed"]

    page.get_by_role("link", name="Every replay").click()
    row = page.locator("tr", has=page.get_by_role("link", name=f"#{replay_id}"))
    expect(row).to_contain_text("popular_only.py@worktree")
    expect(row).to_contain_text("olga")
    expect(row).to_contain_text("done")
