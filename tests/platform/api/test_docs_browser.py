"""The API reference pages in Debian's headless Chromium, with every request that is not
to the node refused: a machine without internet access sees the operations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from prism_testkit.browser import ARTIFACTS, chromium, shot
from prism_testkit.cluster import Cluster, demo_env

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
"""ReDoc's "API docs by Redocly" badge, hard-coded in its script; without it ReDoc just
leaves the badge out (its ``onError``)."""


@pytest.fixture(scope="module")
def node_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("docs-node")
    cluster = Cluster(
        work, {**demo_env(work, REPO / "strategies", scale=0.02), "PRISM_DOCS_PUBLIC": "1"}
    )
    try:
        yield cluster.start_node().url
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


class Offline:
    """A page whose requests off the node are aborted, as without internet access."""

    def __init__(self, browser: Browser, node_url: str) -> None:
        self.node_url = node_url
        self.refused: list[str] = []
        self.page = browser.new_context(base_url=node_url).new_page()
        self.page.set_default_timeout(15000)
        self.page.route("**/*", self._only_the_node)

    def _only_the_node(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(f"{self.node_url}/"):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort("internetdisconnected")


@pytest.fixture
def offline(browser: Browser, node_url: str) -> Iterator[Offline]:
    page = Offline(browser, node_url)
    yield page
    page.page.context.close()


def test_swagger_ui_lists_the_operations_offline(offline: Offline) -> None:
    page: Page = offline.page
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    recommend = page.locator('.opblock-summary-path[data-path="/v1/recommend"]')
    expect(recommend).to_be_visible()
    expect(recommend).to_contain_text("recommend")
    shot(page, "api-docs-swagger-offline")
    assert offline.refused == []


def test_redoc_lists_the_operations_offline(offline: Offline) -> None:
    page: Page = offline.page
    page.goto("/redoc")
    expect(page.get_by_role("heading", name="Recommend items for a scene")).to_be_visible()
    expect(page.get_by_text("/v1/recommend").first).to_be_attached()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # the viewport: the full page is ~34000 px
    page.screenshot(path=str(ARTIFACTS / "api-docs-redoc-offline.png"))
    assert set(offline.refused) <= {REDOC_LOGO}
