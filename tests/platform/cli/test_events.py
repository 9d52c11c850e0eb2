"""`prism events aggregate` and `prism experiments report`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from prism_platform.cli.experiments import render
from prism_platform.cli.main import main
from prism_platform.db import MetadataStore
from prism_platform.events.event import StoredEvent
from prism_platform.events.sqlite_sink import SqliteSink
from prism_platform.experiments.report import ReportParams, experiment_report
from prism_sdk import Acm


def test_aggregate_then_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = f"sqlite:///{tmp_path / 'prism.db'}"
    monkeypatch.setenv("PRISM_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PRISM_DATABASE_URL", db)
    store = MetadataStore(db)
    store.upgrade()
    store.create_scene("feed")
    store.start_experiment("feed", "ab", [("a", 50), ("b", 50)])
    log = SqliteSink(tmp_path / "var" / "events.db")
    now = time.time()
    events = []
    for bucket, clicks in (("a", 5), ("b", 9)):
        for i in range(100):  # 10 users, 10 items each
            user = f"u{i // 10}"
            acm = Acm("feed", bucket, "s", "v", ("c",), i % 10 + 1, f"r{i // 10}")
            token = acm.sign(b"k", user, f"i{i % 10}")
            kinds = ["exposure"] + (["click"] if i < clicks else [])
            events += [
                StoredEvent(f"{bucket}{i}{k}", k, token, user, f"i{i % 10}", now, None, now)
                for k in kinds
            ]
    log.append(events)
    log.close()

    result = CliRunner().invoke(main, ["events", "aggregate"])
    assert result.exit_code == 0, result.output
    assert "aggregated 214 events" in result.output
    assert "aggregated 0 events" in CliRunner().invoke(main, ["events", "aggregate"]).output

    text = render(experiment_report(store, "feed", ReportParams()))
    store.dispose()
    lines = text.splitlines()
    assert lines[0].startswith("feed / ab (running") and "control a" in lines[0]
    assert lines[2].split()[:7] == ["a", "50", "10", "100", "5", "0", "5.00%"]
    assert "(control)" in lines[2] and "+80.0%" in lines[3] and " *" not in lines[3]
    assert "users per bucket" in lines[4] and "(not enough yet)" in lines[4]
    assert "sample ratio (users)" in lines[5] and lines[5].endswith("ok")


def test_report_of_an_unreachable_node_fails_cleanly() -> None:
    result = CliRunner().invoke(
        main, ["experiments", "report", "feed", "--url", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 1 and "cannot reach" in result.output
