import numpy as np

from prism_platform.jobs.bought_together import bought_together

DAY = 86400.0


def test_baskets_split_on_time_gaps_and_the_table_is_symmetric() -> None:
    users = np.array([0, 0, 0, 1, 1, 2, 2])
    items = np.array([0, 1, 2, 0, 1, 2, 3])
    ts = np.array([0.0, 100.0, 10 * DAY, 0.0, 50.0, 0.0, 60.0])
    table = bought_together(users, items, ts, 4, ["a", "b", "c", "d"], window_s=DAY)
    assert table["a"][0][0] == "b" and table["b"][0][0] == "a"
    assert dict(table["a"])["b"] == dict(table["b"])["a"]
    assert "c" not in dict(table["a"])  # bought ten days later: another basket
    assert dict(table["c"]) == {"d": dict(table["d"])["c"]}
