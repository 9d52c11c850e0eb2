"""The Experiments page in a real browser against a real demo node: home_feed splits its
users between two strategies, ``prism demo simulate`` sends the demo users' requests and
events, the node aggregates them, and an operator reads the report and charts, then
starts an experiment on a new layer and stops it.

Then she forces a user into a bucket from the Scene page's whitelist and releases them.

Screenshots: ``experiments``, ``experiments-phone``, ``experiments-layer-started``,
``scene-whitelist``."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from prism_testkit.browser import DESKTOP, PHONE, DemoNode, shot
from prism_testkit.cluster import prism

pytestmark = pytest.mark.slow


def _split_and_simulate(node: DemoNode) -> int:
    """A/B on home_feed (the seed's strategy against popular items), demo traffic; the
    exposures the node counted, once its aggregator has caught up."""
    url, admin = node.url, node.admin
    body = {"script": "popular_only.py", "name": "default"}
    assert httpx.post(f"{url}/admin/configs", json=body, headers=admin).status_code == 201
    ab = {
        "name": "ab",
        "buckets": [{"name": "control", "percent": 50}, {"name": "popular", "percent": 50}],
    }
    r = httpx.post(f"{url}/admin/scenes/home_feed/experiments", json=ab, headers=admin)
    assert r.status_code == 201, r.text
    for bucket, script in (("control", "home_feed.py"), ("popular", "popular_only.py")):
        dep = {"scene": "home_feed", "bucket": bucket, "script": script}
        r = httpx.post(f"{url}/admin/deployments", json=dep, headers=admin, timeout=60)
        assert r.status_code == 201, r.text
    out = prism(["demo", "simulate", "--users", "150", "--size", "8", "--url", url], node.env)
    sent = json.loads(out[out.index("{") :])
    assert sent["rejected"] == 0 and sent["exposures"] > 0, sent
    deadline = time.monotonic() + 30
    counted = 0
    while time.monotonic() < deadline:  # the node aggregates every few seconds
        report = httpx.get(f"{url}/admin/experiments/home_feed/report", headers=admin).json()
        counted = sum(b["exposures"] for b in report["buckets"])
        if counted == sent["exposures"]:
            return counted
        time.sleep(0.5)
    raise AssertionError(f"the node counted {counted} of {sent['exposures']} exposures")


def test_an_operator_reads_the_report_and_starts_and_stops_a_layer(demo_node: DemoNode) -> None:
    _split_and_simulate(demo_node)
    page = demo_node.page("olga")
    page.get_by_role("link", name="Experiments").click()
    expect(page.get_by_role("heading", name="Experiments")).to_be_visible()
    page.get_by_role("link", name="home_feed").first.click()
    expect(page.get_by_role("heading", name="Experiments: home_feed")).to_be_visible()
    expect(
        page.get_by_role("heading", name=re.compile(r"Layer main: experiment ab"))
    ).to_be_visible()
    report = page.locator("table.report")
    expect(report.get_by_role("rowheader", name="control")).to_be_visible()
    expect(report.get_by_role("rowheader", name="popular")).to_be_visible()
    expect(report).to_contain_text(re.compile(r"[+-]\d+\.\d% \["))  # a lift with its CI
    expect(page.get_by_role("img", name="CTR per hour, by bucket")).to_be_visible()
    expect(page.get_by_role("img", name="Exposures per hour, by bucket")).to_be_visible()
    shot(page, "experiments")
    page.set_viewport_size(PHONE)
    shot(page, "experiments-phone")
    page.set_viewport_size(DESKTOP)

    page.get_by_label("Metric").select_option("cvr")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"metric=cvr"))
    expect(page.get_by_role("img", name="CVR per hour, by bucket")).to_be_visible()

    page.get_by_label("Layer", exact=True).fill("ranking")
    page.get_by_label("Experiment name").fill("aa_check")
    page.get_by_role("button", name="Start experiment").click()
    expect(page.get_by_role("status")).to_contain_text("runs on layer ranking")
    expect(
        page.get_by_role("heading", name=re.compile(r"Layer ranking: experiment aa_check"))
    ).to_be_visible()
    shot(page, "experiments-layer-started")

    page.get_by_role("button", name="Stop layer ranking").click()
    expect(page.get_by_role("status")).to_contain_text("Layer ranking stopped")
    past = page.locator("section", has=page.get_by_role("heading", name="Past experiments"))
    expect(past).to_contain_text("aa_check")
    expect(page.get_by_role("button", name="Stop layer ranking")).to_have_count(0)

    page.get_by_role("link", name="edit on the Scene page").click()  # the main layer's
    whitelist = page.locator("#whitelist-main")
    whitelist.get_by_label("User id").fill("qa-olga")
    whitelist.get_by_label("Bucket").select_option("popular")
    whitelist.get_by_role("button", name="Force into bucket").click()
    expect(page.get_by_role("status")).to_contain_text("qa-olga now gets bucket popular")
    expect(page.locator("#whitelist-main")).to_contain_text("qa-olga")
    shot(page, "scene-whitelist")
    r = httpx.post(
        f"{demo_node.url}/v1/recommend", json={"scene": "home_feed", "user_id": "qa-olga"}
    )
    assert r.json()["experiment"]["bucket"] == "popular"
    page.get_by_role("button", name="Remove qa-olga from the main whitelist").click()
    expect(page.get_by_role("status")).to_contain_text("qa-olga is drawn again")
    page.context.close()
