from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.errors import NotFound, StrategyLoadError
from prism_platform.scripts.git import GitRepo
from prism_platform.scripts.loader import load_strategy
from prism_testkit.accounts import grant
from prism_testkit.repo import strategies_repo

STRATEGIES_SRC = Path(__file__).resolve().parents[3] / "strategies"

MAIN = (
    "from . import helper\nfrom prism_sdk import Item\n\n\n"
    "def recommend(ctx):\n    return [Item(helper.NAME)]\n"
)


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "strategies" / "team").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "strategies" / "team" / "feed.py").write_text(MAIN)
    (root / "strategies" / "team" / "helper.py").write_text("NAME = 'v1'\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first feed")
    (root / "strategies" / "team" / "helper.py").write_text("NAME = 'v2'\n")
    git(root, "commit", "-qam", "helper v2")
    (root / "strategies" / "team" / "helper.py").write_text("NAME = 'uncommitted'\n")
    return root


def test_each_commit_loads_its_own_helper_side_by_side(repo: Path) -> None:
    g = GitRepo(repo / "strategies")
    first, second = git(repo, "rev-list", "--reverse", "HEAD").split()
    s1 = load_strategy(g.tree(first), "team/feed.py")
    s2 = load_strategy(g.tree("main"), "team/feed.py")
    assert (s1.version, s2.version) == (first[:12], second[:12])
    assert s1.fn(ctx=None)[0].id == "v1"
    assert s2.fn(ctx=None)[0].id == "v2"  # the commit, not the working tree


def test_history_lists_commits_that_changed_a_script(repo: Path) -> None:
    g = GitRepo(repo / "strategies")
    assert [c.message for c in g.history("team/feed.py")] == ["first feed"]
    assert [c.message for c in g.history("team/helper.py")] == ["helper v2", "first feed"]
    assert g.history("team/feed.py")[0].author == "Ada"


def test_unknown_commits_and_paths_are_named(repo: Path) -> None:
    g = GitRepo(repo / "strategies")
    with pytest.raises(NotFound, match="no commit 'deadbeef'"):
        g.resolve("deadbeef")
    with pytest.raises(StrategyLoadError, match="no such script"):
        load_strategy(g.tree("main"), "team/missing.py")


def test_a_committed_symlink_is_not_followed(repo: Path) -> None:
    (repo / "strategies" / "link.py").symlink_to("/etc/hostname")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "link")
    with pytest.raises(StrategyLoadError, match="no such script"):
        load_strategy(GitRepo(repo / "strategies").tree("main"), "link.py")


def test_a_named_clone_is_fetched_and_its_new_commits_deploy(tmp_path: Path, make_app: Any) -> None:
    upstream = tmp_path / "upstream"
    first, second = strategies_repo(STRATEGIES_SRC, upstream / "strategies")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(upstream / "strategies"), str(clone)], check=True)
    feed = upstream / "strategies" / "home_feed.py"
    feed.write_text(feed.read_text() + "\nREVISION = 3\n")
    git(upstream / "strategies", "commit", "-qam", "third")
    third = git(upstream / "strategies", "rev-parse", "HEAD")

    app = make_app(strategies_repo=str(clone))
    with TestClient(app, headers=grant(app.control, name="tester")) as client:
        body = {"scene": "home_feed", "script": "home_feed.py", "version": third}
        r = client.post("/admin/deployments", json=body)
        assert r.status_code == 404 and r.json()["field"] == "version"  # not fetched yet
        r = client.post("/admin/scripts/fetch", json={"remote": "origin"})
        assert r.status_code == 200, r.text
        r = client.post("/admin/deployments", json={**body, "version": "origin/HEAD"})
        assert r.status_code == 201, r.text
        assert r.json()["deployment"]["version"] == third
        served = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": "1"})
        assert served.json()["strategy"]["version"] == third[:12]
        r = client.post("/admin/scripts/fetch", json={"remote": "nowhere"})
        assert r.status_code == 422 and r.json()["field"] == "remote"
    assert second != third and first != third


def test_a_script_that_exists_only_at_a_commit_deploys_from_that_commit(
    tmp_path: Path, make_app: Any
) -> None:
    """Registered, configured and served from the commit: the working tree never had it."""
    upstream = tmp_path / "upstream" / "strategies"
    strategies_repo(STRATEGIES_SRC, upstream)
    git(upstream, "checkout", "-q", "-b", "feature")
    (upstream / "fresh.py").write_text(
        '"""Fresh from a branch."""\nfrom prism_sdk import Item\n\n\n'
        "def recommend(ctx):\n    return [Item('42')]\n"
    )
    git(upstream, "add", "fresh.py")
    git(upstream, "commit", "-qm", "fresh strategy")
    commit = git(upstream, "rev-parse", "HEAD")
    git(upstream, "checkout", "-q", "-")  # the working tree is back on a branch without it
    assert not (upstream / "fresh.py").exists()

    app = make_app(strategies_dir=upstream)
    with TestClient(app, headers=grant(app.control, name="tester")) as client:
        r = client.post("/admin/configs", json={"script": "fresh.py", "name": "default"})
        assert r.status_code == 404 and "no such script" in r.json()["message"], r.text
        body = {"script": "fresh.py", "name": "default", "version": "feature"}
        assert client.post("/admin/configs", json=body).status_code == 201
        body = {"scene": "cart", "script": "fresh.py", "version": commit[:10]}
        r = client.post("/admin/deployments", json=body)
        assert r.status_code == 201, r.text
        assert r.json()["deployment"]["version"] == commit
        [script] = [s for s in client.get("/admin/scripts").json() if s["path"] == "fresh.py"]
        assert script["description"] == "Fresh from a branch."
        served = client.post("/v1/recommend", json={"scene": "cart", "user_id": "1"}).json()
        assert served["strategy"] == {"name": "fresh", "version": commit[:12], "config": "default"}
