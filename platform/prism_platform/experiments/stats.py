"""The statistics of an experiment report (scipy for the distributions).

The unit of analysis is the user: traffic is split by user, and one user's exposures
and clicks are not independent trials (a user who likes the feed clicks on many
items), so a test that treats exposures as independent overstates significance when
users see many items. CTR (clicks / exposures) and CVR (orders / clicks) are ratio
metrics over users:

* :class:`RatioStats`: the per-user sufficient statistics of a ratio ``Σy / Σx`` (users,
  the sums of x, y, x², y², xy over users), added up by SQL from per-user counts;
* :func:`compare_ratio`: treatment against control, the variance of each ratio by the
  delta method (``Var(R) ≈ (s_yy − 2R·s_xy + R²·s_xx) / (n·x̄²)``), a two-sided z-test
  of the difference, its confidence interval, and the relative lift with its own
  delta-method interval;
* :func:`users_needed`: users per bucket to detect a relative lift ``mde``;
* :func:`srm`: chi-square goodness of fit of the observed split (users) against the
  configured percentages; ``warning`` when its p-value is below ``SRM_ALPHA``.

:func:`compare` (the two-proportion z-test over independent trials) stays for what
really is one trial per unit, and to show, in the simulator's tests, how much it
overstates significance on exposures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scipy import stats

SRM_ALPHA = 0.001


@dataclass(frozen=True)
class RatioStats:
    """Per-user sums of a ratio metric ``Σy / Σx`` (e.g. y clicks, x exposures)."""

    users: int
    sum_x: float
    sum_y: float
    sum_xx: float
    sum_yy: float
    sum_xy: float

    @classmethod
    def of(cls, xs: Sequence[float], ys: Sequence[float]) -> RatioStats:
        """From per-user values (what SQL computes with SUMs over users)."""
        return cls(
            len(xs),
            float(sum(xs)),
            float(sum(ys)),
            float(sum(x * x for x in xs)),
            float(sum(y * y for y in ys)),
            float(sum(x * y for x, y in zip(xs, ys, strict=True))),
        )

    @property
    def ratio(self) -> float | None:
        return self.sum_y / self.sum_x if self.sum_x else None

    def variance(self) -> float | None:
        """Delta-method variance of :attr:`ratio` (``None`` below two users)."""
        n, r = self.users, self.ratio
        if n < 2 or r is None:
            return None
        mx, my = self.sum_x / n, self.sum_y / n
        s_xx = (self.sum_xx - n * mx * mx) / (n - 1)
        s_yy = (self.sum_yy - n * my * my) / (n - 1)
        s_xy = (self.sum_xy - n * mx * my) / (n - 1)
        return max(0.0, (s_yy - 2 * r * s_xy + r * r * s_xx) / (n * mx * mx))


def compare_ratio(ctl: RatioStats, trt: RatioStats, alpha: float = 0.05) -> dict[str, Any]:
    """Treatment's ratio against the control's, over users."""
    r_c, r_t = ctl.ratio, trt.ratio
    out: dict[str, Any] = {"control_rate": r_c, "rate": r_t, "unit": "user"}
    out |= {"diff": None, "lift": None, "ci": None, "lift_ci": None}
    out |= {"p_value": None, "significant": False}
    v_c, v_t = ctl.variance(), trt.variance()
    if r_c is None or r_t is None or v_c is None or v_t is None:
        return out
    diff = r_t - r_c
    se = math.sqrt(v_c + v_t)
    z_crit = float(stats.norm.ppf(1 - alpha / 2))
    p_value = (1.0 if diff == 0 else 0.0) if se == 0 else float(2 * stats.norm.sf(abs(diff) / se))
    out |= {"diff": diff, "ci": [diff - z_crit * se, diff + z_crit * se]}
    out |= {"p_value": p_value, "significant": p_value < alpha}
    if r_c > 0:
        lift = diff / r_c
        se_lift = math.sqrt(v_t / r_c**2 + r_t**2 * v_c / r_c**4)
        out |= {"lift": lift, "lift_ci": [lift - z_crit * se_lift, lift + z_crit * se_lift]}
    return out


def users_needed(
    ctl: RatioStats, mde: float, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """Users per bucket to detect the control's ratio moving by ``mde`` (relative), with
    the per-user variance the control shows so far."""
    r, v = ctl.ratio, ctl.variance()
    if r is None or v is None or r == 0 or mde == 0:
        return None
    per_user = v * ctl.users  # the variance one user adds, as n · Var(R)
    z = float(stats.norm.ppf(1 - alpha / 2)) + float(stats.norm.ppf(power))
    return max(2, math.ceil(2 * per_user * z * z / (mde * r) ** 2))


def compare(x_c: int, n_c: int, x_t: int, n_t: int, alpha: float = 0.05) -> dict[str, Any]:
    """Two-proportion z-test of ``x_t / n_t`` against ``x_c / n_c`` (independent trials)."""
    p_c = x_c / n_c if n_c else 0.0
    p_t = x_t / n_t if n_t else 0.0
    out: dict[str, Any] = {"control_rate": p_c, "rate": p_t, "diff": p_t - p_c}
    out |= {"lift": None, "ci": None, "lift_ci": None, "p_value": None, "significant": False}
    if not n_c or not n_t:
        return out
    pooled = (x_c + x_t) / (n_c + n_t)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
    se = math.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)
    z_crit = float(stats.norm.ppf(1 - alpha / 2))
    ci = (p_t - p_c - z_crit * se, p_t - p_c + z_crit * se)
    p_value = 1.0 if se0 == 0 else float(2 * stats.norm.sf(abs(p_t - p_c) / se0))
    out |= {"ci": list(ci), "p_value": p_value, "significant": p_value < alpha}
    if p_c > 0:
        out |= {"lift": (p_t - p_c) / p_c, "lift_ci": [ci[0] / p_c, ci[1] / p_c]}
    return out


def srm(observed: Sequence[int], percents: Sequence[float]) -> dict[str, Any]:
    """Sample-ratio-mismatch check of ``observed`` counts against ``percents``."""
    total = sum(observed)
    weight = sum(percents)
    expected = [total * p / weight for p in percents]
    out: dict[str, Any] = {"observed": list(observed), "expected": expected}
    if total == 0 or len(observed) < 2:
        return out | {"chi2": None, "p_value": None, "warning": False}
    chi2, p_value = stats.chisquare(list(observed), expected)
    return out | {
        "chi2": float(chi2),
        "p_value": float(p_value),
        "warning": bool(p_value < SRM_ALPHA),
    }
