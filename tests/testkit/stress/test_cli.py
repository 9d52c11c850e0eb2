"""``prism stress`` end to end: a short ramp of a real demo node's sample (slow: it starts
a node). The capacity it reports is a bench figure, not asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import SampledNode

pytestmark = pytest.mark.slow

SHORT_RAMP = ["--start-rps", "20", "--step-rps", "20", "--max-rps", "40", "--step-s", "1"]
SHORT_RAMP += ["--warmup-s", "0", "--refine", "0", "--ceiling-s", "0.3"]


def stress(node: SampledNode, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "prism_platform", "stress", "--sample", str(node.sample), *args],
        env={**os.environ, **node.env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def test_a_short_ramp_reports_a_capacity(sampled_node: SampledNode, tmp_path: Path) -> None:
    out = tmp_path / "stress"
    code, output = stress(sampled_node, *SHORT_RAMP, "--out", str(out), "--json")
    assert code == 0, output
    (json_path,) = out.glob("*-home_feed.json")
    report = json.loads(json_path.read_text())
    assert report["scene"] == "home_feed" and report["url"] == sampled_node.url
    assert (report["slo_ms"], report["slo_source"]) == (80.0, "the scene's deadline_ms")
    assert [s["rate"] for s in report["steps"]][:1] == [20.0]
    assert "rps" in report["capacity"] and report["capacity"]["text"]
    assert report["client_ceiling_rps"] > 0
    first = report["steps"][0]
    assert first["scheduled"] == 20 and first["ok"] + sum(first["errors"].values()) == 20
    assert first["target_cpu"] is not None and first["target_rss_mb"] > 20  # read from /proc
    assert report["previous"] is None
    assert 'src="data:image/png;base64,' in json_path.with_suffix(".html").read_text()
    assert "rate/s" in output and "capacity:" in output  # the step table went to stderr


def test_a_capacity_drop_beyond_the_threshold_exits_3(
    sampled_node: SampledNode, tmp_path: Path
) -> None:
    out = tmp_path / "stress"
    out.mkdir()
    earlier: dict[str, Any] = {
        "kind": "prism-stress", "scene": "home_feed", "url": sampled_node.url,
        "started_at": "2000-01-01T00:00:00+00:00", "capacity": {"rps": 1_000_000.0},
    }  # fmt: skip
    (out / "20000101T000000Z-home_feed.json").write_text(json.dumps(earlier))
    one_step = [*SHORT_RAMP, "--max-rps", "20"]  # the last --max-rps counts
    code, output = stress(sampled_node, *one_step, "--slo-ms", "500", "--out", str(out))
    assert code == 3, output
    assert "REGRESSION" in output
    latest = max(out.glob("2*-home_feed.json"))
    report = json.loads(latest.read_text())
    assert report["previous"]["file"] == "20000101T000000Z-home_feed.json"
    assert report["previous"]["capacity_rps"] == 1_000_000.0
    assert report["regression"] == {"threshold": 0.2, "regressed": True}
    assert report["slo_source"] == "--slo-ms"


def test_without_a_token_or_slo_it_asks_for_one(sampled_node: SampledNode, tmp_path: Path) -> None:
    no_token = {"PRISM_TOKEN_FILE": str(tmp_path / "no-token"), "PRISM_TOKEN": ""}
    code, output = stress(sampled_node, "--out", str(tmp_path), env=no_token)
    assert code == 1
    assert "give --slo-ms" in output
    assert not list(tmp_path.glob("*.json"))
