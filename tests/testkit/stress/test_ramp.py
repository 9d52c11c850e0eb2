"""The step schedule, the capacity a ramp's steps show, the refinement probes and the
regression verdict: pure functions of synthetic steps."""

from __future__ import annotations

import pytest

from prism_testkit.stress.ramp import (
    MAX_STEPS,
    Ramp,
    StepOutcome,
    compare,
    next_probe,
    pick_capacity,
    should_stop,
)

SLO = 80.0
ERR = 0.01


def ok(rate: float, p99: float = 10.0) -> StepOutcome:
    return StepOutcome(rate, p99, 0.0, 1.0)


def slow(rate: float) -> StepOutcome:
    return StepOutcome(rate, SLO + 1, 0.0, 1.0)


def erring(rate: float) -> StepOutcome:
    return StepOutcome(rate, 5.0, 0.05, 1.0)


def behind(rate: float) -> StepOutcome:
    """The client sent only half its requests on time."""
    return StepOutcome(rate, SLO + 50, 0.0, 0.5)


@pytest.mark.parametrize(
    ("ramp", "rates"),
    [
        (Ramp(50, step_rps=50, max_rps=200), [50, 100, 150, 200]),
        (Ramp(50, step_rps=40, max_rps=200), [50, 90, 130, 170]),
        (Ramp(100, step_factor=1.5, max_rps=400), [100, 150, 225, 338]),
        (Ramp(2, step_factor=2, max_rps=10), [2, 4, 8]),
        (Ramp(5, step_rps=2.5, max_rps=10), [5, 7.5, 10]),
    ],
)
def test_the_step_rates(ramp: Ramp, rates: list[float]) -> None:
    assert list(ramp.rates()) == rates


def test_a_ramp_without_a_maximum_stops_after_max_steps() -> None:
    rates = list(Ramp(10, step_rps=10).rates())
    assert len(rates) == MAX_STEPS
    assert rates[-1] == 10 * MAX_STEPS


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start_rps": 0, "step_rps": 10},
        {"start_rps": 10},
        {"start_rps": 10, "step_rps": 10, "step_factor": 2},
        {"start_rps": 10, "step_factor": 1.0},
        {"start_rps": 10, "step_rps": -5},
        {"start_rps": 100, "step_rps": 10, "max_rps": 50},
    ],
)
def test_a_bad_ramp_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Ramp(**kwargs)


CEILING = 1000.0


@pytest.mark.parametrize(
    ("steps", "rps", "limited_by"),
    [
        # the target breaks the SLO at 300: capacity is the step below
        ([ok(100), ok(200), slow(300)], 200, "slo"),
        # errors over the threshold fail a step even with a fast p99
        ([ok(100), erring(200)], 100, "errors"),
        # a step with no answer at all fails on errors
        ([ok(100), StepOutcome(200, None, 0.0, 1.0)], 100, "errors"),
        # the first step already fails: no capacity
        ([slow(100)], None, "slo"),
        # every step passed below the client's ceiling: the ramp's maximum was reached
        ([ok(100), ok(200)], 200, "max_rps"),
        # the client fell behind its schedule: the capacity is a lower bound
        ([ok(100), ok(200), behind(300)], 200, "client"),
        # a failure at a rate near the client's ceiling is the client's
        ([ok(500), ok(800), slow(950)], 800, "client"),
        # every step passed, the last one near the client's ceiling
        ([ok(500), ok(920)], 920, "client"),
        # refinement probes come after the failure, out of rate order
        ([ok(100), ok(200), slow(400), ok(300), slow(350)], 300, "slo"),
        ([ok(100), ok(200), slow(400), slow(300), ok(250)], 250, "slo"),
    ],
)
def test_capacity_is_the_highest_rate_below_the_first_failure(
    steps: list[StepOutcome], rps: float | None, limited_by: str
) -> None:
    capacity = pick_capacity(steps, SLO, ERR, CEILING)
    assert (capacity.rps, capacity.limited_by) == (rps, limited_by)
    assert capacity.client_bound == (limited_by == "client")


def test_a_client_bound_capacity_says_it_is_a_lower_bound() -> None:
    text = pick_capacity([ok(100), behind(200)], SLO, ERR, CEILING).describe()
    assert text == "≥ 100 rps: client-bound"
    assert pick_capacity([ok(100), slow(200)], SLO, ERR).describe().startswith("100 rps")


@pytest.mark.parametrize(
    ("steps", "probe"),
    [
        ([ok(100), ok(200), slow(400)], 300),
        ([ok(100), ok(200), slow(400), slow(300)], 250),
        ([ok(100), ok(200), slow(400), ok(300)], 350),
        # within 5 % of the failing rate: resolved
        ([ok(100), ok(390), slow(400)], None),
        # the client caused the failure, or nothing failed, or nothing passed: no probe
        ([ok(100), behind(200)], None),
        ([ok(100), ok(200)], None),
        ([slow(100)], None),
    ],
)
def test_a_probe_halves_the_gap_to_the_failure(
    steps: list[StepOutcome], probe: float | None
) -> None:
    assert next_probe(steps, SLO, ERR, CEILING) == probe


@pytest.mark.parametrize(
    ("step", "stop"),
    [(ok(100), False), (slow(100), True), (erring(100), True), (behind(100), True)],
)
def test_the_ramp_stops_after_a_failing_step(step: StepOutcome, stop: bool) -> None:
    assert should_stop(step, SLO, ERR) is stop


@pytest.mark.parametrize(
    ("previous", "current", "ratio", "regressed"),
    [
        (1000, 1000, 0.0, False),
        (1000, 850, -0.15, False),
        (1000, 790, -0.21, True),
        (1000, 1500, 0.5, False),
        (1000, None, -1.0, True),  # the current run failed its first step
    ],
)
def test_a_drop_beyond_the_threshold_is_a_regression(
    previous: float, current: float | None, ratio: float, regressed: bool
) -> None:
    change = compare(previous, current)
    assert change is not None
    assert change.ratio == pytest.approx(ratio)
    assert change.regressed(0.2) is regressed


@pytest.mark.parametrize("previous", [None, 0.0])
def test_without_a_previous_capacity_there_is_nothing_to_compare(
    previous: float | None,
) -> None:
    assert compare(previous, 500) is None
