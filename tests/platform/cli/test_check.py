from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from prism_platform.cli.main import main


def test_check_runs_a_script_on_sample_requests(
    strategies_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRISM_STRATEGIES_DIR", str(strategies_dir))
    monkeypatch.setenv("PRISM_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PRISM_DEMO", "0")
    result = CliRunner().invoke(main, ["check", "noop.py", "--user", "1"])
    assert result.exit_code == 0, result.output
    assert "loaded noop@wt-" in result.output and "user 1: 10 items" in result.output


def test_check_reports_a_bad_config_and_fails(
    strategies_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRISM_STRATEGIES_DIR", str(strategies_dir))
    result = CliRunner().invoke(main, ["check", "home_feed.py", "--params", '{"quota_i2i": "x"}'])
    assert result.exit_code == 1
    assert "home_feed.py:" in result.output and "quota_i2i" in result.output


def test_check_rejects_non_json_params() -> None:
    result = CliRunner().invoke(main, ["check", "noop.py", "--params", "{oops"])
    assert result.exit_code == 2 and "not JSON" in result.output


def test_commands_that_need_a_node_say_when_it_is_unreachable() -> None:
    result = CliRunner().invoke(main, ["status", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and "cannot reach http://127.0.0.1:9" in result.output
