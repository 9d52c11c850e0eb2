"""The statistics of an experiment report (scipy for the distributions).

* :func:`compare`: two-proportion z-test of a treatment rate against the control's:
  p-value from the pooled standard error, the confidence interval of the difference from
  the unpooled one, both also as relative lift (divided by the control rate).
* :func:`sample_size`: units per bucket to detect a relative lift ``mde`` with a
  two-sided test at ``alpha`` and the given ``power``.
* :func:`srm`: chi-square goodness of fit of the observed split against the configured
  percentages; ``warning`` when its p-value is below ``SRM_ALPHA``.

The z-test treats exposures as independent trials; a user's exposures are correlated,
so read p-values near ``alpha`` with care when few users see many items each.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from scipy import stats

SRM_ALPHA = 0.001


def compare(x_c: int, n_c: int, x_t: int, n_t: int, alpha: float = 0.05) -> dict[str, Any]:
    """Treatment ``x_t / n_t`` against control ``x_c / n_c``."""
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


def sample_size(p: float, mde: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Units per bucket to detect a rate moving from ``p`` to ``p * (1 + mde)``."""
    p2 = p * (1 + mde)
    if not 0 < p < 1 or not 0 < p2 < 1 or mde == 0:
        return None
    z_a = float(stats.norm.ppf(1 - alpha / 2))
    z_b = float(stats.norm.ppf(power))
    mean = (p + p2) / 2
    num = z_a * math.sqrt(2 * mean * (1 - mean)) + z_b * math.sqrt(p * (1 - p) + p2 * (1 - p2))
    return math.ceil(num**2 / (p2 - p) ** 2)


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
