"""Rollback is one call and restores exactly what was served; versions come from git."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from starlette.testclient import TestClient

from prism_platform.deploy.snapshot_build import KEEP_IDLE
from prism_platform.scripts.loader import PKG_PREFIX
from prism_sdk import parse_acm


def served(client: TestClient) -> dict[str, str]:
    body = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": "3"}).json()
    assert body["degraded"] is False
    return dict(body["strategy"])


def test_rollback_restores_script_and_config_as_deployed(client: TestClient) -> None:
    first = served(client)
    client.post(
        "/admin/configs",
        json={"script": "home_feed.py", "name": "default", "params": {"quota_i2i": 0}},
    )  # the config changes after the first deployment
    client.post("/admin/configs", json={"script": "noop.py", "name": "default"})
    client.post("/admin/deployments", json={"scene": "home_feed", "script": "noop.py"})
    assert served(client)["name"] == "noop"

    r = client.post("/admin/scenes/home_feed/buckets/base/rollback")
    assert r.status_code == 201, r.text
    dep = r.json()["deployment"]
    assert dep["script_path"] == "home_feed.py" and dep["config_params"] == {}
    assert served(client) == first
    channels = {
        "+".join(parse_acm(it["acm"]).channels)
        for it in client.post(
            "/v1/recommend", json={"scene": "home_feed", "user_id": "3", "size": 40}
        ).json()["items"]
    }
    assert any("i2i" in c for c in channels)  # quota_i2i=0 was not deployed

    history = client.get("/admin/deployments", params={"scene": "home_feed"}).json()
    noop_id = next(d["id"] for d in history if d["script_path"] == "noop.py")
    r = client.post(f"/admin/deployments/{noop_id}/rollback", json={"note": "back again"})
    assert r.status_code == 201 and served(client)["name"] == "noop"
    audit = client.get("/admin/audit").json()
    assert [a["action"] for a in audit].count("rollback") == 2


def test_rollback_errors_name_the_culprit(client: TestClient) -> None:
    r = client.post("/admin/deployments/9999/rollback")
    assert r.status_code == 404 and r.json()["field"] == "id"
    client.post("/admin/scenes", json={"name": "fresh"})
    r = client.post("/admin/scenes/fresh/buckets/base/rollback")
    assert r.status_code == 404 and "no earlier deployment" in r.json()["message"]


def test_versions_lists_the_commits_of_a_script(client: TestClient, strategies_dir: Path) -> None:
    r = client.get("/admin/scripts/versions", params={"path": "noop.py"})
    assert r.status_code == 404 and "not inside a git repository" in r.json()["message"]
    env = ["-c", "user.name=Ada", "-c", "user.email=ada@example.com"]
    subprocess.run(["git", "init", "-q", str(strategies_dir)], check=True)
    subprocess.run(["git", "-C", str(strategies_dir), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(strategies_dir), *env, "commit", "-qm", "demo"], check=True)
    rows = client.get("/admin/scripts/versions", params={"path": "noop.py"}).json()
    assert [(r["author"], r["message"]) for r in rows] == [("Ada", "demo")]


def test_a_commit_and_the_working_tree_serve_two_buckets_side_by_side(
    client: TestClient, strategies_dir: Path
) -> None:
    (strategies_dir / "team").mkdir()
    (strategies_dir / "team" / "pick.py").write_text(
        "from prism_sdk import Item\n\nfrom . import names\n\n\n"
        "def recommend(ctx):\n    return [Item(str(i), 1.0, names.CHANNEL) for i in range(1, 30)]\n"
    )
    (strategies_dir / "team" / "names.py").write_text("CHANNEL = 'committed'\n")
    env = ["-c", "user.name=Ada", "-c", "user.email=ada@example.com"]
    subprocess.run(["git", "init", "-q", str(strategies_dir)], check=True)
    subprocess.run(["git", "-C", str(strategies_dir), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(strategies_dir), *env, "commit", "-qm", "pick"], check=True)
    commit = subprocess.run(
        ["git", "-C", str(strategies_dir), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    (strategies_dir / "team" / "names.py").write_text("CHANNEL = 'working'\n")

    client.post(
        "/admin/scenes/home_feed/experiments",
        json={
            "name": "ab",
            "buckets": [{"name": "a", "percent": 50}, {"name": "b", "percent": 50}],
        },
    )
    client.post("/admin/configs", json={"script": "team/pick.py", "name": "default"})
    for bucket, version in (("a", commit), ("b", "worktree")):
        r = client.post(
            "/admin/deployments",
            json={
                "scene": "home_feed",
                "bucket": bucket,
                "script": "team/pick.py",
                "version": version,
            },
        )
        assert r.status_code == 201, r.text
    seen = {}
    for uid in range(30):
        body = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": str(uid)}).json()
        seen[body["experiment"]["bucket"]] = (
            body["strategy"]["version"],
            "+".join(parse_acm(body["items"][0]["acm"]).channels),
        )
    assert seen["a"] == (commit[:12], "committed")
    assert seen["b"][0].startswith("wt-") and seen["b"][1] == "working"


def test_old_versions_are_unloaded_beyond_the_recent_few(
    client: TestClient, strategies_dir: Path
) -> None:
    def loaded() -> set[str]:
        return {n.split(".")[0] for n in sys.modules if n.startswith(PKG_PREFIX)}

    script = strategies_dir / "churn.py"
    client.post("/admin/configs", json={"script": "noop.py", "name": "default"})
    before = loaded()
    for i in range(KEEP_IDLE + 5):
        script.write_text(
            f"from prism_sdk import Item\n\ndef recommend(ctx):\n    return [Item('{i}')]\n"
        )
        client.post("/admin/configs", json={"script": "churn.py", "name": "default"})
        r = client.post("/admin/deployments", json={"scene": "cart", "script": "churn.py"})
        assert r.status_code == 201, r.text
    new = loaded() - before
    assert len(new) <= KEEP_IDLE + 1 + 1  # idle versions + the live one (+ the config check)
    body = client.post("/v1/recommend", json={"scene": "cart", "user_id": "1"}).json()
    assert body["items"][0]["item_id"] == str(KEEP_IDLE + 4)
