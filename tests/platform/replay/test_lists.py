"""The list comparisons against values worked out by hand, and RBO's known properties."""

from __future__ import annotations

import pytest

from prism_platform.replay.lists import (
    new_item_share,
    overlap_at_k,
    percentile,
    rbo,
    shares,
    total_variation,
)


def test_rbo_of_identical_lists_is_one_and_of_disjoint_ones_zero() -> None:
    for p in (0.5, 0.9, 0.98):
        assert rbo(list("abcdef"), list("abcdef"), p) == pytest.approx(1.0)
        assert rbo(list("abc"), list("xyz"), p) == 0.0
    assert rbo([], []) == 1.0 and rbo(["a"], []) == 0.0


@pytest.mark.parametrize(
    ("a", "b", "p", "expected"),
    [
        # X1=0 X2=2 X3=2: (1-p)/p * (0.81*2/2 + 0.729*2/3) + 0.729*2/3
        ("abc", "bad", 0.9, 0.1 / 0.9 * (0.81 + 0.486) + 0.486),
        # X1=0 X2=2: (1-p)/p * 0.81 + 0.81
        ("ab", "ba", 0.9, 0.09 + 0.81),
        # X1=1 X2=2 X3=2 at p=0.5: 1 * (0.5 + 0.25 + 0.125*2/3) + 0.125*2/3
        ("abc", "abd", 0.5, 0.5 + 0.25 + 2 * 0.125 * 2 / 3),
        # unequal lengths (eq. 32): S=[a] L=[b,a]; X1=0, X2=1, Xs=0, Xl=1:
        # (1-p)/p * (0 + 0.81/2 + 0) + ((1-0)/2 + 0) * 0.81
        ("a", "ba", 0.9, 0.1 / 0.9 * 0.405 + 0.405),
    ],
)
def test_rbo_matches_hand_computed_values(a: str, b: str, p: float, expected: float) -> None:
    assert rbo(list(a), list(b), p) == pytest.approx(expected)
    assert rbo(list(b), list(a), p) == pytest.approx(expected)  # symmetric


def test_a_prefix_extrapolates_to_agreement_and_top_weight_grows_as_p_falls() -> None:
    assert rbo(["a"], ["a", "b"]) == pytest.approx(1.0)  # nothing contradicts it
    swapped_top = (list("bacdefgh"), list("abcdefgh"))
    swapped_tail = (list("abcdefhg"), list("abcdefgh"))
    for p in (0.5, 0.9):
        assert rbo(*swapped_top, p) < rbo(*swapped_tail, p)  # the top weighs more
    # a small p puts nearly all the weight on the first ranks
    assert rbo(*swapped_top, 0.5) < rbo(*swapped_top, 0.9)
    assert rbo(*swapped_tail, 0.5) > rbo(*swapped_tail, 0.9)
    with pytest.raises(ValueError, match="p must be within"):
        rbo(["a"], ["a"], 1.0)


def test_overlap_at_k_new_items_and_mixes() -> None:
    assert overlap_at_k(list("abcd"), list("dcba"), 4) == 1.0
    assert overlap_at_k(list("abcd"), list("abxy"), 2) == 1.0
    assert overlap_at_k(list("abcd"), list("axby"), 2) == 0.5
    assert overlap_at_k(list("ab"), list("abc"), 10) == pytest.approx(2 / 3)
    assert overlap_at_k([], [], 5) == 1.0
    assert new_item_share(list("abc"), list("bcxy")) == 0.5
    assert new_item_share(list("abc"), []) == 0.0
    mix = shares([("i2i",), ("i2i", "popular"), ()])
    assert mix == pytest.approx({"-": 1 / 3, "i2i": 0.5, "popular": 1 / 6})
    assert sum(mix.values()) == pytest.approx(1.0)
    assert total_variation({"a": 1.0}, {"b": 1.0}) == 1.0
    assert total_variation({"a": 0.5, "b": 0.5}, {"a": 0.75, "b": 0.25}) == 0.25
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5 and percentile([], 99) is None
