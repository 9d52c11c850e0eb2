"""The shipped locustfile runs headless against a real demo node with its step shape
(Locust patches the standard library with gevent: it runs in a process of its own)."""

from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SampledNode

pytestmark = pytest.mark.slow


def test_locust_replays_the_sample_in_steps(sampled_node: SampledNode, tmp_path: Path) -> None:
    spec = importlib.util.find_spec("prism_testkit.locustfile")
    assert spec is not None and spec.origin is not None
    steps = {"PRISM_STEP_USERS": "2", "PRISM_STEP_S": "2", "PRISM_MAX_USERS": "4"}
    env = {**os.environ, "PRISM_SAMPLE": str(sampled_node.sample), "PRISM_USER_RPS": "5"}
    args = ["-f", spec.origin, "--headless", "--host", sampled_node.url, "-t", "20s"]
    args += ["--csv", str(tmp_path / "run"), "--only-summary", "--loglevel", "WARNING"]
    done = subprocess.run(
        [sys.executable, "-m", "locust", *args],
        env={**env, **steps},
        capture_output=True,
        text=True,
        timeout=90,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with open(tmp_path / "run_stats.csv", newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"recommend home_feed", "Aggregated"}
    count, failures = int(rows["Aggregated"]["Request Count"]), rows["Aggregated"]["Failure Count"]
    # two steps of 2 s, 2 then 4 users at 5 requests a second each: about 60 requests
    assert 20 <= count <= 80, count
    assert failures == "0"
