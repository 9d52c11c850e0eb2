import numpy as np

from prism_platform.jobs.popular import decayed_scores, popular_tables


def test_a_recent_event_outweighs_an_old_one_and_types_are_weighted() -> None:
    day = 86400.0
    scores = decayed_scores(
        np.array([0, 1, 2, 2]),
        np.array([-10 * day, -0.1 * day, -1.0, -1.0]),
        ["order", "click", "view", "view"],
        3,
        now=0.0,
        half_life_s=day,
    )
    assert scores[1] > scores[0]  # a click today beats an order ten days ago
    assert np.isclose(scores[2], 2.0, atol=1e-3)


def test_tables_overall_and_per_category_skip_ineligible_items() -> None:
    scores = np.array([5.0, 4.0, 3.0, 0.0, 1.0])
    overall, per_cat = popular_tables(
        scores,
        ["a", "b", "c", "d", "e"],
        ["x", "y", "x", "y", "y"],
        eligible=np.array([True, False, True, True, True]),
    )
    assert [i for i, _ in overall["all"]] == ["a", "c", "e"]
    assert [i for i, _ in per_cat["x"]] == ["a", "c"]
    assert [i for i, _ in per_cat["y"]] == ["e"]
