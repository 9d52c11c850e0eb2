"""An experiment's counts over time: per bucket of one layer, its exposures, clicks, carts
and orders in every hour of the experiment's window over the last ``since_hours`` hours
(hours without events count zero, so every bucket's series has the same hours)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from prism_platform.db import ExperimentRecord, MetadataStore
from prism_platform.db.records import MAIN_LAYER
from prism_platform.errors import Invalid
from prism_platform.events.fold import hour_of
from prism_platform.experiments.counts import hourly_counts
from prism_platform.experiments.report import chosen_experiment

MAX_HOURS = 24 * 90
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class HourCounts:
    hour: datetime
    """The hour's start (UTC)."""
    exposures: int
    clicks: int
    carts: int
    orders: int


@dataclass(frozen=True, slots=True)
class ExperimentSeries:
    experiment: ExperimentRecord
    hours: list[datetime]
    buckets: dict[str, list[HourCounts]]
    """Bucket (in the experiment's order) -> its counts in each of :attr:`hours`."""


def experiment_series(
    store: MetadataStore,
    scene: str,
    layer: str = MAIN_LAYER,
    *,
    experiment_id: int | None = None,
    since_hours: int = 72,
    now: datetime,
) -> ExperimentSeries:
    """The hourly counts of the layer's experiment (``experiment_id``, else the running
    one, else the newest), from its start or ``since_hours`` before ``now``, whichever is
    later, to its end or ``now``."""
    if isinstance(since_hours, bool) or not isinstance(since_hours, int):
        raise Invalid("since_hours must be a whole number of hours", field="since_hours")
    if not 1 <= since_hours <= MAX_HOURS:
        raise Invalid(f"since_hours must be from 1 to {MAX_HOURS}", field="since_hours")
    exp = chosen_experiment(store, scene, layer, None, experiment_id)
    start = exp.created_at if exp.starts_at is None else max(exp.created_at, exp.starts_at)
    ends = [d for d in (exp.stopped_at, exp.ends_at, now) if d is not None]
    last = hour_of(min(ends).timestamp())
    first = max(hour_of(start.timestamp()), last - (since_hours - 1) * HOUR)
    hours = (
        [first + i * HOUR for i in range(int((last - first) / HOUR) + 1)] if first <= last else []
    )
    counts = hourly_counts(store, exp, first) if hours else {}
    none = (0, 0, 0, 0)
    buckets = {
        b.name: [HourCounts(h, *counts.get(b.name, {}).get(h, none)) for h in hours]
        for b in exp.buckets
    }
    return ExperimentSeries(exp, hours, buckets)
