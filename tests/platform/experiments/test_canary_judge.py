"""``judge()``: every threshold, the minimum samples and ``promote_after_s``."""

from __future__ import annotations

import math
from typing import Any

import pytest

from prism_platform.db.canary_analysis import CanaryAnalysis
from prism_platform.experiments.canary import ArmStats, judge

HEALTHY = ArmStats(requests=500, errors=1, fallbacks=2, p99_ms=50.0, exposures=5000, clicks=250)
PRIMARY = ArmStats(
    requests=5000, errors=5, fallbacks=10, p99_ms=50.0, exposures=50_000, clicks=2500
)


def _arm(**changes: Any) -> ArmStats:
    fields = {**HEALTHY.as_json(), **changes}
    return ArmStats(**fields)


CASES = [
    # (id, analysis, canary, age_s, action, a phrase of the reasons)
    ("error rate breached", {"max_error_rate": 0.02}, _arm(errors=11), 5, "abort",
     "error rate 2.2 % (11 errors over 500 canary requests; primary 0.1 %) > 2 %"),
    ("error rate at the limit", {"max_error_rate": 0.02}, _arm(errors=10), 5, "wait",
     "error rate 2 % (10 errors over 500 canary requests; primary 0.1 %) <= 2 %"),
    ("max_error_rate 0: any error aborts", {"max_error_rate": 0}, _arm(errors=1), 5, "abort",
     "(1 error over 500 canary requests; primary 0.1 %) > 0 %"),
    ("fallback rate breached", {"max_fallback_rate": 0.05}, _arm(fallbacks=30), 5, "abort",
     "fallback rate 6 % (30 fallbacks over 500 canary requests; primary 0.2 %) > 5 %"),
    ("errors are not judged by the fallback rate", {"max_fallback_rate": 0.05},
     _arm(errors=20, fallbacks=20), 5, "wait", "fallback rate 4 %"),
    ("p99 breached", {"max_p99_ms": 100}, _arm(p99_ms=200.0), 5, "abort",
     "p99 200 ms over 500 canary requests (primary 50 ms) > 100 ms"),
    ("p99 above the histogram", {"max_p99_ms": 100}, _arm(p99_ms=math.inf), 5, "abort",
     "p99 > 2000 ms"),
    ("p99 at the limit", {"max_p99_ms": 100}, _arm(p99_ms=100.0), 5, "wait", "<= 100 ms"),
    ("p99 without an answered request", {"max_p99_ms": 100}, _arm(p99_ms=None), 5, "wait",
     "no request answered by the canary yet"),
    ("too few requests: no verdict on the rates", {"max_error_rate": 0.02},
     _arm(requests=99, errors=99), 5, "wait", "99 of 100 canary requests so far"),
    ("too few requests: no verdict on the p99", {"max_p99_ms": 100},
     _arm(requests=50, p99_ms=900.0), 5, "wait", "50 of 100 canary requests so far"),
    ("CTR drop breached", {"max_ctr_drop": 0.1}, _arm(clicks=200), 5, "abort",
     "CTR 4 % is 20.0 % below the primary's 5 % (5,000 and 50,000 exposures); max drop 10 %"),
    ("CTR drop within", {"max_ctr_drop": 0.1}, _arm(clicks=230), 5, "wait",
     "CTR 4.6 % is 8.0 % below"),
    ("CTR above the primary's", {"max_ctr_drop": 0.1}, _arm(clicks=300), 5, "wait",
     "20.0 % above"),
    ("too few canary exposures: no CTR verdict", {"max_ctr_drop": 0.1},
     _arm(exposures=999, clicks=0), 5, "wait", "CTR: 999 of 1,000 canary exposures so far"),
    ("CTR has its own minimum, not the requests'", {"max_ctr_drop": 0.1},
     _arm(requests=3, clicks=100), 5, "abort", "60.0 % below"),
    ("CTR minimum set by min_exposures", {"max_ctr_drop": 0.1, "min_exposures": 6000},
     _arm(clicks=100), 5, "wait", "5,000 of 6,000 canary exposures"),
    ("a breach aborts even while another figure waits", {"max_error_rate": 0.02,
     "max_ctr_drop": 0.1}, _arm(errors=50, exposures=10), 5, "abort", "error rate 10 %"),
    ("no promote_after_s: never promotes", {"max_error_rate": 0.02}, HEALTHY, 10**6, "wait",
     "promote it by hand"),
    ("promote_after_s not yet", {"max_error_rate": 0.02, "promote_after_s": 1800}, HEALTHY,
     1799.5, "wait", "promotes in 1 s without a breach"),
    ("promote_after_s passed", {"max_error_rate": 0.02, "promote_after_s": 1800}, HEALTHY,
     1800, "promote", "no breach after 30 min 0 s (promote_after_s 1800)"),
    ("promote waits for the minimum sample", {"promote_after_s": 60}, _arm(requests=10), 3600,
     "wait", "10 of 100 canary requests so far"),
    ("promote waits for the CTR sample", {"max_ctr_drop": 0.1, "promote_after_s": 60},
     _arm(exposures=10), 3600, "wait", "CTR: 10 of 1,000 canary exposures"),
    ("a breach wins over promotion", {"max_p99_ms": 20, "promote_after_s": 60}, HEALTHY,
     3600, "abort", "p99 50 ms"),
    ("min_requests set", {"max_error_rate": 0.5, "min_requests": 1000}, HEALTHY, 5, "wait",
     "500 of 1,000 canary requests so far"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("analysis", "canary", "age_s", "action", "phrase"),
    [pytest.param(*c[1:], id=c[0]) for c in CASES],
)
def test_judge(
    analysis: dict[str, Any], canary: ArmStats, age_s: float, action: str, phrase: str
) -> None:
    verdict = judge(CanaryAnalysis.parse(analysis), canary, PRIMARY, age_s)
    assert verdict.action == action, verdict.reasons
    assert any(phrase in r for r in verdict.reasons), verdict.reasons


def test_promotion_names_every_figure_that_passed() -> None:
    analysis = CanaryAnalysis.parse(
        {
            "max_error_rate": 0.02,
            "max_fallback_rate": 0.05,
            "max_p99_ms": 100,
            "max_ctr_drop": 0.1,
            "promote_after_s": 60,
        }
    )
    verdict = judge(analysis, HEALTHY, PRIMARY, 61)
    assert verdict.action == "promote"
    assert [r.split(" ")[0] for r in verdict.reasons] == [
        "error", "fallback", "p99", "CTR", "no"
    ]  # fmt: skip


def test_ctr_without_a_primary_click_waits() -> None:
    primary = ArmStats(requests=5000, p99_ms=50.0, exposures=50_000, clicks=0)
    verdict = judge(CanaryAnalysis.parse({"max_ctr_drop": 0.1}), HEALTHY, primary, 5)
    assert verdict.action == "wait" and "the primary has no click yet" in verdict.reasons[0]


def test_the_rates_of_an_idle_arm_are_unknown() -> None:
    assert ArmStats().error_rate is None and ArmStats().ctr is None
    assert ArmStats(p99_ms=math.inf).as_json()["p99_above_ms"] == 2000.0
