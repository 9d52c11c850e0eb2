"""The JavaScript events client (clients/js/prism-events.mjs) against a real demo node:
a recommend answer's exposures (each sent once however often reported) and a click
reach ``/v1/events`` and the node counts them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from prism_testkit.accounts import seeded_headers
from prism_testkit.cluster import Cluster, demo_env, seed_demo

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "clients" / "js" / "e2e.mjs"
NODE = shutil.which("node")
USER = "42"


@pytest.fixture
def node_url(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    strategies = tmp_path / "strategies"
    shutil.copytree(REPO / "strategies", strategies, ignore=shutil.ignore_patterns("__pycache__"))
    env = demo_env(tmp_path, strategies, scale=0.04)
    seed_demo(env)
    cluster = Cluster(tmp_path, env)
    try:
        yield cluster.start_node().url, seeded_headers(env)
    finally:
        cluster.stop()


def send(url: str, items: list[dict[str, str]]) -> dict[str, object]:
    """Run the client script; its final stats."""
    assert NODE is not None, "node (Debian package nodejs) is needed: apt-get install nodejs"
    done = subprocess.run(
        [NODE, str(SCRIPT), url, USER, json.dumps(items)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    stats: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return stats


def accepted_on_node(url: str, headers: dict[str, str], outcome: str) -> int:
    text = httpx.get(f"{url}/metrics", headers=headers, timeout=10).text
    found = re.search(
        rf'^prism_events_total\{{outcome="{outcome}",reason="-"\}} (\S+)$', text, re.M
    )
    return int(float(found.group(1))) if found else 0


def test_exposures_and_a_click_reach_the_node(node_url: tuple[str, dict[str, str]]) -> None:
    url, admin = node_url
    body = {"scene": "home_feed", "user_id": USER, "size": 3}
    answer = httpx.post(f"{url}/v1/recommend", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    items = [{"item_id": i["item_id"], "acm": i["acm"]} for i in answer.json()["items"]]
    assert len(items) == 3

    first = send(url, items)
    # three exposures (each reported twice, sent once) and one click
    assert first["sent"] == 4, first
    assert first["accepted"] == 4, first
    assert (first["duplicates"], first["rejected"], first["failed"]) == (0, 0, 0), first

    again = send(url, items)  # a new client: the node itself knows these tokens now
    assert again["sent"] == 4, again
    assert (again["accepted"], again["duplicates"]) == (0, 4), again

    deadline = time.monotonic() + 15
    while accepted_on_node(url, admin, "accepted") < 4 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert accepted_on_node(url, admin, "accepted") == 4
    assert accepted_on_node(url, admin, "duplicate") == 4
