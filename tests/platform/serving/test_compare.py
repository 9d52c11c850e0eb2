"""``compare``: what differs between two answers to one request, from their bodies alone."""

from __future__ import annotations

from typing import Any

from prism_platform.serving.compare import compare


def _answer(
    items: list[tuple[str, float]], stages: tuple[tuple[str, int, int], ...] = ()
) -> dict[str, Any]:
    return {
        "items": [{"item_id": i, "score": s, "fields": {}} for i, s in items],
        "trace": {"stages": [{"stage": n, "ms": 0.1, "in": a, "out": b} for n, a, b in stages]},
    }


def test_identical_answers_are_the_same() -> None:
    a = _answer([("1", 0.9), ("2", 0.5)], (("merge", 10, 5),))
    cmp = compare(a, a)
    assert cmp.same and cmp.overlap == 2 and not cmp.only_a and not cmp.only_b
    assert [s.changed for s in cmp.stages] == [False]


def test_items_only_on_one_side_moves_and_score_changes() -> None:
    a = _answer([("1", 0.9), ("2", 0.5), ("3", 0.4), ("4", 0.1)])
    b = _answer([("3", 0.4), ("1", 0.9), ("5", 0.3), ("2", 0.45)])
    cmp = compare(a, b)
    assert not cmp.same
    assert cmp.overlap == 3
    assert cmp.only_a == ["4"] and cmp.only_b == ["5"]
    shifts = {d.item: d.shift for d in cmp.items}
    assert shifts == {"1": -1, "2": -2, "3": 2, "4": 0, "5": 0}  # positive: up in B
    assert [d.item for d in cmp.rescored] == ["2"]
    assert {d.item for d in cmp.moved} == {"1", "2", "3"}
    three = cmp.of("3")
    assert three is not None and (three.position_a, three.position_b) == (3, 1)
    five = cmp.of("5")
    assert five is not None and five.only_b and five.position_a is None
    assert [d.item for d in cmp.items] == ["1", "2", "3", "4", "5"]  # A's order, then B's new


def test_scores_equal_to_float_noise_are_not_a_change() -> None:
    cmp = compare(_answer([("1", 0.3)]), _answer([("1", 0.1 + 0.2)]))
    assert cmp.same and not cmp.rescored


def test_stage_counts_are_matched_by_name_and_repeats_are_numbered() -> None:
    a = _answer([], (("strategy.x", 0, 10), ("filter", 10, 8), ("filter", 8, 6)))
    b = _answer([], (("strategy.y", 0, 10), ("filter", 10, 8), ("filter", 8, 7)))
    got = {s.stage: (s.present_a, s.present_b, s.changed) for s in compare(a, b).stages}
    assert got == {
        "strategy.x": (True, False, True),
        "filter": (True, True, False),
        "filter#2": (True, True, True),
        "strategy.y": (False, True, True),
    }


def test_answers_without_a_trace_compare_their_items() -> None:
    a = {"items": [{"item_id": "1", "score": 1.0}]}
    b = {"items": [{"item_id": "1", "score": 1.0}, {"item_id": "1", "score": 0.5}]}
    cmp = compare(a, b)
    assert cmp.same and cmp.stages == ()  # a repeated item counts at its first place
    js = cmp.as_json()
    assert js["overlap"] == 1 and js["items"][0]["shift"] == 0 and js["stages"] == []
