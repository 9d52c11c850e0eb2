"""The Experiments page's content: for each layer of a scene, its experiment's report
(per bucket counts, CTR and CVR, lift against the control with its confidence interval
and p-value, users needed, the sample-ratio check, events that did not count) and its
counts over time as charts, one chart per metric with one series per bucket."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup

from prism_platform.control.facade import Control
from prism_platform.db.records import HOLDOUT, MAIN_LAYER, ExperimentRecord
from prism_platform.errors import PrismPlatformError
from prism_platform.experiments.report import ReportParams
from prism_platform.experiments.series import ExperimentSeries
from prism_workbench.charts import Series, line_chart

METRICS = {"ctr": "CTR (clicks / exposures)", "cvr": "CVR (orders / clicks)"}
"""The rates the report tests, each against the control over users."""
RANGES = {24: "last 24 hours", 72: "last 3 days", 168: "last 7 days", 720: "last 30 days"}
"""Chart ranges (hours); up to 3 days per hour, longer ones per day."""
DAILY_FROM = 168
MDES = (1, 2, 5, 10, 20)
"""Relative lifts (percent) one may ask the sample size for."""


@dataclass(frozen=True, slots=True)
class Choices:
    """What the page's GET form picks: the metric tested and charted, the chart range,
    the lift to detect (percent)."""

    metric: str = "ctr"
    hours: int = 72
    mde: int = 5


@dataclass(frozen=True, slots=True)
class LayerPanel:
    experiment: ExperimentRecord
    report: dict[str, Any] | None
    """``experiment_report``'s answer (``None`` when it failed: see ``error``)."""
    charts: list[tuple[str, Markup]]
    """(title, inline SVG) of each chart."""
    period: str
    """What the charts' points are, e.g. ``hourly, 2024-05-01 10:00 – 2024-05-03 09:00 UTC``."""
    error: str = ""

    @property
    def holdout(self) -> float | None:
        return next((b.percent for b in self.experiment.buckets if b.name == HOLDOUT), None)

    @property
    def split(self) -> str:
        return ", ".join(f"{b.name} {b.percent:g}%" for b in self.experiment.buckets)


def by_layer(experiments: Sequence[ExperimentRecord]) -> list[ExperimentRecord]:
    """Main first, then the other layers by name."""
    return sorted(experiments, key=lambda e: (e.layer != MAIN_LAYER, e.layer))


def layer_panel(control: Control, exp: ExperimentRecord, choices: Choices) -> LayerPanel:
    params = ReportParams(mde=choices.mde / 100, layer=exp.layer, experiment_id=exp.id)
    try:
        report = control.experiment_report(exp.scene, params)
        series = control.experiment_series(
            exp.scene, exp.layer, experiment_id=exp.id, since_hours=choices.hours
        )
    except PrismPlatformError as exc:
        return LayerPanel(exp, None, [], "", error=exc.message)
    daily = choices.hours >= DAILY_FROM
    starts, counts = periods(series, daily)
    charts = time_charts(starts, counts, choices.metric, daily)
    period = ""
    if charts:
        shown = "%Y-%m-%d" if daily else "%Y-%m-%d %H:00"
        first, last = starts[0].strftime(shown), starts[-1].strftime(shown)
        n, unit = len(starts), "day" if daily else "hour"
        period = f"{n} {unit}{'' if n == 1 else 's'}, {first} – {last} UTC"
    return LayerPanel(exp, report, charts, period)


Counts = tuple[int, int, int, int]
"""Exposures, clicks, carts, orders."""


def periods(
    series: ExperimentSeries, daily: bool
) -> tuple[list[datetime], dict[str, list[Counts]]]:
    """The series' hours, or its days (UTC, hours added up), and each bucket's counts in
    each of them."""
    if not daily:
        return list(series.hours), {
            b: [(h.exposures, h.clicks, h.carts, h.orders) for h in hours]
            for b, hours in series.buckets.items()
        }
    days = sorted({h.replace(hour=0) for h in series.hours})
    out: dict[str, list[Counts]] = {}
    for b, hours in series.buckets.items():
        sums = {d: [0, 0, 0, 0] for d in days}
        for h in hours:
            day = sums[h.hour.replace(hour=0)]
            for i, n in enumerate((h.exposures, h.clicks, h.carts, h.orders)):
                day[i] += n
        out[b] = [(s[0], s[1], s[2], s[3]) for s in sums.values()]
    return days, out


def rate(metric: str, c: Counts) -> float | None:
    """The metric's rate of one period's counts (``None`` without a denominator)."""
    exposures, clicks, _, orders = c
    if metric == "cvr":
        return orders / clicks if clicks else None
    return clicks / exposures if exposures else None


def time_charts(
    starts: Sequence[datetime], counts: dict[str, list[Counts]], metric: str, daily: bool
) -> list[tuple[str, Markup]]:
    """The metric's rate and the exposures per period, one series per bucket."""
    if not any(c[0] for cs in counts.values() for c in cs):
        return []  # nothing counted yet: empty axes would say nothing
    unit = "day" if daily else "hour"
    name = metric.upper()
    rates = [Series(b, [rate(metric, c) for c in cs]) for b, cs in counts.items()]
    exposures = [Series(b, [float(c[0]) for c in cs]) for b, cs in counts.items()]
    titles = (f"{name} per {unit}, by bucket", f"Exposures per {unit}, by bucket")
    return [
        (titles[0], line_chart(rates, title=titles[0], fmt=_percent, width=420, height=150)),
        (titles[1], line_chart(exposures, title=titles[1], width=420, height=150)),
    ]


def _percent(v: float) -> str:
    return f"{100 * v:.3g}%"
