"""The overview in a real browser: requests served while the page is open show up in
every scene's charts without a reload (htmx polls the fragment every 5 s), and the
charts wrap at phone width. The node samples its metrics every second here."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from prism_platform.demo.setup import DEMO_SCENES
from prism_testkit.browser import PHONE, DemoNode, shot

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def sample_every_second(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Before the demo node starts (autouse fixtures come first)."""
    monkeypatch.setenv("PRISM_METRICS_INTERVAL_S", "1")
    yield


def test_the_charts_fill_in_while_the_page_is_open(demo_node: DemoNode) -> None:
    page = demo_node.page("victor")
    page.goto("/workbench/")
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(0)
    expect(page.get_by_text("No requests in the last 30 minutes.")).to_have_count(len(DEMO_SCENES))
    deadline, uid = time.monotonic() + 3, 0
    while time.monotonic() < deadline:  # a few seconds of traffic on every scene
        for scene, *_ in DEMO_SCENES:
            demo_node.serves(scene, user=str(uid))
        uid += 1
    expect(charts).to_have_count(3 * len(DEMO_SCENES), timeout=15000)  # no reload
    expect(page.locator(".chart-now").first).not_to_have_text("–")
    shot(page, "overview-charts")
    page.set_viewport_size(PHONE)
    for k in range(charts.count()):
        box = charts.nth(k).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    shot(page, "overview-charts-phone")
