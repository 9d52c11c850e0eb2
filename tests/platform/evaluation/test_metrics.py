"""Metric functions against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prism_platform.evaluation.metrics import (
    bootstrap_ci,
    coverage_at_k,
    coverage_ci,
    hits,
    ndcg_at_k,
    paired_ci,
    precision_at_k,
    recall_at_k,
    resample_counts,
    score_lists,
    user_scores,
)

# two users, K = 3, catalogue of 6 items; user 0 relevant {1, 4}, user 1 relevant {5}
RECS = np.array([[1, 2, 4], [0, 3, -1]], np.int64)
REL_ROWS = np.array([0, 0, 1], np.int64)
REL_ITEMS = np.array([1, 4, 5], np.int64)
N_REL = np.array([2, 1], np.int64)


def test_hits_mark_relevant_positions_and_ignore_padding() -> None:
    hit = hits(RECS, REL_ROWS, REL_ITEMS, 6)
    assert hit.tolist() == [[True, False, True], [False, False, False]]
    # a padded slot (-1) never matches, even against the last item of the previous row
    assert not hits(np.array([[5], [-1]]), np.array([0]), np.array([5]), 6)[1, 0]


def test_precision_recall_ndcg_by_hand() -> None:
    hit = hits(RECS, REL_ROWS, REL_ITEMS, 6)
    assert precision_at_k(hit, 3).tolist() == pytest.approx([2 / 3, 0.0])
    assert recall_at_k(hit, N_REL, 3).tolist() == pytest.approx([1.0, 0.0])
    dcg = 1 / math.log2(2) + 1 / math.log2(4)  # hits at ranks 1 and 3
    ideal = 1 / math.log2(2) + 1 / math.log2(3)  # two relevant items at ranks 1 and 2
    assert ndcg_at_k(hit, N_REL, 3).tolist() == pytest.approx([dcg / ideal, 0.0])
    # at K = 1 only the first position counts, and the ideal list holds one item
    assert precision_at_k(hit, 1).tolist() == [1.0, 0.0]
    assert recall_at_k(hit, N_REL, 1).tolist() == [0.5, 0.0]
    assert ndcg_at_k(hit, N_REL, 1).tolist() == [1.0, 0.0]


def test_ndcg_of_a_perfect_list_is_one_and_of_a_late_hit_is_discounted() -> None:
    perfect = np.array([[True, True, False]])
    assert ndcg_at_k(perfect, np.array([2]), 3).tolist() == [1.0]
    late = np.array([[False, False, True]])
    assert ndcg_at_k(late, np.array([1]), 3).tolist() == pytest.approx([0.5])  # 1/log2(4)


def test_coverage_counts_distinct_items_over_the_catalogue() -> None:
    assert coverage_at_k(RECS, 6, 3) == pytest.approx(5 / 6)  # 0-4; the -1 pad is no item
    assert coverage_at_k(RECS, 6, 1) == pytest.approx(2 / 6)


def test_score_lists_averages_over_users_from_item_ids() -> None:
    pos = {str(i): i for i in range(6)}
    out = score_lists([["1", "2", "4", "9"], ["0", "3"]], [{"1", "4"}, {"5"}], pos, 3)
    dcg = 1 + 1 / math.log2(4)
    ideal = 1 + 1 / math.log2(3)
    assert out == pytest.approx(
        {"precision": 1 / 3, "recall": 0.5, "ndcg": dcg / ideal / 2, "coverage": 5 / 6}
    )


def test_a_bootstrap_interval_contains_the_mean_and_is_seeded() -> None:
    values = np.random.default_rng(1).random(500)
    counts = resample_counts(len(values), 1000, seed=3)
    assert counts.shape == (1000, 500) and (counts.sum(axis=1) == 500).all()
    lo, hi = bootstrap_ci(values, counts)
    assert lo < values.mean() < hi
    # about two standard errors either side of the mean
    se = values.std() / math.sqrt(len(values))
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.15)
    assert bootstrap_ci(values, resample_counts(500, 1000, seed=3)) == (lo, hi)
    assert bootstrap_ci(values, resample_counts(500, 1000, seed=4)) != (lo, hi)


def test_a_constant_metric_has_an_interval_of_zero_width() -> None:
    counts = resample_counts(50, 200, seed=0)
    assert bootstrap_ci(np.full(50, 0.25), counts) == pytest.approx((0.25, 0.25))
    # every user lists the same item: coverage is the same in every resample
    recs = np.array([[2, -1]] * 50, np.int64)
    assert coverage_ci(recs, 10, 2, counts) == pytest.approx((0.1, 0.1))


def test_user_scores_are_the_per_user_figures_score_lists_averages() -> None:
    lists = [["a", "b"], ["c", "x"]]
    relevant = [{"b"}, {"c", "d"}]
    pos = {i: n for n, i in enumerate("abcd")}
    per_user, recs = user_scores(lists, relevant, pos, 2)
    assert per_user["recall"].tolist() == [1.0, 0.5]
    assert recs.tolist() == [[0, 1], [2, -1]]
    assert score_lists(lists, relevant, pos, 2)["recall"] == 0.75


def test_a_paired_interval_is_narrower_than_the_two_intervals_it_compares() -> None:
    rng = np.random.default_rng(5)
    base = rng.random(800)  # what the users share: how findable their items are
    a, b = base + 0.02, base + rng.normal(0, 0.01, 800)
    counts = resample_counts(800, 1000, seed=1)
    (r_lo, r_hi), (d_lo, d_hi) = paired_ci(a, b, counts)
    # the separate intervals overlap, the paired interval of the difference excludes 0
    assert bootstrap_ci(a, counts)[0] < bootstrap_ci(b, counts)[1]
    assert 0 < d_lo < a.mean() - b.mean() < d_hi
    assert 1 < r_lo < a.mean() / b.mean() < r_hi
    # the same recommender against itself: a difference of exactly 0
    assert paired_ci(a, a, counts) == ((1.0, 1.0), (0.0, 0.0))
