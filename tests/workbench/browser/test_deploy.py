"""The Deploy page in a real browser, against a real node: an operator commits an edit
to a strategy in the node's strategies repository, deploys that commit as a 10 % canary
with an automatic analysis (checking the gate first), watches it roll out and promotes
it; then deploys a canary with edited parameters and aborts it from the Scene page.

Screenshots: deploy-form, deploy-gate, deploy-rollout, canary (and phone-width ones)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from prism_testkit.browser import DESKTOP, PHONE, DemoNode, shot
from prism_testkit.repo import git

pytestmark = pytest.mark.slow


def _commit_an_edit(strategies: Path) -> str:
    """The strategies folder as a git repository with one commit, then an edit of
    home_feed.py committed on top; the edit's commit id."""
    git(strategies, "init", "-q", "-b", "main")
    git(strategies, "add", "-A")
    git(strategies, "commit", "-qm", "the demo strategies")
    script = strategies / "home_feed.py"
    text = script.read_text()
    assert "quota_popular: int = 100" in text
    script.write_text(text.replace("quota_popular: int = 100", "quota_popular: int = 120"))
    git(strategies, "commit", "-qam", "more popular items in the home feed")
    return git(strategies, "rev-parse", "HEAD")


def _served(node: DemoNode, users: range) -> set[tuple[str, str]]:
    """(strategy, version) of what the node answers home_feed with for each user."""
    out = set()
    for u in users:
        body = {"scene": "home_feed", "user_id": str(u)}
        r = httpx.post(f"{node.url}/v1/recommend", json=body, timeout=10)
        assert r.status_code == 200, r.text
        strategy = r.json()["strategy"]
        out.add((strategy["name"], strategy["version"]))
    return out


def _choose(page: Page, label: str, value: str) -> None:
    """Pick ``value`` in a select of the "what to deploy" form and wait for htmx to have
    swapped in the form that follows from it."""
    page.get_by_label(label, exact=True).select_option(value)
    expect(page.locator(".htmx-request")).to_have_count(0, timeout=15000)
    expect(page.get_by_label(label, exact=True)).to_have_value(value)


def _check_and_deploy(page: Page, name: str) -> None:
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", name="3. Deploy gate")).to_be_visible()
    expect(page.locator("section[aria-labelledby=gate] [role=status]")).to_contain_text("Passed")
    expect(page.locator("dl.settings")).to_contain_text("of the 80 ms deadline")
    shot(page, f"{name}-gate")
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page).to_have_url(re.compile(r"/workbench/deploy/rollout/\d+\?deployment=\d+$"))
    expect(page.get_by_role("status")).to_contain_text(
        re.compile(r"Every live node serves generation \d+")
    )


def test_deploy_a_commit_as_a_canary_promote_it_then_abort_another(
    demo_node: DemoNode, tmp_path: Path
) -> None:
    commit = _commit_an_edit(tmp_path / "strategies")
    body = {"script": "popular_only.py", "name": "default"}  # registers the script
    r = httpx.post(f"{demo_node.url}/admin/configs", json=body, headers=demo_node.admin)
    assert r.status_code == 201, r.text
    page = demo_node.page("olga")
    page.get_by_role("link", name="Deploy").click()
    expect(page.get_by_role("heading", name="Deploy", exact=True)).to_be_visible()
    _choose(page, "Scene", "home_feed")
    expect(page).to_have_url(re.compile(r"scene=home_feed"))  # htmx reloaded the form
    expect(page.get_by_label("Script", exact=True)).to_have_value("home_feed.py")
    commits = page.get_by_label("Commit", exact=True)
    expect(commits.locator("option")).to_have_count(3)  # working tree + the two commits
    _choose(page, "Commit", commit)
    expect(page).to_have_url(re.compile(rf"version={commit}"))
    expect(page.get_by_label("Config", exact=True)).to_have_value("default")
    analysis = page.get_by_role("group", name="Automatic analysis (optional)")
    expect(analysis).to_be_hidden()  # until a canary percent is typed
    page.get_by_label("Canary percent").fill("10")
    expect(analysis).to_be_visible()
    page.get_by_label("Abort above p99 latency").fill("2000")
    page.get_by_label("Note").fill("more popular items")
    shot(page, "deploy-form")
    _check_and_deploy(page, "deploy")
    shot(page, "deploy-rollout")
    page.set_viewport_size(PHONE)
    shot(page, "deploy-rollout-phone")
    page.set_viewport_size(DESKTOP)

    status = httpx.get(f"{demo_node.url}/admin/status", headers=demo_node.admin).json()
    [bucket] = status["scenes"]["home_feed"]["buckets"]
    assert bucket["canary"]["version"] == commit[:12] and bucket["canary"]["percent"] == 10
    assert bucket["canary"]["analysis"]["max_p99_ms"] == 2000
    assert bucket["version"] != commit[:12]

    page.get_by_role("link", name="Back to Deploy").click()
    canaries = page.locator("section[aria-labelledby=canaries]")
    expect(canaries).to_contain_text(f"home_feed@{commit[:12]}:default")
    expect(canaries).to_contain_text("Automatic analysis: abort if p99 > 2000 ms over ≥ 100")
    shot(page, "canary")
    page.set_viewport_size(PHONE)
    shot(page, "canary-phone")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Promote canary of home_feed/base").click()
    expect(page.get_by_role("status").first).to_contain_text("home_feed/base: canary promoted")
    expect(canaries).to_contain_text("No bucket has a canary.")
    assert demo_node.serves("home_feed") == "home_feed"
    assert _served(demo_node, range(20)) == {("home_feed", commit[:12])}

    # a canary of popular_only.py with edited parameters, aborted from the Scene page
    _choose(page, "Script", "popular_only.py")
    expect(page).to_have_url(re.compile(r"script=popular_only.py"))
    _choose(page, "Config", "*edit")
    expect(page.get_by_label("Pool")).to_have_value("300")  # the Config default
    page.get_by_label("Pool").fill("1.5")
    page.get_by_label("Save as config").fill("small_pool")
    page.get_by_label("Canary percent").fill("50")
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#p-pool-error")).to_have_text("pool: a whole number, e.g. 20")
    page.set_viewport_size(PHONE)
    shot(page, "deploy-form-phone")
    page.set_viewport_size(DESKTOP)
    page.get_by_label("Pool").fill("40")
    _check_and_deploy(page, "deploy-params")
    mixed = {name for name, _ in _served(demo_node, range(30))}
    assert mixed == {"home_feed", "popular_only"}

    page.goto("/workbench/scenes/home_feed")
    expect(
        page.get_by_role("cell", name=re.compile(r"popular_only@.*:small_pool \(50"))
    ).to_be_visible()
    page.get_by_role("button", name="Abort canary of home_feed/base").click()
    expect(page.get_by_role("status").first).to_contain_text("(50%) aborted")
    expect(page.get_by_role("button", name=re.compile("Abort canary"))).to_have_count(0)
    shot(page, "canary-aborted")
    assert _served(demo_node, range(30)) == {("home_feed", commit[:12])}
