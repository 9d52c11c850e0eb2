"""The report's statistics against textbook values."""

from __future__ import annotations

import pytest

from prism_platform.experiments.stats import compare, sample_size, srm


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


def test_sample_size_for_a_detectable_lift() -> None:
    assert sample_size(0.10, 0.10) == pytest.approx(14751, abs=5)  # 10% -> 11%, a=.05, 80%
    assert sample_size(0.10, 0.10, power=0.9) > sample_size(0.10, 0.10)  # type: ignore[operator]
    assert sample_size(0.0, 0.1) is None and sample_size(0.95, 0.1) is None


def test_sample_ratio_mismatch() -> None:
    assert not srm([5020, 4980], [50, 50])["warning"]
    bad = srm([5500, 4500], [50, 50])
    assert bad["warning"] and bad["p_value"] < 1e-20
    assert not srm([9000, 1000], [90, 10])["warning"]
    assert srm([0, 0], [50, 50])["p_value"] is None
