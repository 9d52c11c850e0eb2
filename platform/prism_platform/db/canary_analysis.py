"""A canary's analysis: the thresholds that abort it, the minimum sample before any
verdict, and when it promotes itself. Stored as JSON on the canary's deployment
(``deployments.canary_analysis``); :meth:`CanaryAnalysis.parse` is the one check of it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from prism_platform.errors import Invalid

FIELD = "analysis"

THRESHOLDS = {
    "max_error_rate": "error_rate",
    "max_fallback_rate": "fallback_rate",
    "max_p99_ms": "p99_ms",
    "max_ctr_drop": "ctr_drop",
}
"""Each abort threshold and the figure it bounds (``prism deploy --abort-if FIGURE>N``)."""

DEFAULT_MIN_REQUESTS = 100
DEFAULT_MIN_EXPOSURES = 1000
MAX_PROMOTE_AFTER_S = 90 * 86400.0


@dataclass(frozen=True, slots=True)
class CanaryAnalysis:
    max_error_rate: float | None = None
    """Abort above this share of canary requests where the script raised or returned a
    bad result."""
    max_fallback_rate: float | None = None
    """Abort above this share of canary requests answered by the scene fallback (the
    errors above plus the runs past the deadline)."""
    max_p99_ms: float | None = None
    """Abort when the p99 latency of the requests the canary answered is above this."""
    max_ctr_drop: float | None = None
    """Abort when the canary's CTR is more than this share (0.1: 10 %) below the
    bucket's primary's."""
    min_requests: int = DEFAULT_MIN_REQUESTS
    """Canary requests before the request thresholds (and promotion) are judged."""
    min_exposures: int = DEFAULT_MIN_EXPOSURES
    """Exposures of the canary and of the primary before the CTR is judged."""
    promote_after_s: float | None = None
    """Promote the canary once it has run this long with the sample and no breach;
    ``None``: never by itself (only abort)."""

    @classmethod
    def parse(cls, value: object, *, field: str = FIELD) -> CanaryAnalysis:
        """Check a JSON analysis; :class:`Invalid` names the bad key, e.g.
        ``analysis.max_p99_ms``."""
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise Invalid(f"{field} must be a JSON object", field=field)
        known = set(cls.__dataclass_fields__)
        for key in value:
            if key not in known:
                raise Invalid(
                    f"unknown {field} setting {key!r} (known: {', '.join(sorted(known))})",
                    field=f"{field}.{key}",
                )
        checked: dict[str, Any] = {}
        for key, raw in value.items():
            at = f"{field}.{key}"
            if raw is None:
                if key in ("min_requests", "min_exposures"):
                    raise Invalid(f"{at} must be a whole number", field=at)
                continue
            if key in ("max_error_rate", "max_fallback_rate"):
                checked[key] = _number(raw, at, 0.0, 1.0, high_open=True)
            elif key == "max_ctr_drop":
                checked[key] = _number(raw, at, 0.0, 1.0, low_open=True, high_open=True)
            elif key == "max_p99_ms":
                checked[key] = _number(raw, at, 0.0, 60_000.0, low_open=True)
            elif key == "promote_after_s":
                checked[key] = _number(raw, at, 1.0, MAX_PROMOTE_AFTER_S)
            else:
                checked[key] = _whole(raw, at, 1, 1_000_000_000)
        analysis = cls(**checked)
        if not analysis.thresholds() and analysis.promote_after_s is None:
            raise Invalid(
                f"{field} needs an abort threshold ({', '.join(THRESHOLDS)}) or promote_after_s",
                field=field,
            )
        return analysis

    def thresholds(self) -> dict[str, float]:
        """The abort thresholds set, by name."""
        return {k: v for k in THRESHOLDS if (v := getattr(self, k)) is not None}

    def as_json(self) -> dict[str, Any]:
        """What is stored: the settings given (thresholds left out when unset)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def _number(
    raw: object,
    at: str,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
        value = float(raw)
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        if above and below:
            return value
    span = f"{'(' if low_open else '['}{low:.10g}, {high:.10g}{')' if high_open else ']'}"
    raise Invalid(f"{at} must be a number in {span}, got {raw!r}", field=at)


def _whole(raw: object, at: str, low: int, high: int) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or not low <= raw <= high:
        raise Invalid(f"{at} must be a whole number from {low} to {high}, got {raw!r}", field=at)
    return raw


def check_canary_analysis(
    value: Mapping[str, Any] | None, canary_percent: float | None
) -> dict[str, Any] | None:
    """The analysis to store with a deployment (``None`` for none); only a canary may
    carry one."""
    if value is None:
        return None
    if canary_percent is None:
        raise Invalid(
            "an analysis judges a canary: deploy with canary_percent to give one", field=FIELD
        )
    return CanaryAnalysis.parse(value).as_json()


def check_distinct(canary: tuple[str, str], primary: tuple[str, str] | None) -> None:
    """A canary with an analysis must serve another script or version than the bucket's
    primary (script path, version): the serving metrics tell them apart by those only."""
    if primary is not None and canary == primary:
        path, version = canary
        raise Invalid(
            f"the canary serves {path}@{version} like the bucket's primary deployment: "
            "its analysis could not tell them apart (a canary of a config change cannot "
            "carry an analysis)",
            field=FIELD,
        )
