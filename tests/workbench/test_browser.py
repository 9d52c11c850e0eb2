"""The workbench in a real browser: Debian's Chromium (never a downloaded one), driven by
Playwright, against a real ``prism serve`` node with the demo seeded. An operator logs in
through the form, sees every demo scene, rolls cart back from History and logs out; a
viewer sees History without action buttons and is refused a rollback POST (403).

Full-page screenshots of every page visited go to ``test-artifacts/workbench/``."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from prism_platform.demo.setup import DEMO_SCENES
from prism_testkit.accounts import local_user, seeded_headers
from prism_testkit.cluster import Cluster, demo_env, prism

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "workbench"
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}

pytestmark = pytest.mark.slow  # make test installs chromium; without it this fails, loudly


@pytest.fixture
def browser() -> Iterator[Browser]:
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


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _serves(url: str, scene: str) -> str:
    r = httpx.post(f"{url}/v1/recommend", json={"scene": scene, "user_id": "7"}, timeout=10)
    assert r.status_code == 200, r.text
    return str(r.json()["strategy"]["name"])


def _log_in(page: Page, user: str) -> None:
    page.goto("/workbench/")
    expect(page).to_have_url(re.compile(r"/workbench/login$"))  # anonymous: to the login
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("User").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def test_operator_and_viewer_in_a_real_browser(tmp_path: Path, browser: Browser) -> None:
    strategies = tmp_path / "strategies"
    shutil.copytree(REPO / "strategies", strategies, ignore=shutil.ignore_patterns("__pycache__"))
    env = demo_env(tmp_path, strategies, scale=0.04)
    prism(["demo", "seed"], env)
    admin = seeded_headers(env)
    local_user(env, "olga", "operator", PASSWORD)
    local_user(env, "victor", "viewer", PASSWORD)
    cluster = Cluster(tmp_path, env)
    try:
        url = cluster.start_node().url
        # a second deployment to cart, so that History has an earlier one to roll back to
        body = {"script": "popular_only.py", "name": "default"}
        assert httpx.post(f"{url}/admin/configs", json=body, headers=admin).status_code == 201
        body = {"scene": "cart", "script": "popular_only.py"}
        r = httpx.post(f"{url}/admin/deployments", json=body, headers=admin, timeout=60)
        assert r.status_code == 201, r.text
        second = r.json()["deployment"]["id"]
        assert _serves(url, "cart") == "popular_only"

        operator = browser.new_context(base_url=url, viewport=DESKTOP)
        page = operator.new_page()
        page.set_default_timeout(15000)
        page.goto("/workbench/login")
        _shot(page, "login")
        _log_in(page, "olga")
        expect(page.locator(".who")).to_contain_text("olga (operator)")
        for scene, *_ in DEMO_SCENES:
            expect(page.get_by_role("heading", name=re.compile(rf"^{scene}\b"))).to_be_visible()
        _shot(page, "overview")
        page.set_viewport_size(PHONE)
        _shot(page, "overview-phone")
        page.set_viewport_size(DESKTOP)

        page.get_by_role("link", name="History").click()
        expect(page.get_by_role("heading", name="History")).to_be_visible()
        page.get_by_label("Scene").select_option("cart")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile(r"scene=cart"))
        _shot(page, "history")
        page.set_viewport_size(PHONE)
        _shot(page, "history-phone")
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
        _shot(page, "history-rolled-back")
        assert _serves(url, "cart") == "cart"  # the seed's script again

        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(re.compile(r"/workbench/login$"))
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        _shot(page, "logged-out")
        page.goto("/workbench/history")  # the session is gone, not just the page
        expect(page).to_have_url(re.compile(r"/workbench/login$"))
        operator.close()

        viewer = browser.new_context(base_url=url, viewport=DESKTOP)
        page = viewer.new_page()
        page.set_default_timeout(15000)
        _log_in(page, "victor")
        page.goto("/workbench/history?scene=cart")
        expect(page.locator("main tbody tr").first).to_contain_text("olga")  # her rollback
        expect(page.get_by_role("button", name=re.compile("Roll back"))).to_have_count(0)
        expect(page.locator("main button.action")).to_have_count(0)
        _shot(page, "history-viewer")
        csrf = page.locator('.who input[name="csrf"]').get_attribute("value")
        assert csrf, "the viewer's page carries no CSRF token"
        refused = page.request.post(
            "/workbench/history/rollback", form={"csrf": csrf, "deployment_id": str(second)}
        )
        assert refused.status == 403, refused.text()
        assert "victor (viewer) may not do this" in refused.text()
        viewer.close()
    finally:
        cluster.stop()
