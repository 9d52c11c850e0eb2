"""The report's statistics against textbook values and independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from prism_platform.experiments.stats import (
    RatioStats,
    compare,
    compare_ratio,
    srm,
    users_needed,
)


def _linearised_variance(xs: np.ndarray, ys: np.ndarray) -> float:
    """The delta-method variance computed the other way round: the sample variance of
    each user's linearised contribution (y - R·x) / x̄, over n."""
    r = ys.sum() / xs.sum()
    contrib = (ys - r * xs) / xs.mean()
    return float(contrib.var(ddof=1) / len(xs))


def test_ratio_variance_is_the_delta_method() -> None:
    rng = np.random.default_rng(1)
    xs = rng.integers(1, 40, 500).astype(float)  # exposures per user, very uneven
    ys = rng.binomial(xs.astype(int), rng.beta(2, 20, 500)).astype(float)  # tastes differ
    s = RatioStats.of(xs.tolist(), ys.tolist())
    assert s.users == 500 and s.ratio == pytest.approx(ys.sum() / xs.sum())
    assert s.variance() == pytest.approx(_linearised_variance(xs, ys), rel=1e-9)
    ones = RatioStats.of([1.0] * 4, [1.0, 0.0, 0.0, 1.0])  # one trial per user
    assert ones.variance() == pytest.approx(np.var([1, 0, 0, 1], ddof=1) / 4)
    assert RatioStats.of([3.0], [1.0]).variance() is None  # one user: no spread to see
    assert RatioStats.of([0.0, 0.0], [0.0, 0.0]).ratio is None


def test_compare_ratio_of_one_trial_per_user_is_the_unpooled_z_test() -> None:
    ctl = RatioStats.of([1.0] * 2000, [1.0] * 100 + [0.0] * 1900)
    trt = RatioStats.of([1.0] * 2000, [1.0] * 160 + [0.0] * 1840)
    r = compare_ratio(ctl, trt)
    se = math.sqrt((0.05 * 0.95 + 0.08 * 0.92) / 1999)
    assert r["diff"] == pytest.approx(0.03) and r["lift"] == pytest.approx(0.6)
    assert r["p_value"] == pytest.approx(2 * stats.norm.sf(0.03 / se)) and r["significant"]
    assert r["ci"] == pytest.approx([0.03 - 1.959964 * se, 0.03 + 1.959964 * se])
    se_lift = math.sqrt(0.0736 / 1999 / 0.05**2 + 0.08**2 * 0.0475 / 1999 / 0.05**4)
    assert r["lift_ci"] == pytest.approx([0.6 - 1.959964 * se_lift, 0.6 + 1.959964 * se_lift])
    assert r["unit"] == "user"
    same = compare_ratio(ctl, ctl)
    assert same["p_value"] == pytest.approx(1.0) and not same["significant"]
    empty = RatioStats(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert compare_ratio(empty, trt)["p_value"] is None


def test_clustered_clicks_widen_the_interval() -> None:
    """Users who click everything or nothing: exposures are far from independent, and
    the per-user interval is much wider than the two-proportion one."""
    xs = [10.0] * 200
    c_ys = [10.0] * 10 + [0.0] * 190  # 5 % CTR, all from 10 users
    t_ys = [10.0] * 16 + [0.0] * 184  # 8 %
    per_user = compare_ratio(RatioStats.of(xs, c_ys), RatioStats.of(xs, t_ys))
    naive = compare(100, 2000, 160, 2000)
    assert naive["significant"] and not per_user["significant"]
    width = per_user["ci"][1] - per_user["ci"][0]
    assert width > 2.5 * (naive["ci"][1] - naive["ci"][0])  # design effect 1 + (10-1)·1


def test_users_needed_is_the_textbook_size_for_one_trial_per_user() -> None:
    ctl = RatioStats.of([1.0] * 1000, [1.0] * 100 + [0.0] * 900)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    s2 = 0.1 * 0.9 * 1000 / 999  # the control's sample variance
    assert users_needed(ctl, 0.10) == math.ceil(2 * s2 * z**2 / 0.01**2)
    more, base = users_needed(ctl, 0.10, power=0.9), users_needed(ctl, 0.10)
    assert more is not None and base is not None and more > base
    assert users_needed(RatioStats.of([1.0, 1.0], [0.0, 0.0]), 0.1) is None


def test_two_proportion_z_test() -> None:
    r = compare(100, 2000, 160, 2000)
    assert r["diff"] == pytest.approx(0.03) and r["lift"] == pytest.approx(0.6)
    assert r["p_value"] == pytest.approx(1.19e-4, rel=0.01) and r["significant"]
    lo, hi = r["ci"]
    assert lo == pytest.approx(0.03 - 1.96 * 0.007826, abs=1e-4) and hi > 0.03
    assert r["lift_ci"] == pytest.approx([lo / 0.05, hi / 0.05])
    same = compare(100, 2000, 100, 2000)
    assert same["p_value"] == pytest.approx(1.0) and not same["significant"]
    assert compare(0, 0, 5, 10)["p_value"] is None
    assert compare(0, 10, 0, 10)["p_value"] == 1.0 and compare(0, 10, 0, 10)["lift"] is None


def test_sample_ratio_mismatch() -> None:
    assert not srm([5020, 4980], [50, 50])["warning"]
    bad = srm([5500, 4500], [50, 50])
    assert bad["warning"] and bad["p_value"] < 1e-20
    assert not srm([9000, 1000], [90, 10])["warning"]
    assert srm([0, 0], [50, 50])["p_value"] is None
