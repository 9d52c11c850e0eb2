"""The traffic-split arithmetic (pure): checks and the users a new split moves."""

from __future__ import annotations

import pytest

from prism_workbench.split import Row, check, moves, owners, read_form, redrawn_share


def test_owners_assign_the_slots_in_order() -> None:
    slots = owners([("a", 25.0), ("b", 75.0)])
    assert len(slots) == 1000
    assert slots[:250] == ["a"] * 250 and slots[250:] == ["b"] * 750


def test_swapping_the_order_moves_users_by_hand() -> None:
    # old: a 0-499, b 500-999; new: b 0-299, a 300-999
    # moved: slots 0-299 (a -> b, 300) and 500-999 (b -> a, 500): 800 of 1000
    m = moves([("a", 50.0), ("b", 50.0)], [("b", 30.0), ("a", 70.0)])
    assert m.slots == 800 and m.share == 80.0
    assert m.flows == [("b", "a", 500), ("a", "b", 300)]
    assert m.net == {"a": 200, "b": -200}


def test_a_new_bucket_at_the_end_by_hand() -> None:
    # old: base 0-999; new: base 0-899, exp 900-999: 100 slots move
    m = moves([("base", 100.0)], [("base", 90.0), ("exp", 10.0)])
    assert (m.slots, m.share, m.net) == (100, 10.0, {"base": -100, "exp": 100})
    # old: a 0-499, b 500-999; new: a 0-399, b 400-899, c 900-999:
    # 400-499 a -> b and 900-999 b -> c: 200 slots
    m = moves([("a", 50.0), ("b", 50.0)], [("a", 40.0), ("b", 50.0), ("c", 10.0)])
    assert m.slots == 200 and m.net == {"a": -100, "c": 100}


def test_the_same_split_moves_nobody() -> None:
    m = moves([("a", 33.3), ("b", 66.7)], [("a", 33.3), ("b", 66.7)])
    assert (m.slots, m.flows, m.net) == (0, [], {})


def test_a_new_salt_redraws_everyone() -> None:
    # 50/50 both times: half the users land in the other bucket
    assert redrawn_share([("a", 50.0), ("b", 50.0)], [("a", 50.0), ("b", 50.0)]) == 50.0
    assert redrawn_share([("a", 100.0)], [("a", 100.0)]) == 0.0


def test_read_form_keeps_row_order_and_drops_blank_rows() -> None:
    form = {"name": " exp2 ", "bucket_0": "a", "percent_0": "60", "bucket_2": "b"}
    assert read_form(form) == ("exp2", [Row("a", "60"), Row("b", "")])


def test_a_good_split_is_parsed() -> None:
    p = check("exp2", [Row("base", "70"), Row("exp", "29.9"), Row("tail", "0.1")])
    assert p.errors == {} and p.buckets == [("base", 70.0), ("exp", 29.9), ("tail", 0.1)]


@pytest.mark.parametrize(
    ("rows", "field", "says"),
    [
        ([Row("a", "50"), Row("b", "40")], "buckets", "sum to 90, not 100"),
        ([Row("a", "50"), Row("a", "50")], "bucket_1", "appears more than once"),
        ([Row("A b", "100")], "bucket_0", "lower-case letter"),
        ([Row("a", "-5"), Row("b", "105")], "percent_0", "from 0 to 100"),
        ([Row("a", "x"), Row("b", "100")], "percent_0", "from 0 to 100"),
        ([Row("a", "99.95"), Row("b", "0.05")], "percent_0", "one decimal"),
        ([Row("a", "0"), Row("b", "100")], "percent_0", "serves nobody"),
        ([], "buckets", "at least one bucket"),
    ],
)
def test_a_bad_split_names_the_field(rows: list[Row], field: str, says: str) -> None:
    p = check("exp2", rows)
    assert says in p.errors[field] and p.buckets == []


def test_the_name_is_required() -> None:
    assert "name" in check("", [Row("a", "100")]).errors
