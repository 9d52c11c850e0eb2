import numpy as np
import pytest

from prism_platform.jobs.category_next import category_next


def test_each_category_lists_where_its_shoppers_go_next_by_share() -> None:
    # user 0: shoes, shoes, hats; user 1: shoes, bags; user 2: bags only
    users = np.array([0, 0, 0, 1, 1, 2])
    cats = np.array([0, 0, 1, 0, 2, 2])
    ts = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 1.0])
    table = category_next(users, cats, ts, ["shoes", "hats", "bags"], horizon=5)
    # after a shoe: user 0's pairs (shoes→shoes, shoes→hats twice) weigh 1/3 each (three
    # engagements), user 1's (shoes→bags) 1/2: an active user does not drown the others
    assert table["shoes"] == [
        ("hats", pytest.approx((2 / 3) / 1.5)),
        ("bags", pytest.approx((1 / 2) / 1.5)),
        ("shoes", pytest.approx((1 / 3) / 1.5)),
    ]
    assert "hats" not in table and "bags" not in table  # nothing came after them


def test_the_horizon_bounds_how_far_ahead_a_visit_counts_and_time_orders_events() -> None:
    users = np.zeros(3, np.int64)
    cats = np.array([2, 0, 1])
    ts = np.array([3.0, 1.0, 2.0])  # shoes, then hats, then bags
    near = category_next(users, cats, ts, ["shoes", "hats", "bags"], horizon=1)
    assert near == {"shoes": [("hats", 1.0)], "hats": [("bags", 1.0)]}
    far = category_next(users, cats, ts, ["shoes", "hats", "bags"], horizon=2)
    assert dict(far["shoes"]) == {"hats": 0.5, "bags": 0.5}
