"""The replay's HTML report, rendered from REPORT dicts built here by the schema in
docs/operators/traffic.md (the engine's own reports are rendered end to end in the workbench's
replay tests)."""

from __future__ import annotations

import base64
import copy
import random
import re
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.replay import ReplayOptions
from prism_testkit.replay_report import render_html

PNG = re.compile(r'<img alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')


def judged(a: float, a2: float, b: float, changed: bool, unit: str = "share") -> dict[str, Any]:
    """A metric as the engine judges it (``diff.metrics``)."""
    return {
        "a": a,
        "a2": a2,
        "b": b,
        "delta": abs(b - a),
        "noise": abs(a2 - a),
        "changed": changed,
        "unit": unit,
    }


def full_report(requests: int = 200, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)

    def latencies(centre: float) -> list[float]:
        return [round(rng.lognormvariate(0, 0.4) * centre, 3) for _ in range(requests)]

    values = {"A": latencies(2.0), "A2": latencies(2.0), "B": latencies(3.5)}

    def pct(v: list[float], q: float) -> float:
        return sorted(v)[min(len(v) - 1, int(q * len(v)))]

    rbo = [rng.uniform(0.3, 0.8) for _ in range(requests)]
    noise = [rng.uniform(0.9, 1.0) for _ in range(requests)]
    return {
        "v": 1,
        "scene": "home_feed",
        "requests": requests,
        "hashed_users": True,
        "arms": {
            "A": {"serves": "home_feed@wt-5e047266af:default"},
            "A2": {"serves": "home_feed@wt-5e047266af:default"},
            "B": {"serves": "popular_only@wt-5e047266af:default"},
        },
        "latency_ms": {
            a: {
                "p50": pct(v, 0.5),
                "p90": pct(v, 0.9),
                "p99": pct(v, 0.99),
                "mean": sum(v) / len(v),
            }
            for a, v in values.items()
        },
        "latency_values": values,
        "stage_latency_ms": {
            "A": {"recall": {"p50": 0.8, "p99": 2.1}, "rank": {"p50": 0.4, "p99": 1.0}},
            "B": {"recall": {"p50": 0.3, "p99": 0.9}},
        },
        "errors": {"A": 0, "A2": 0, "B": 3},
        "error_kinds": {"B": {"exception": {"count": 3, "example": "KeyError: 'price'"}}},
        "elapsed_s": 2.5,
        "requests_per_s": requests / 2.5,
        "degraded": {"A": 0.0, "A2": 0.0, "B": 0.015},
        "diff": {
            "rbo": sum(rbo) / len(rbo),
            "noise_rbo": sum(noise) / len(noise),
            "overlap_at_k": 0.41,
            "noise_overlap_at_k": 0.97,
            "k": 10,
            "rbo_p": 0.9,
            "new_item_share": 0.37,
            "noise_new_item_share": 0.02,
            "channel_share": {
                "A": {"popular": 0.4, "cf": 0.35, "fresh": 0.25},
                "B": {"popular": 1.0},
            },
            "category_share": {"A": {"books": 0.6, "toys": 0.4}, "B": {"books": 0.5, "toys": 0.5}},
            "score_shift": 0.12,
            "position_shift": 2.4,
            "rbo_values": rbo,
            "noise_rbo_values": noise,
            "metrics": {
                "rbo": judged(0, 1 - sum(noise) / len(noise), 1 - sum(rbo) / len(rbo), True),
                "overlap_at_k": judged(0, 0.03, 0.59, True),
                "new_item_share": judged(0, 0.02, 0.37, True),
                "position_shift": judged(0, 0.1, 2.4, False),
                "error_rate": judged(0.0, 0.0, 0.015, True),
                "p50_ms": judged(1.9, 2.0, 3.5, True, "ms"),
                "channel_share.cf": judged(0.35, 0.34, 0.0, True),
                "category_mix": judged(0, 0.01, 0.1, False),
            },
            "changed": [
                "rbo",
                "overlap_at_k",
                "new_item_share",
                "error_rate",
                "p50_ms",
                "channel_share.cf",
            ],
            "worst": [
                {
                    "index": 17,
                    "user_id": "42",
                    "rbo": 0.05,
                    "noise_rbo": 0.97,
                    "only_a": ["i1", "i2"],
                    "only_b": ["i9"],
                },
            ],
            "thresholds": {"relative": 0.1, "absolute": 0.01},
        },
        "analysis": {"price": {"mean": 12.5, "p50": 9.99, "min": 1.0, "max": 99.0}},
        "fail_if": {"rules": ["rbo<0.8"], "failed": ["rbo<0.8: 0.55"]},
    }


def minimal_report() -> dict[str, Any]:
    """Only what every report has: no optional section."""
    return {
        "v": 1,
        "scene": "cart",
        "requests": 3,
        "hashed_users": False,
        "arms": {a: {"serves": f"cart@wt-1:{a}"} for a in ("A", "A2", "B")},
        "latency_ms": {
            a: {"p50": 1.0, "p90": 2.0, "p99": 3.0, "mean": 1.5} for a in ("A", "A2", "B")
        },
        "errors": {"A": 0, "A2": 0, "B": 0},
        "degraded": {"A": 0.0, "A2": 0.0, "B": 0.0},
        "diff": {"rbo": 0.99, "noise_rbo": 1.0, "overlap_at_k": 1.0, "changed": []},
    }


class Page(HTMLParser):
    """The page's tables (each a list of rows of cell texts) and its headings."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.headings: list[str] = []
        self._cell: list[str] | None = None
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in ("h1", "h2"):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag in ("h1", "h2") and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._heading is not None:
            self._heading.append(data)

    def table(self, *header: str) -> dict[str, list[str]]:
        """The one table whose header row starts with ``header``: its rows by first cell."""
        (found,) = [t for t in self.tables if t and tuple(t[0][: len(header)]) == header]
        return {r[0]: r[1:] for r in found[1:]}


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def test_the_full_report_has_every_table_and_four_plots() -> None:
    report = full_report()
    html = render_html(report)
    page = parse(html)
    assert "Replay of home_feed: A against B" in page.headings
    assert "a hashed sample replays without user features" in html
    arms = page.table("Arm", "What it is")
    assert arms["A′"][0] == "live again with another seed: the noise"
    assert arms["B"] == ["the candidate", "popular_only@wt-5e047266af:default"]
    verdict = page.table("Metric")
    diff = report["diff"]
    rbo = ["–", f"{diff['noise_rbo']:.3f}", f"{diff['rbo']:.3f}", "changed"]
    assert verdict["RBO with A (p=0.9)"] == rbo
    assert verdict["Overlap with A's top 10"] == ["–", "97.0%", "41.0%", "changed"]
    assert verdict["Mean position shift from A"] == ["–", "–", "2.4", "within noise"]
    assert verdict["Error rate"] == ["0.0%", "0.0%", "1.5%", "changed"]
    assert verdict["p50 latency (ms)"] == ["1.9", "2.0", "3.5", "changed"]
    assert verdict["Share of channel cf"] == ["35.0%", "34.0%", "0.0%", "changed"]
    assert verdict["Category mix: distance from A's"] == ["–", "0.010", "0.100", "within noise"]
    assert list(verdict)[:3] == [
        "RBO with A (p=0.9)",
        "Overlap with A's top 10",
        "Share of items A did not return",
    ]
    assert "200 requests replayed against each arm, in 2.5 s (80 requests/s)" in html
    assert "6 of the 8 metrics changed beyond the noise" in html
    assert "(by 10.0% more, plus 0.01)" in html
    assert page.table("Arm", "Kind") == {"B": ["exception", "3", "KeyError: 'price'"]}
    assert page.table("Request") == {"#17": ["42", "0.050", "0.970", "i1, i2", "i9"]}
    latency = page.table("Arm", "p50 ms")
    assert list(latency) == ["A", "A′", "B"]
    b = report["latency_ms"]["B"]
    assert latency["B"] == [f"{b[s]:.1f}" for s in ("p50", "p90", "p99", "mean")] + ["3", "1.5%"]
    stages = page.table("Stage")
    assert stages == {"recall": ["0.8", "2.1", "0.3", "0.9"], "rank": ["0.4", "1.0", "–", "–"]}
    shares = [t for t in page.tables if t[0] == ["Name", "A", "B"]]
    assert [dict((r[0], r[1:]) for r in t[1:]) for t in shares] == [
        {"popular": ["40.0%", "100.0%"], "cf": ["35.0%", "0.0%"], "fresh": ["25.0%", "0.0%"]},
        {"books": ["60.0%", "50.0%"], "toys": ["40.0%", "50.0%"]},
    ]
    assert page.table("Column") == {"price": ["12.5", "9.99", "1", "99"]}
    assert "FAILED: rbo&lt;0.8: 0.55" in html
    plots = PNG.findall(html)
    assert [alt.split(" ")[0] for alt, _ in plots] == ["Histogram", "Histogram", "Bars", "Bars"]
    for _, data in plots:
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")
    assert "A vs B mean" in plots[1][0] and "A vs A′ mean" in plots[1][0]


def test_a_report_without_optional_sections_renders() -> None:
    html = render_html(minimal_report())
    page = parse(html)
    assert "hashed" not in html and "Fail-if" not in html
    assert "None of the 2 metrics changed beyond the noise." in html
    verdict = page.table("Metric")
    assert verdict["RBO with A (p=p)"] == [
        "–",
        "1.000",
        "0.990",
        "within noise",
    ]
    assert list(verdict) == ["RBO with A (p=p)", "Overlap with A's top k"]
    for absent in ("Latency per stage (ms)", "Channel share", "Analysis columns"):
        assert absent not in page.headings
    # only percentiles: the latency plot falls back to bars of them
    ((alt, _),) = PNG.findall(html)
    assert alt.startswith("Bars of p50, p90 and p99 latency per arm")


def test_script_names_and_metric_names_are_escaped() -> None:
    report = full_report(requests=20)
    report["arms"]["B"]["serves"] = "<script>alert(1)</script>.py@wt-1:default"
    report["scene"] = '"><img src=x onerror=alert(2)>'
    report["diff"]["changed"] = ["<b>bold</b>"]
    report["diff"]["channel_share"]["B"] = {"<i>x</i>": 1.0}
    html = render_html(report)
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "onerror=alert(2)>" not in html.replace("&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.py@wt-1:default" in html
    assert parse(html).table("Metric")["<b>bold</b>"] == ["–", "–", "–", "changed"]


def test_a_passing_fail_if_and_an_unflagged_report() -> None:
    report = full_report(requests=30)
    report["fail_if"] = {"rules": ["rbo<0.1"], "failed": []}
    report["diff"]["changed"] = []
    html = render_html(report)
    assert "Fail-if: passed (rbo&lt;0.1)" in html
    assert "changed</span>" not in html


@pytest.mark.parametrize("section", ["latency_values", "diff", "stage_latency_ms", "analysis"])
def test_each_optional_section_may_be_missing(section: str) -> None:
    report = copy.deepcopy(full_report(requests=10))
    del report[section]
    assert render_html(report).startswith("<!doctype html>")


def test_long_mixes_and_item_lists_are_cut() -> None:
    report = full_report(requests=20)
    mix = {f"c{i:02}": (15 - i) / 120 for i in range(15)}  # 12.5 %, 11.7 %, … 0.8 %
    report["diff"]["category_share"] = {"A": mix, "B": {"c14": 1.0}}
    report["diff"]["worst"][0]["only_a"] = [f"i{n}" for n in range(8)]
    page = parse(render_html(report))
    (category,) = [t for t in page.tables if t[0] == ["Name", "A", "B"] and t[1][0] == "c14"]
    names = [r[0] for r in category[1:]]
    assert names == ["c14", *(f"c{i:02}" for i in range(9)), "5 others"]
    assert category[-1][1:] == [f"{100 * 20 / 120:.1f}%", "0.0%"]  # c09..c13: 6+5+4+3+2
    assert page.table("Request")["#17"][3] == "i0, i1, i2, i3, i4 … (+3)"


def test_a_report_of_the_engine_renders(app: PrismApp) -> None:
    """A real replay on the demo node: home_feed's samples against popular_only.py."""
    client = TestClient(app)
    for user in range(8):
        body = {"scene": "home_feed", "user_id": str(user)}
        assert client.post("/v1/recommend", json=body).status_code == 200
    lines = list(app.control.sample_lines("home_feed"))
    report = app.control.run_replay(lines, ReplayOptions(script="popular_only.py"))
    html = render_html(report)
    page = parse(html)
    arms = page.table("Arm", "What it is")
    assert arms["B"][1].startswith("popular_only@") and arms["A"][1].startswith("home_feed@")
    verdict = page.table("Metric")
    assert verdict["RBO with A (p=0.9)"][1:] == [
        f"{report['diff']['noise_rbo']:.3f}",
        f"{report['diff']['rbo']:.3f}",
        "changed" if "rbo" in report["diff"]["changed"] else "within noise",
    ]
    assert len(verdict) >= len(report["diff"]["metrics"])
    assert list(page.table("Arm", "p50 ms")) == ["A", "A′", "B"]
    assert "Channel share" in page.headings
    alts = [unescape(alt) for alt, _ in PNG.findall(html)]
    assert alts[0].startswith("Histogram of per-request latency for arms A, A′, B")
    assert alts[1].startswith("Histogram of per-request rank-biased overlap")
    assert alts[2].startswith("Bars of each channel's share")
