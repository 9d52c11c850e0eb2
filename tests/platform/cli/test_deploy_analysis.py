"""``prism deploy --canary N --abort-if ... --promote-after ...``, against an app
in-process: the options become the canary's analysis; a bad one names the option."""

from __future__ import annotations

import json
from contextlib import nullcontext
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.cli import client as cli_client
from prism_platform.cli.canary_options import FIGURES
from prism_platform.cli.main import main
from prism_platform.db.canary_analysis import THRESHOLDS

DEPLOY = ["deploy", "--scene", "home_feed", "--script", "noop.py"]


@pytest.fixture
def cli(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(cli_client, "open_client", lambda url: nullcontext(client))
    client.post("/admin/configs", json={"script": "noop.py", "name": "default"})
    return CliRunner()


def _deployed(cli: CliRunner, *args: str) -> dict[str, Any]:
    out = cli.invoke(main, [*DEPLOY, *args])
    assert out.exit_code == 0, out.output
    return dict(json.loads(out.output)["deployment"])


def test_the_options_become_the_canarys_analysis(cli: CliRunner, client: TestClient) -> None:
    dep = _deployed(
        cli,
        "--canary", "10",
        "--abort-if", "error_rate>2%",
        "--abort-if", "fallback_rate > 0.05",
        "--abort-if", "p99_ms>100ms",
        "--abort-if", "ctr_drop>10%",
        "--min-requests", "200",
        "--min-exposures", "5000",
        "--promote-after", "30m",
    )  # fmt: skip
    assert dep["canary_analysis"] == {
        "max_error_rate": 0.02,
        "max_fallback_rate": 0.05,
        "max_p99_ms": 100.0,
        "max_ctr_drop": 0.1,
        "min_requests": 200,
        "min_exposures": 5000,
        "promote_after_s": 1800.0,
    }
    [listed] = client.get("/admin/canaries").json()
    assert listed["deployment_id"] == dep["id"] and listed["verdict"] is None
    plain = _deployed(cli, "--canary", "10")
    assert plain["canary_analysis"] is None


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--canary", "10", "--abort-if", "latency>80"], "'--abort-if': unknown figure 'latency'"),
        (["--canary", "10", "--abort-if", "p99_ms=80"], "'--abort-if': 'p99_ms=80' is not"),
        (["--canary", "10", "--abort-if", "p99_ms>80%"], "p99_ms takes ms, not '%'"),
        (["--canary", "10", "--abort-if", "error_rate>2ms"], "error_rate takes a share"),
        (["--canary", "10", "--promote-after", "soon"], "'--promote-after': 'soon' is not"),
        (["--canary", "10", "--min-requests", "0"], "'--min-requests'"),
        (["--canary", "10", "--min-requests", "50"], "an --abort-if threshold or --promote-after"),
        (["--abort-if", "p99_ms>80"], "--abort-if judges a canary: give --canary"),
        (["--promote-after", "1h"], "--promote-after judges a canary"),
    ],
)
def test_a_bad_option_is_named(cli: CliRunner, args: list[str], phrase: str) -> None:
    out = cli.invoke(main, [*DEPLOY, *args])
    assert out.exit_code == 2 and phrase in out.output, out.output


def test_a_range_the_node_refuses_names_the_analysis_field(cli: CliRunner) -> None:
    out = cli.invoke(main, [*DEPLOY, "--canary", "10", "--abort-if", "error_rate>1.5"])
    assert out.exit_code == 1 and "analysis.max_error_rate" in out.output, out.output


def test_the_figures_are_the_analysis_thresholds() -> None:
    assert sorted(FIGURES) == sorted(THRESHOLDS.values())
    assert all(THRESHOLDS[f"max_{figure}"] == figure for figure in FIGURES)
