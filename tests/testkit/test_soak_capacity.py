"""The soak's capacity: the highest rate that held, and the rate that would keep every
core busy, extrapolated from the highest step that held."""

from __future__ import annotations

import pytest

from prism_testkit.soak import Step, carried, sustained


def _step(rate: float, busy: float, p99: float = 10.0) -> Step:
    return Step(rate, 100, 100, p99, True, busy)


def test_the_capacity_is_the_highest_rate_that_held_and_what_fills_the_cores() -> None:
    steps = [_step(100, 0.8), _step(120, 1.2), _step(144, 1.9, p99=95.0)]
    assert carried(steps, 80) == 120
    assert sustained(steps, 80, cores=2) == pytest.approx(120 * 2 / 1.2)


def test_no_step_held_or_read() -> None:
    assert carried([_step(100, 1.0, p99=90.0)], 80) is None
    assert sustained([_step(100, 0.0)], 80, cores=2) is None


def test_a_step_with_degraded_answers_did_not_hold() -> None:
    """A scene answering overload with its standby page says ``200``: a step where it did
    was past what the nodes carry."""
    paged = Step(150, 100, 100, 10.0, True, 1.0, degraded=3)
    assert not paged.holds(80)
    assert carried([_step(100, 0.8), paged], 80) == 100
