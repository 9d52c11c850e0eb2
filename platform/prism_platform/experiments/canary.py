"""Judging a canary against its bucket's primary: :func:`judge` turns a canary's
analysis (:class:`~prism_platform.db.canary_analysis.CanaryAnalysis`), the evidence of
both arms since the canary started and its age into a :class:`Verdict`: promote, abort
or wait, with the reasons and figures a person reads in the audit log."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from prism_platform.db.canary_analysis import CanaryAnalysis
from prism_platform.metrics.registry import LATENCY_BUCKETS

Action = Literal["promote", "abort", "wait"]


@dataclass(frozen=True, slots=True)
class ArmStats:
    """What one arm (the canary, or the bucket's primary) did since the canary started."""

    requests: int = 0
    """Requests routed to it: those it answered plus those the fallback answered for it."""
    errors: int = 0
    """Requests where the script raised or returned a bad result."""
    fallbacks: int = 0
    """Requests the scene fallback answered for it: the errors and the runs past the
    deadline."""
    p99_ms: float | None = None
    """p99 latency of the requests it answered (``inf`` above the histogram's last
    bound; ``None`` when it answered none)."""
    exposures: int = 0
    clicks: int = 0

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    @property
    def fallback_rate(self) -> float | None:
        return self.fallbacks / self.requests if self.requests else None

    @property
    def ctr(self) -> float | None:
        return self.clicks / self.exposures if self.exposures else None

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        if self.p99_ms is not None and math.isinf(self.p99_ms):
            out["p99_ms"] = None
            out["p99_above_ms"] = _LAST_BOUND_MS
        return out


_LAST_BOUND_MS = LATENCY_BUCKETS[-1] * 1000.0


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    reasons: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "reasons": list(self.reasons)}


def judge(analysis: CanaryAnalysis, canary: ArmStats, primary: ArmStats, age_s: float) -> Verdict:
    """Abort when a threshold is breached (each judged once its minimum sample is in);
    otherwise promote once every threshold has its sample and ``promote_after_s`` has
    passed; otherwise wait. The reasons say which figures decided."""
    breaches: list[str] = []
    passed: list[str] = []
    pending: list[str] = []
    a = analysis
    n = canary.requests
    over = f"over {n:,} canary requests"
    if n < a.min_requests:
        pending.append(f"{n:,} of {a.min_requests:,} canary requests so far")
    else:
        for name, limit, rate, primary_rate, what in (
            ("error rate", a.max_error_rate, canary.error_rate, primary.error_rate, "errors"),
            (
                "fallback rate",
                a.max_fallback_rate,
                canary.fallback_rate,
                primary.fallback_rate,
                "fallbacks",
            ),
        ):
            if limit is None or rate is None:
                continue
            count = canary.errors if what == "errors" else canary.fallbacks
            noun = what if count != 1 else what[:-1]
            text = f"{name} {_pct(rate)} ({count:,} {noun} {over}; primary {_pct(primary_rate)})"
            if rate > limit:
                breaches.append(f"{text} > {_pct(limit)}")
            else:
                passed.append(f"{text} <= {_pct(limit)}")
        if a.max_p99_ms is not None:
            if canary.p99_ms is None:
                pending.append("p99: no request answered by the canary yet")
            else:
                text = f"p99 {_ms(canary.p99_ms)} {over} (primary {_ms(primary.p99_ms)})"
                if canary.p99_ms > a.max_p99_ms:
                    breaches.append(f"{text} > {a.max_p99_ms:g} ms")
                else:
                    passed.append(f"{text} <= {a.max_p99_ms:g} ms")
    if a.max_ctr_drop is not None:
        _judge_ctr(a, canary, primary, breaches, passed, pending)
    if breaches:
        return Verdict("abort", breaches)
    if pending:
        return Verdict("wait", pending + passed)
    if a.promote_after_s is None:
        return Verdict("wait", [*passed, "no breach; promote it by hand (no promote_after_s)"])
    if age_s < a.promote_after_s:
        left = f"promotes in {_duration(math.ceil(a.promote_after_s - age_s))} without a breach"
        return Verdict("wait", [*passed, left])
    ran = f"no breach after {_duration(age_s)} (promote_after_s {a.promote_after_s:g})"
    return Verdict("promote", [*passed, ran])


def _judge_ctr(
    a: CanaryAnalysis,
    canary: ArmStats,
    primary: ArmStats,
    breaches: list[str],
    passed: list[str],
    pending: list[str],
) -> None:
    assert a.max_ctr_drop is not None
    short = [
        f"{arm.exposures:,} of {a.min_exposures:,} {name} exposures"
        for name, arm in (("canary", canary), ("primary", primary))
        if arm.exposures < a.min_exposures
    ]
    if short:
        pending.append("CTR: " + ", ".join(short) + " so far")
        return
    ctr, base = canary.ctr or 0.0, primary.ctr or 0.0
    if base == 0:
        pending.append("CTR: the primary has no click yet")
        return
    drop = 1 - ctr / base
    shown = f"{drop * 100:.1f} % below" if drop >= 0 else f"{-drop * 100:.1f} % above"
    text = (
        f"CTR {_pct(ctr)} is {shown} the primary's {_pct(base)} "
        f"({canary.exposures:,} and {primary.exposures:,} exposures)"
    )
    if drop > a.max_ctr_drop:
        breaches.append(f"{text}; max drop {_pct(a.max_ctr_drop)}")
    else:
        passed.append(f"{text}; max drop {_pct(a.max_ctr_drop)}")


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.3g} %"


def _ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    if math.isinf(value):
        return f"> {_LAST_BOUND_MS:g} ms"
    return f"{value:.4g} ms"


def _duration(seconds: float) -> str:
    s = max(int(seconds), 0)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60} min"
    if s >= 60:
        return f"{s // 60} min {s % 60} s"
    return f"{s} s"
