"""The noise rule (a change must stand clear of the A-A′ difference) as a table, and the
``--fail-if`` rules: their syntax, their metrics, what fails."""

from __future__ import annotations

from typing import Any

import pytest

from prism_platform.errors import Invalid
from prism_platform.replay.fail_if import judge, metric_value, parse_rules
from prism_platform.replay.noise import NoiseThresholds, judge_distance, judge_values

T = NoiseThresholds(relative=0.1, absolute=0.01, absolute_ms=1.0)


@pytest.mark.parametrize(
    ("a", "a2", "b", "unit", "changed"),
    [
        (0.30, 0.30, 0.30, "share", False),  # nothing moved
        (0.30, 0.30, 0.305, "share", False),  # below the absolute floor
        (0.30, 0.30, 0.0, "share", True),  # a channel gone
        (0.30, 0.20, 0.19, "share", False),  # 0.11 <= 1.1 * 0.10 + 0.01: noise
        (0.30, 0.20, 0.17, "share", True),  # 0.13 > 0.12: clear of it, just
        (0.0, 0.0, 0.05, "share", True),  # errors appear
        (5.0, 5.2, 5.6, "ms", False),  # 0.6 ms: under the 1 ms floor
        (5.0, 5.2, 25.0, "ms", True),  # +20 ms
        (200.0, 200.5, 215.0, "ms", False),  # +15 ms on 200 ms: under 10 %
    ],
)
def test_a_metric_changes_only_clear_of_the_noise(
    a: float, a2: float, b: float, unit: Any, changed: bool
) -> None:
    assert judge_values("m", a, a2, b, T, unit).changed is changed


def test_a_comparison_metric_judges_its_distances() -> None:
    assert not judge_distance("rbo", 0.0, 0.0, T).changed  # the same version
    assert judge_distance("rbo", 0.4, 0.0, T).changed
    assert not judge_distance("rbo", 0.4, 0.38, T).changed  # randomness moves it as much
    assert judge_distance("rbo", 0.4, 0.1, T).changed
    with pytest.raises(Invalid) as bad:
        NoiseThresholds(relative=-1)
    assert bad.value.field == "relative"


REPORT: dict[str, Any] = {
    "latency_ms": {"A": {"p99": 10.0}, "B": {"p50": 30.0, "p99": 61.0, "mean": 31.0}},
    "errors": {"A": 0, "B": 3},
    "error_rate": {"A": 0.0, "B": 0.03},
    "degraded": {"B": 0.03},
    "items_per_request": {"B": 10.0},
    "data": {"misses": {"B": 2}},
    "analysis": {"price_delta": {"mean": -1.5}},
    "diff": {
        "rbo": 0.62,
        "overlap_at_k": 0.7,
        "new_item_share": 0.2,
        "channel_share": {"B": {"i2i": 0.8}},
        "changed": ["rbo", "channel_share.usercf"],
    },
}


def test_rules_read_their_metric_and_fail_when_they_hold() -> None:
    rules = parse_rules(["rbo<0.8, p99_ms>50", "errors>=3", "channel_share.usercf<0.05"])
    assert [str(r) for r in rules] == [
        "rbo<0.8",
        "p99_ms>50",
        "errors>=3",
        "channel_share.usercf<0.05",
    ]
    assert judge(REPORT, rules) == [
        "rbo<0.8: 0.62",
        "p99_ms>50: 61",
        "errors>=3: 3",
        "channel_share.usercf<0.05: 0",
    ]
    passing = parse_rules(["rbo<0.5", "p99_ms>100", "error_rate>0.05", "changed>2"])
    assert judge(REPORT, passing) == []
    assert metric_value(REPORT, "p99_ms_delta") == 51.0
    assert metric_value(REPORT, "data_misses") == 2.0
    assert metric_value(REPORT, "analysis.price_delta") == -1.5
    assert judge(REPORT, parse_rules(["analysis.nothing>0"])) == ["analysis.nothing>0: n/a"]


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ("rbo=0.8", "is not METRIC<VALUE"),
        ("rbo<", "is not METRIC<VALUE"),
        ("speed>3", "unknown fail-if metric 'speed'"),
        ("channel_share.>3", "unknown fail-if metric"),
        ("rbo<high", "'high' is not a number"),
    ],
)
def test_a_bad_rule_is_refused_naming_it(rule: str, says: str) -> None:
    with pytest.raises(Invalid, match=says) as bad:
        parse_rules([rule])
    assert bad.value.field == "fail_if"
