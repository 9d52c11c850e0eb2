"""The evidence a canary is judged on (:mod:`.canary`): what its arm and its bucket's
primary did since the canary started.

:class:`NodeEvidence` reads the requests, failures and latency from the node's serving
metrics (the dispatcher's series per scene, bucket and strategy@version), counted from
the moment this node first looked at the canary, and the exposures and clicks from the
event counts (every node's, from the hour the canary started).
:class:`StaticEvidence` hands out figures set by hand (tests, dry runs)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa

from prism_platform.db.event_schema import EventCount
from prism_platform.db.records import MAIN_LAYER
from prism_platform.events.fold import hour_of
from prism_platform.experiments.canary import ArmStats
from prism_platform.metrics.registry import Metrics

Served = tuple[str, str]
"""A strategy's name (its script path without ``.py``) and version, as the serving
metrics and the event counts name it."""

FAILURES = ("exception", "bad_result")
"""The strategy failures that count as the script's errors (``deadline`` is not one:
it counts as a fallback only)."""


@dataclass(frozen=True, slots=True)
class CanaryArms:
    """A canary to judge: its deployment and what each arm of its bucket serves."""

    deployment_id: int
    scene: str
    bucket: str
    canary: Served
    primary: Served | None
    started_at: datetime


class CanaryEvidence(Protocol):
    def stats(self, arms: CanaryArms) -> tuple[ArmStats, ArmStats]:
        """(canary, primary) since the canary started."""
        ...

    def forget(self, keep: Collection[int]) -> None:
        """Drop what is kept for canaries (deployment ids) other than ``keep``."""
        ...


@dataclass
class StaticEvidence:
    """Figures set per ``(scene, bucket)``; zero until set."""

    figures: dict[tuple[str, str], tuple[ArmStats, ArmStats]] = field(default_factory=dict)

    def set(self, scene: str, bucket: str, canary: ArmStats, primary: ArmStats) -> None:
        self.figures[(scene, bucket)] = (canary, primary)

    def stats(self, arms: CanaryArms) -> tuple[ArmStats, ArmStats]:
        return self.figures.get((arms.scene, arms.bucket), (ArmStats(), ArmStats()))

    def forget(self, keep: Collection[int]) -> None:
        pass


@dataclass(frozen=True, slots=True)
class _Totals:
    """An arm's cumulative serving counters at one moment."""

    answered: float = 0.0
    errors: float = 0.0
    fallbacks: float = 0.0
    latency: tuple[float, ...] = ()
    """Requests per latency histogram bucket (the last: above the last bound)."""

    def minus(self, base: _Totals) -> _Totals:
        old = base.latency or (0.0,) * len(self.latency)
        return _Totals(
            self.answered - base.answered,
            self.errors - base.errors,
            self.fallbacks - base.fallbacks,
            tuple(a - b for a, b in zip(self.latency, old, strict=True)),
        )


class NodeEvidence:
    """The node's serving metrics (``metrics()``: this process's, or every worker's) and
    the event counts in ``engine``'s database."""

    def __init__(self, metrics: Callable[[], Metrics], engine: sa.Engine) -> None:
        self.metrics = metrics
        self.engine = engine
        self._baselines: dict[int, tuple[_Totals, _Totals]] = {}

    def stats(self, arms: CanaryArms) -> tuple[ArmStats, ArmStats]:
        m = self.metrics()
        now = (
            _totals(m, arms.scene, arms.bucket, arms.canary),
            _totals(m, arms.scene, arms.bucket, arms.primary),
        )
        base = self._baselines.setdefault(arms.deployment_id, now)
        bounds = m.latency.buckets
        canary, primary = (n.minus(b) for n, b in zip(now, base, strict=True))
        return (
            _arm(canary, bounds, *self._clicks(arms, arms.canary)),
            _arm(primary, bounds, *self._clicks(arms, arms.primary)),
        )

    def forget(self, keep: Collection[int]) -> None:
        for gone in set(self._baselines) - set(keep):
            del self._baselines[gone]

    def _clicks(self, arms: CanaryArms, served: Served | None) -> tuple[int, int]:
        """Exposures and clicks of ``served`` in the bucket, from the canary's hour."""
        if served is None:
            return 0, 0
        t = EventCount
        stmt = sa.select(sa.func.sum(t.exposures), sa.func.sum(t.clicks)).where(
            t.scene == arms.scene,
            t.layer == MAIN_LAYER,
            t.bucket == arms.bucket,
            t.strategy == served[0],
            t.version == served[1],
            t.hour >= hour_of(arms.started_at.timestamp()),
        )
        with self.engine.connect() as conn:
            exposures, clicks = conn.execute(stmt).one()
        return int(exposures or 0), int(clicks or 0)


def _totals(m: Metrics, scene: str, bucket: str, served: Served | None) -> _Totals:
    if served is None:
        return _Totals()
    key = (scene, bucket, *served)
    answered = sum(v for k, v in m.requests.values.copy().items() if k[:4] == key)
    errors = fallbacks = 0.0
    for k, v in m.strategy_errors.values.copy().items():
        if k[:4] == key:
            fallbacks += v
            errors += v if k[4] in FAILURES else 0.0
    series = m.latency.series.get(key)
    latency = tuple(series[:-1]) if series is not None else (0.0,) * (len(m.latency.buckets) + 1)
    return _Totals(answered, errors, fallbacks, latency)


def _arm(t: _Totals, bounds: Sequence[float], exposures: int, clicks: int) -> ArmStats:
    return ArmStats(
        requests=int(t.answered + t.fallbacks),
        errors=int(t.errors),
        fallbacks=int(t.fallbacks),
        p99_ms=p99_ms(t.latency, bounds),
        exposures=exposures,
        clicks=clicks,
    )


def p99_ms(counts: Sequence[float], bounds: Sequence[float]) -> float | None:
    """The upper bound (ms) of the latency histogram bucket holding the 99th percentile
    (nearest rank); ``inf`` above the last bound, ``None`` without a request."""
    total = sum(counts)
    if total <= 0:
        return None
    rank, acc = 0.99 * total, 0.0
    for upper, c in zip(bounds, counts, strict=False):
        acc += c
        if acc >= rank:
            return upper * 1000.0
    return float("inf")
