"""`prism bench-script SCRIPT[@VERSION] --sample FILE [--against VERSION]`: versions from
a real git repository, planted regressions (a version that sleeps 20 ms in a stage, one
that builds a big list) showing up side by side; directions with generous margins."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from prism_platform.cli.main import main
from prism_sdk import LocalBackend
from prism_testkit.bench import bench, percentile
from prism_testkit.lab import StrategyLab
from prism_testkit.repo import git, plant, sleep_in_merge, strategies_repo
from prism_testkit.sample_file import read_samples

REPO = Path(__file__).resolve().parents[2]


def hog(source: str) -> str:
    """Build (and drop) a list of two million references: 16 MB."""
    return re.sub(
        r"(def recommend\(.*\n)", r"\1    hog = [0] * 2_000_000\n    del hog\n", source, count=1
    )


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A strategies repository: tag ``fast`` (home_feed as it is), ``slow`` and ``hog``."""
    repo = tmp_path_factory.mktemp("bench") / "strategies"
    strategies_repo(REPO / "strategies", repo)
    git(repo, "tag", "fast")
    plant(repo, "slow", sleep_in_merge)
    plant(repo, "hog", hog)
    return repo


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "home.jsonl"
    lines = [
        {"v": 1, "scene": "home_feed", "user_id": str(u), "size": 10, "context": {"page": "home"},
         "exclude": [], "bucket": "base", "items": ["1"], "latency_ms": 1.0}
        for u in range(1, 9)
    ]  # fmt: skip
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


@pytest.fixture
def cli(versions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PRISM_STRATEGIES_DIR", str(versions))
    monkeypatch.setenv("PRISM_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PRISM_DEMO", "1")
    monkeypatch.setenv("PRISM_DEMO_SCALE", "0.05")
    return CliRunner()


def bench_json(cli: CliRunner, *args: str) -> list[dict[str, Any]]:
    out = cli.invoke(main, ["bench-script", *args, "--repeat", "2", "--warmup", "4", "--json"])
    assert out.exit_code == 0, out.output
    versions: list[dict[str, Any]] = json.loads(out.output)["versions"]
    return versions


def test_a_version_that_sleeps_shows_a_higher_p50_side_by_side(
    cli: CliRunner, sample: Path
) -> None:
    slow_v, fast_v = bench_json(
        cli, "home_feed.py@slow", "--against", "fast", "--sample", str(sample)
    )
    assert slow_v["strategy"].startswith("home_feed@") and slow_v["requests"] == 16
    assert slow_v["total_ms"]["p50"] > fast_v["total_ms"]["p50"] + 10
    assert slow_v["stages_ms"]["merge"]["p50"] > fast_v["stages_ms"]["merge"]["p50"] + 10
    assert slow_v["stages_ms"]["source.tables"]["p50"] < 10  # the other stages did not slow
    assert slow_v["round_trips"] == fast_v["round_trips"] == 4
    assert slow_v["calls"] == fast_v["calls"] and fast_v["calls"]["table:i2i"] == 1
    assert fast_v["errors"] == slow_v["errors"] == {}


def test_a_version_that_builds_a_big_list_shows_a_higher_peak(cli: CliRunner, sample: Path) -> None:
    hog_v, fast_v = bench_json(
        cli, "home_feed.py@hog", "--against", "fast", "--sample", str(sample)
    )
    hog_peak, fast_peak = hog_v["memory"]["peak_kib"]["p50"], fast_v["memory"]["peak_kib"]["p50"]
    assert hog_peak > fast_peak + 8 * 1024  # the list is 16 MB
    assert hog_v["memory"]["retained_kib"] < 1024  # and it is dropped


def test_the_side_by_side_table(cli: CliRunner, sample: Path) -> None:
    args = ["bench-script", "home_feed.py@slow", "--against", "fast", "--sample", str(sample)]
    out = cli.invoke(main, [*args, "--repeat", "1", "--warmup", "2", "--no-memory"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == "8 requests x 1 rounds after 2 warm-up requests, data: local"
    head = lines[1].split()
    assert re.fullmatch(r"home_feed@[0-9a-f]{12}", head[0]) and head[-1] == "ratio"
    rows = {re.split(r"\s{2,}", line.strip())[0]: line.split() for line in lines[2:]}
    assert float(rows["total p50 ms"][-1].rstrip("x")) > 2  # slow over fast
    assert rows["round trips / request"][-1] == "1.00x"
    assert {"merge p50 ms", "table:i2i", "errors"} <= set(rows)
    assert "peak KiB p50" not in rows


def test_the_working_tree_alone_and_bad_input(cli: CliRunner, sample: Path, tmp_path: Path) -> None:
    args = ["bench-script", "home_feed.py", "--sample", str(sample), "--repeat", "1"]
    out = cli.invoke(main, [*args, "--warmup", "0", "--limit", "2", "--no-memory"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("2 requests x 1 rounds") and "ratio" not in out.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text(sample.read_text() + '{"v": 2, "scene": "home_feed", "user_id": "1"}\n')
    out = cli.invoke(main, ["bench-script", "home_feed.py", "--sample", str(bad)])
    assert out.exit_code == 1 and f"{bad}:9: sample format version 2 is not known" in out.output
    out = cli.invoke(main, [*args, "--against", "no-such-tag"])
    assert out.exit_code == 1 and "no commit 'no-such-tag'" in out.output


def test_requests_that_raise_are_counted_not_timed(
    versions: Path, sample: Path, prism_data: LocalBackend, tmp_path: Path
) -> None:
    repo = tmp_path / "strategies"
    strategies_repo(REPO / "strategies", repo)
    (repo / "picky.py").write_text(
        "from prism_sdk import Context, Item\n\n\n"
        "def recommend(ctx: Context) -> list[Item]:\n"
        "    if ctx.user_id in ('3', '5'):\n"
        "        raise ValueError('not this user')\n"
        "    return [Item('1', 1.0)]\n"
    )
    lab = StrategyLab(repo, prism_data)
    [measured] = bench(lab, [lab.strategy("picky.py")], read_samples(sample), repeat=2, warmup=0)
    assert measured.errors == {"ValueError: not this user": 4}
    assert len(measured.total_ms) == 12 and percentile(measured.total_ms, 99) < 1000
