"""Report files: the JSON, the HTML with the plot embedded, and the previous report of
the same scene and URL."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

from prism_testkit.stress.report import KIND, previous_report, write_report

URL = "http://127.0.0.1:8000"


def a_step(rate: float, p99: float | None, passed: bool) -> dict[str, Any]:
    return {
        "rate": rate, "achieved_rps": rate, "p50_ms": None if p99 is None else p99 / 3,
        "p90_ms": p99, "p99_ms": p99, "max_ms": p99, "error_rate": 0.0, "errors": {},
        "on_time": 1.0, "target_cpu": 0.5, "target_rss_mb": 200.0, "client_cpu": 0.1,
        "passed": passed,
    }  # fmt: skip


def a_report(scene: str, started: str, capacity: float | None, url: str = URL) -> dict[str, Any]:
    return {
        "kind": KIND, "version": 1, "started_at": started, "url": url, "scene": scene,
        "sample": {"path": "s.jsonl", "requests": 10}, "slo_ms": 80.0,
        "slo_source": "--slo-ms", "max_error_rate": 0.01, "client_ceiling_rps": 4000.0,
        "target": "node n1 pid 1", "capacity": {"rps": capacity, "text": f"{capacity} rps"},
        "steps": [a_step(100, 5.0, True), a_step(200, 120.0, False), a_step(300, None, False)],
        "previous": None, "regression": {"threshold": 0.2, "regressed": False},
        "production": None,
    }  # fmt: skip


def test_a_report_is_a_json_and_an_html_with_the_plot(tmp_path: Path) -> None:
    report = a_report("home_feed", "2026-01-02T03:04:05+00:00", 100)
    json_path, html_path = write_report(report, tmp_path / "stress", "20260102T030405Z")
    assert json_path == tmp_path / "stress" / "20260102T030405Z-home_feed.json"
    assert html_path == json_path.with_suffix(".html")
    assert json.loads(json_path.read_text()) == report
    html = html_path.read_text()
    found = re.search(r'<img alt="[^"]+" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert found is not None
    assert base64.b64decode(found.group(1)).startswith(b"\x89PNG\r\n\x1a\n")
    assert "Capacity: 100 rps" in html
    assert html.count("<tr>") == 4  # the header and three steps


def test_a_second_report_of_the_same_second_gets_its_own_name(tmp_path: Path) -> None:
    report = a_report("home_feed", "2026-01-02T03:04:05+00:00", 100)
    first, _ = write_report(report, tmp_path, "20260102T030405Z")
    second, _ = write_report(report, tmp_path, "20260102T030405Z")
    assert first != second and second.name == "20260102T030405Z-home_feed-2.json"


def test_the_previous_report_is_the_latest_of_the_scene_and_url(tmp_path: Path) -> None:
    assert previous_report(tmp_path / "none", "home_feed", URL) is None
    for report, stamp in [
        (a_report("home_feed", "2026-01-01T00:00:00+00:00", 100), "20260101T000000Z"),
        (a_report("home_feed", "2026-01-03T00:00:00+00:00", 300), "20260103T000000Z"),
        (a_report("home_feed", "2026-01-02T00:00:00+00:00", 200), "20260102T000000Z"),
        (a_report("search", "2026-01-04T00:00:00+00:00", 400), "20260104T000000Z"),
        (a_report("home_feed", "2026-01-05T00:00:00+00:00", 500, "http://10.0.0.2:8000"),
         "20260105T000000Z"),
    ]:  # fmt: skip
        write_report(report, tmp_path, stamp)
    (tmp_path / "notes.json").write_text('{"kind": "something else"}')
    (tmp_path / "broken.json").write_text("{")
    found = previous_report(tmp_path, "home_feed", URL)
    assert found is not None
    assert found[0].name == "20260103T000000Z-home_feed.json"
    assert found[1]["capacity"]["rps"] == 300
