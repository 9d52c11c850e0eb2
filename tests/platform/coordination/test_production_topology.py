"""The production topology, small, on one machine (``prism cluster up``): three nodes on
one real ZooKeeper, Redis Cluster (data, event log, samples) and PostgreSQL database
together. A deploy through one node reaches all three, and the traffic they served,
exported as a sample and replayed against every node, gets the same answers from each."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from prism_testkit.postgres import POSTGRES_URL, PostgresServer
from prism_testkit.services import free_port_run

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[3]
NODES = 3
USERS = [str(u) for u in range(1, 31)]
WAIT_S = 30


def prism(args: list[str], env: Mapping[str, str], timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "prism_platform", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"prism {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass
class Topology:
    folder: Path
    strategies: Path
    urls: list[str]
    env: dict[str, str]  # this environment, the cluster's settings, its token file


@pytest.fixture(scope="module")
def topology(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer
) -> Iterator[Topology]:
    work = tmp_path_factory.mktemp("topology")
    strategies = work / "strategies"
    shutil.copytree(REPO / "strategies", strategies, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PRISM_STRATEGIES_DIR": str(strategies)}
    env["PRISM_REDIS_TIMEOUT_MS"] = "1000"  # a busy machine makes no answer degraded
    folder = work / "cluster"
    args = ["cluster", "up", "--dir", str(folder), "--nodes", str(NODES)]
    args += ["--port", str(free_port_run(NODES)), "--postgres", POSTGRES_URL]
    args += ["--database", f"prism_test_{secrets.token_hex(6)}", "--scale", "0.06"]
    try:
        out = prism(args, env)
        urls = [line.split()[1] for line in out.splitlines() if line.startswith("node")]
        shared = dict(
            line.split("=", 1)
            for line in (folder / "cluster.env").read_text().splitlines()
            if line and not line.startswith("#")
        )
        yield Topology(folder, strategies, urls, {**env, **shared})
    finally:
        if (folder / "state.json").exists():
            prism(["cluster", "down", "--dir", str(folder)], env)


def _recommend(url: str, body: Mapping[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{url}/v1/recommend", json=dict(body), timeout=10)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    assert answer["degraded"] is False, answer
    return answer


def _admin(url: str, path: str, env: Mapping[str, str], **params: str) -> httpx.Response:
    """``GET`` an admin path with the token ``prism cluster up`` saved."""
    token = Path(env["PRISM_TOKEN_FILE"]).read_text().strip()
    headers = {"Authorization": f"Bearer {token}"}
    r = httpx.get(f"{url}{path}", params=params, headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    return r


def _registered(url: str, env: Mapping[str, str]) -> set[str]:
    return {n["node"] for n in status_of(url, env)}


def status_of(url: str, env: Mapping[str, str]) -> list[dict[str, Any]]:
    """What each live node reports it serves (``prism status``'s ``nodes``)."""
    return list(_admin(url, "/admin/status", env).json()["nodes"])


def _samples(url: str, env: Mapping[str, str]) -> list[str]:
    return _admin(url, "/admin/samples", env, scene="home_feed").text.splitlines()


def test_three_nodes_serve_one_deploy_and_answer_a_replayed_sample_alike(
    topology: Topology,
) -> None:
    t, env = topology, topology.env
    status = json.loads(prism(["cluster", "status", "--dir", str(t.folder)], env))
    assert status["ok"] and sorted(status["nodes"]) == ["node1", "node2", "node3"], status
    assert sorted(status["services"]) == ["redis", "zookeeper"]
    deadline = time.monotonic() + WAIT_S
    while _registered(t.urls[0], env) != {"node1", "node2", "node3"}:
        assert time.monotonic() < deadline, "the nodes did not all register in ZooKeeper"
        time.sleep(0.1)

    # a new version of home_feed whose recent-behaviour window holds every demo event, so
    # no answer depends on the second it is asked in; a deadline (and so a read budget)
    # no busy machine misses, set before any request: a node's first one is slower
    status = _admin(t.urls[0], "/admin/status", env).json()
    before = status["scenes"]["home_feed"]["buckets"][0]["version"]
    script = t.strategies / "home_feed.py"
    old, new = "recent_window_h: float = 72.0", "recent_window_h: float = 24.0 * 365"
    assert old in script.read_text()
    script.write_text(script.read_text().replace(old, new))
    prism(["scene-set", "home_feed", "--deadline-ms", "2000", "--url", t.urls[0]], env)
    deployed = json.loads(
        prism(
            ["deploy", "--url", t.urls[1], "--scene", "home_feed", "--script", "home_feed.py"]
            + ["--wait", str(WAIT_S)],
            env,
        )
    )
    assert deployed["rollout"]["complete"] is True, deployed["rollout"]

    # traffic through every node: each answers with the new version at once
    versions = set()
    for i, user in enumerate(USERS):
        answer = _recommend(t.urls[i % NODES], {"scene": "home_feed", "user_id": user})
        versions.add(answer["strategy"]["version"])
    assert len(versions) == 1 and versions != {before}, (versions, before)
    served = {n["node"]: n["serving"]["home_feed/base"] for n in status_of(t.urls[2], env)}
    assert set(served.values()) == {f"home_feed.py@{versions.pop()}:default"}, served

    # the sample: every node wrote its requests to the one Redis Stream of the scene
    deadline = time.monotonic() + WAIT_S
    while len(_samples(t.urls[2], env)) < len(USERS):
        assert time.monotonic() < deadline, "the nodes' samples did not all arrive"
        time.sleep(0.1)
    sample_file = t.folder.parent / "home_feed.jsonl"
    prism(["samples", "export", "--url", t.urls[2], "--scene", "home_feed"]
          + ["--out", str(sample_file)], env)  # fmt: skip
    sample = [json.loads(line) for line in sample_file.read_text().splitlines()]
    assert sorted(s["user_id"] for s in sample) == sorted(USERS)

    # replayed against every node: the recorded answer, from each of them
    for recorded in sample:
        request = {k: recorded[k] for k in ("scene", "user_id", "size", "context", "exclude")}
        answers = {url: _recommend(url, request) for url in t.urls}
        for url, answer in answers.items():
            assert [i["item_id"] for i in answer["items"]] == recorded["items"], (url, recorded)
            assert f"home_feed@{answer['strategy']['version']}" == recorded["strategy"]
