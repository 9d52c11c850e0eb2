"""``prism replay FILE --candidate SCRIPT[@VERSION]`` in process, on the node ``PRISM_*``
describes: JSON and text reports, ``--record-data`` then ``--data`` (the same results),
``--fail-if`` exit codes, ``--analysis`` columns, usage errors naming what is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from prism_platform.app import PrismApp
from prism_platform.cli.main import main
from tests.platform.replay.conftest import plant_versions, serve


@pytest.fixture
def sample(app: PrismApp, tmp_path: Path) -> Path:
    """40 home_feed requests the demo app served, as ``prism samples export`` writes them."""
    path = tmp_path / "home.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in serve(app, range(1, 41))))
    return path


@pytest.fixture
def cli(
    app: PrismApp, tmp_path: Path, strategies_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> CliRunner:
    """The environment of the app's node: its database (the demo seeded), var and scripts
    (a repository with planted versions); its data a small demo world."""
    plant_versions(strategies_dir)
    # a loaded machine may stall a request past 80 ms: a fallback is not what is tested
    app.control.update_scene("home_feed", deadline_ms=10_000, actor="t")
    monkeypatch.setenv("PRISM_DATABASE_URL", f"sqlite:///{tmp_path}/prism.db")
    monkeypatch.setenv("PRISM_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PRISM_STRATEGIES_DIR", str(strategies_dir))
    monkeypatch.setenv("PRISM_DEMO", "1")
    monkeypatch.setenv("PRISM_DEMO_SCALE", "0.05")
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def run(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(main, ["replay", *args])


def report_of(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_record_then_replay_the_snapshot_with_the_same_results(
    cli: CliRunner, sample: Path, tmp_path: Path
) -> None:
    snap = tmp_path / "home.data.json"
    args = [str(sample), "--candidate", "home_feed.py@drop_usercf", "--json"]
    recorded = report_of(run(cli, *args, "--record-data", str(snap)))
    assert recorded["requests"] == 40 and recorded["data"]["recorded_reads"] > 40
    assert "channel_share.usercf" in recorded["diff"]["changed"]
    replayed = report_of(
        run(cli, *args, "--data", str(snap), "--out", "r.json", "--html", "r.html")
    )
    assert (tmp_path / "r.html").read_text().lstrip().lower().startswith("<!doctype html")
    assert replayed["data"]["source"] == "snapshot"
    assert replayed["diff"]["rbo_values"] == recorded["diff"]["rbo_values"]
    assert replayed["diff"]["channel_share"] == recorded["diff"]["channel_share"]
    assert json.loads((tmp_path / "r.json").read_text())["diff"] == replayed["diff"]


def test_fail_if_gives_exit_1_with_the_rules_that_hold(cli: CliRunner, sample: Path) -> None:
    result = run(
        cli,
        str(sample),
        "--candidate",
        "home_feed.py@raise_5pct",
        "--fail-if",
        "error_rate>0.01,rbo<0.5",
        "--fail-if",
        "p99_ms>10000",
    )
    assert result.exit_code == 1, result.output
    assert "fail-if: error_rate>0.01: " in result.stderr
    assert "rbo<0.5" not in result.stderr and "p99_ms" not in result.stderr
    assert "changed beyond the noise:" in result.stdout
    assert "B exception x" in result.stdout and "RuntimeError: planted" in result.stdout
    same = run(cli, str(sample), "--candidate", "home_feed.py", "--fail-if", "rbo<0.99")
    assert same.exit_code == 0, same.output
    assert "A vs B: RBO 1 (A vs A′ 1)" in same.stdout


def test_analysis_columns_are_aggregated(cli: CliRunner, sample: Path, tmp_path: Path) -> None:
    (tmp_path / "checks.py").write_text(
        "def sizes(request, a, b):\n"
        "    return {'size_gap': len(b['items']) - len(a['items']), 'asked': request['size']}\n"
    )
    report = report_of(
        run(cli, str(sample), "--candidate", "home_feed.py", "--analysis", "checks:sizes", "--json")
    )
    assert report["analysis"]["size_gap"]["max"] == 0.0
    assert report["analysis"]["asked"] == {
        "mean": 10.0,
        "p50": 10.0,
        "min": 10.0,
        "max": 10.0,
        "count": 40,
    }


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--fail-if", "speed>1"], "unknown fail-if metric 'speed'"),
        (["--fail-if", "rbo=1"], "'rbo=1' is not METRIC<VALUE"),
        (["--url", "http://127.0.0.1:9", "--data", "x.json"], "--data and --record-data"),
        (["--data", "a.json", "--record-data", "b.json"], "record data or serve a snapshot"),
        (["--analysis", "nocolon"], "module:function"),
    ],
)
def test_usage_errors_exit_2_naming_the_problem(
    cli: CliRunner, sample: Path, args: list[str], says: str
) -> None:
    result = run(cli, str(sample), "--candidate", "home_feed.py", *args)
    assert result.exit_code == 2, result.output
    assert says in result.output


def test_a_replay_that_cannot_run_exits_3_naming_why(cli: CliRunner, sample: Path) -> None:
    gone = run(cli, str(sample), "--candidate", "home_feed.py", "--data", "missing.json")
    assert gone.exit_code == 3 and "cannot read the data snapshot missing.json" in gone.output
    nope = run(cli, str(sample), "--candidate", "nope.py")
    assert nope.exit_code == 3 and "nope.py: no such script" in nope.output
