"""The replay's HTML report: ``render_html(report)`` turns a replay REPORT (the JSON
``prism replay --json`` prints, docs/operators/traffic.md "Replay") into one self-contained HTML
file: inline CSS, the plots as embedded PNGs (matplotlib), the tables from
:mod:`prism_platform.replay.summary` (which the workbench's Replay page renders too)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment

from prism_platform.replay.summary import summary
from prism_testkit.replay_report.plots import Plot, PlotUnavailable, plots

__all__ = ["Plot", "PlotUnavailable", "render_html"]

_TEMPLATE = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(
    (Path(__file__).parent / "report.html.j2").read_text()
)


def render_html(report: Mapping[str, Any]) -> str:
    """The report as a self-contained HTML page (raises :class:`PlotUnavailable` without
    matplotlib)."""
    return _TEMPLATE.render(r=summary(report), plots=plots(report))
