"""The step schedule and what a ramp's steps say: which steps met the SLA, the capacity
(the highest step rate that did), and whether the client, not the target, set the limit.
Pure functions of numbers, so the verdicts are tested without a server."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

CLIENT_MARGIN = 0.9
"""A step is beyond the client when its rate reaches this share of the client's ceiling, or
when the client sent less than this share of the requests the step scheduled on time."""

MAX_STEPS = 60


@dataclass(frozen=True, slots=True)
class Ramp:
    start_rps: float
    step_rps: float | None = None
    """Add this much each step (else multiply by ``step_factor``)."""
    step_factor: float | None = None
    max_rps: float | None = None

    def __post_init__(self) -> None:
        if self.start_rps <= 0:
            raise ValueError("start_rps must be positive")
        if (self.step_rps is None) == (self.step_factor is None):
            raise ValueError("give one of step_rps and step_factor")
        if self.step_rps is not None and self.step_rps <= 0:
            raise ValueError("step_rps must be positive")
        if self.step_factor is not None and self.step_factor <= 1:
            raise ValueError("step_factor must be above 1")
        if self.max_rps is not None and self.max_rps < self.start_rps:
            raise ValueError("max_rps is below start_rps")

    def rates(self) -> Iterator[float]:
        """The step rates, increasing, up to ``max_rps`` (at most ``MAX_STEPS`` of them)."""
        rate = self.start_rps
        for _ in range(MAX_STEPS):
            if self.max_rps is not None and rate > self.max_rps:
                return
            yield _tidy(rate)
            if self.step_rps is not None:
                rate += self.step_rps
            else:
                rate *= self.step_factor or 1.0


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What a ramp decides on: one step's rate and measures."""

    rate: float
    p99_ms: float | None
    """None: no request was answered."""
    error_rate: float
    on_time: float
    """The share of the step's scheduled requests the client sent within its send lag
    budget (1.0: it kept the schedule)."""


def meets(step: StepOutcome, slo_ms: float, max_error_rate: float) -> bool:
    return step.p99_ms is not None and step.p99_ms <= slo_ms and step.error_rate <= max_error_rate


def why_failed(step: StepOutcome, slo_ms: float, max_error_rate: float) -> str:
    """``"errors"`` or ``"slo"`` (errors first: a failing request's latency says little)."""
    if step.error_rate > max_error_rate or step.p99_ms is None:
        return "errors"
    return "slo"


def client_limited(step: StepOutcome, client_ceiling_rps: float | None) -> bool:
    """The client could not drive this step: it fell behind its schedule, or the rate is
    near the most it drives against a trivial endpoint."""
    if step.on_time < CLIENT_MARGIN:
        return True
    return client_ceiling_rps is not None and step.rate >= CLIENT_MARGIN * client_ceiling_rps


@dataclass(frozen=True, slots=True)
class Capacity:
    rps: float | None
    """The highest step rate that met the SLA and the error threshold (None: not even the
    first step did)."""
    limited_by: str
    """``slo``, ``errors``: the next step failed on it; ``max_rps``: every step met them;
    ``client``: the client could not drive a higher rate, the target may hold more."""

    @property
    def client_bound(self) -> bool:
        return self.limited_by == "client"

    def describe(self) -> str:
        if self.rps is None:
            return f"below the first step (it failed on {self.limited_by})"
        if self.limited_by == "client":
            return f"≥ {self.rps:g} rps: client-bound"
        if self.limited_by == "max_rps":
            return f"≥ {self.rps:g} rps: every step met the SLA (raise --max-rps)"
        return f"{self.rps:g} rps (the next step failed on {self.limited_by})"


def passed(step: StepOutcome, slo_ms: float, max_error_rate: float) -> bool:
    """The step met the SLA and the error threshold, on the client's schedule."""
    return meets(step, slo_ms, max_error_rate) and step.on_time >= CLIENT_MARGIN


def pick_capacity(
    steps: Sequence[StepOutcome],
    slo_ms: float,
    max_error_rate: float,
    client_ceiling_rps: float | None = None,
) -> Capacity:
    """The capacity the steps (any order: a refinement probes between earlier rates) show:
    the highest rate below the lowest failing one. When the client caused that failure
    (it fell behind its schedule, or the rate is near its ceiling), or every step passed up
    to the client's ceiling, the capacity is a lower bound: ``client``."""
    ordered = sorted(steps, key=lambda s: s.rate)
    failing = [s for s in ordered if not passed(s, slo_ms, max_error_rate)]
    if not failing:
        if not ordered:
            return Capacity(None, "max_rps")
        top = ordered[-1]
        return Capacity(
            top.rate, "client" if client_limited(top, client_ceiling_rps) else "max_rps"
        )
    first = failing[0]
    below = [s.rate for s in ordered if s.rate < first.rate]
    best = below[-1] if below else None
    if client_limited(first, client_ceiling_rps):
        return Capacity(best, "client")
    return Capacity(best, why_failed(first, slo_ms, max_error_rate))


def next_probe(
    steps: Sequence[StepOutcome],
    slo_ms: float,
    max_error_rate: float,
    client_ceiling_rps: float | None = None,
    resolution: float = 0.05,
) -> float | None:
    """The rate to try next to narrow the capacity: halfway between it and the lowest
    failing rate; None when that gap is within ``resolution`` of the failing rate, or the
    failure was not the target's."""
    capacity = pick_capacity(steps, slo_ms, max_error_rate, client_ceiling_rps)
    if capacity.rps is None or capacity.limited_by not in ("slo", "errors"):
        return None
    failing = min(s.rate for s in steps if not passed(s, slo_ms, max_error_rate))
    if failing - capacity.rps <= resolution * failing:
        return None
    return _tidy((capacity.rps + failing) / 2)


def _tidy(rate: float) -> float:
    return float(round(rate)) if rate >= 10 else round(rate, 2)


def should_stop(step: StepOutcome, slo_ms: float, max_error_rate: float) -> bool:
    """Stop the ramp after this step: it failed, or the client fell behind its schedule."""
    return not passed(step, slo_ms, max_error_rate)


@dataclass(frozen=True, slots=True)
class Change:
    previous_rps: float
    current_rps: float

    @property
    def ratio(self) -> float:
        """(current − previous) / previous: −0.25 is a 25 % drop."""
        return (self.current_rps - self.previous_rps) / self.previous_rps

    def regressed(self, threshold: float) -> bool:
        return self.ratio < -threshold


def compare(previous_rps: float | None, current_rps: float | None) -> Change | None:
    """The change of capacity since the previous report (None: nothing to compare; a
    capacity below the first step counts as 0)."""
    if previous_rps is None or previous_rps <= 0:
        return None
    return Change(previous_rps, current_rps or 0.0)
