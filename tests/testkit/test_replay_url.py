"""``prism replay --url``: a real node (``prism serve``) runs every arm through its request
debugger, B as a dry run of a script it does not serve; the results match an in-process
replay of the same node's data, and a planted regression fails ``--fail-if``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from prism_testkit.cluster import Cluster, demo_env, prism, seed_demo
from tests.platform.replay.conftest import drop_usercf

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def replay(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prism_platform", "replay", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    """A demo node that served 60 home_feed requests, their sample, and its environment
    (with a script it does not serve: home_feed without the user-CF channel)."""
    work = tmp_path_factory.mktemp("replay-node")
    strategies = work / "strategies"
    shutil.copytree(REPO / "strategies", strategies, ignore=shutil.ignore_patterns("__pycache__"))
    feed = (strategies / "home_feed.py").read_text()
    (strategies / "home_nousercf.py").write_text(drop_usercf(feed))
    env = demo_env(work, strategies, scale=0.04)
    seed_demo(env)
    cluster = Cluster(work, env)
    try:
        url = cluster.start_node().url
        with httpx.Client(base_url=url, timeout=10) as c:
            for n in range(60):
                body = {"scene": "home_feed", "user_id": str(n + 1), "size": 10}
                assert c.post("/v1/recommend", json=body).status_code == 200
        sample = work / "home.jsonl"
        env = {**env, "PRISM_URL": url}
        prism(["samples", "export", "--scene", "home_feed", "--out", str(sample)], env)
        yield url, env, sample
    finally:
        cluster.stop()


def test_a_replay_against_a_node_matches_one_in_process(
    node: tuple[str, dict[str, str], Path],
) -> None:
    url, env, sample = node
    remote = replay(env, str(sample), "--candidate", "home_feed.py", "--url", url, "--json")
    assert remote.returncode == 0, remote.stderr
    report: dict[str, Any] = json.loads(remote.stdout)
    assert report["requests"] == 60 and report["data"]["node"] == url
    assert report["diff"]["rbo"] == 1.0 and report["errors"] == {"A": 0, "A2": 0, "B": 0}
    local = replay(env, str(sample), "--candidate", "home_feed.py", "--json")
    assert local.returncode == 0, local.stderr
    here = json.loads(local.stdout)
    assert here["arms"]["A"]["serves"] == report["arms"]["A"]["serves"]
    # the same answers; an arm that missed its deadline somewhere (a loaded machine) aside
    clean = [arm for arm in ("A", "A2", "B") if here["errors"][arm] == 0]
    assert clean, here["error_kinds"]
    for arm in clean:
        assert here["diff"]["channel_share"][arm] == report["diff"]["channel_share"][arm]
    status = httpx.get(f"{url}/metrics", timeout=10).text
    served = [line for line in status.splitlines() if line.startswith("prism_requests_total{")]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in served) == 60  # replays count nowhere


def test_a_planted_regression_fails_the_rule_over_http(
    node: tuple[str, dict[str, str], Path],
) -> None:
    url, env, sample = node
    args = [str(sample), "--candidate", "home_nousercf.py", "--url", url]
    failed = replay(env, *args, "--fail-if", "channel_share.usercf<0.01")
    assert failed.returncode == 1, failed.stderr
    assert "fail-if: channel_share.usercf<0.01: 0" in failed.stderr
    assert "channel_share.usercf" in failed.stdout
    refused = replay(env, str(sample), "--candidate", "nope.py", "--url", url)
    assert refused.returncode == 3 and "cannot run the candidate" in refused.stderr
