"""The workbench in a real browser, for tests: Debian's Chromium (never a downloaded
one) driven by Playwright, and a real ``prism serve`` node with the demo seeded and users
of each role with passwords: ``olga`` and ``oscar`` (operators), ``victor`` (viewer),
``ada`` (admin).

Full-page screenshots go to ``test-artifacts/workbench/`` of the working directory."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect, sync_playwright

from prism_testkit.accounts import seeded_headers
from prism_testkit.cluster import Cluster, demo_env, seed_demo

ARTIFACTS = Path("test-artifacts") / "workbench"
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
USERS = (("olga", "operator"), ("oscar", "operator"), ("victor", "viewer"), ("ada", "admin"))


@dataclass
class DemoNode:
    url: str
    env: dict[str, str]
    admin: dict[str, str]
    """``Authorization`` headers of the seeded admin's API token."""
    browser: Browser

    def context(self, viewport: ViewportSize = DESKTOP) -> BrowserContext:
        return self.browser.new_context(base_url=self.url, viewport=viewport)

    def page(self, user: str, viewport: ViewportSize = DESKTOP) -> Page:
        """A new browser context's page, logged in as ``user`` through the form."""
        page = self.context(viewport).new_page()
        page.set_default_timeout(15000)
        log_in(page, user)
        return page

    def deploy(self, scene: str, script: str) -> int:
        """Deploy ``script`` (its ``default`` config, made empty) to ``scene`` through the
        admin API as the seeded admin; the new deployment's id."""
        body = {"script": script, "name": "default"}
        r = httpx.post(f"{self.url}/admin/configs", json=body, headers=self.admin, timeout=30)
        assert r.status_code == 201, r.text
        body = {"scene": scene, "script": script}
        r = httpx.post(f"{self.url}/admin/deployments", json=body, headers=self.admin, timeout=60)
        assert r.status_code == 201, r.text
        return int(r.json()["deployment"]["id"])

    def serves(self, scene: str, user: str = "7") -> str:
        """The strategy name the node answers ``scene`` with for ``user``."""
        body = {"scene": scene, "user_id": user}
        r = httpx.post(f"{self.url}/v1/recommend", json=body, timeout=10)
        assert r.status_code == 200, r.text
        return str(r.json()["strategy"]["name"])


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's headless Chromium under Playwright."""
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def demo_node(work: Path, strategies: Path, browser: Browser) -> Iterator[DemoNode]:
    """A demo node of its own, on a copy of the ``strategies`` repository, under ``work``."""
    copy = work / "strategies"
    shutil.copytree(strategies, copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = demo_env(work, copy, scale=0.04)
    seed_demo(env)
    cluster = Cluster(work, env)
    try:
        url = cluster.start_node().url
        admin = seeded_headers(env)
        for name, role in USERS:  # through the admin API: no CLI process per user
            body = {"name": name, "role": role, "password": PASSWORD}
            r = httpx.post(f"{url}/admin/users", json=body, headers=admin, timeout=30)
            assert r.status_code == 201, r.text
        yield DemoNode(url, env, admin, browser)
    finally:
        cluster.stop()


def shot(page: Page, name: str) -> None:
    """Save a full-page screenshot as ``test-artifacts/workbench/<name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page: Page, user: str) -> None:
    page.goto("/workbench/")
    expect(page).to_have_url(re.compile(r"/workbench/login$"))  # anonymous: to the login
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("User").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
