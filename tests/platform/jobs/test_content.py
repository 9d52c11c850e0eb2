import numpy as np
import pytest

from prism_platform.jobs.content import content_features, content_similarity

ITEMS = {
    "shoe": {"title": "Red running shoe", "category": "shoes", "shop": "s1"},
    "shoe-pro": {"title": "Red running shoe pro", "category": "shoes", "shop": "s2"},
    "sneaker": {"title": "Trail sneaker", "category": "shoes", "shop": "s9"},
    "jacket": {"title": "Blue denim jacket", "category": "jackets", "shop": "s1"},
    "wallet": {"title": "Leather wallet", "category": "accessories", "shop": "s3"},
    "blank": {"title": ""},
}


def test_shared_title_words_then_category_then_shop_and_nothing_else() -> None:
    table = content_similarity(ITEMS)
    assert [i for i, _ in table["shoe"]] == ["shoe-pro", "sneaker", "jacket"]
    scores = [s for _, s in table["shoe"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0.5
    assert "blank" not in table  # nothing to compare
    assert all(key not in {i for i, _ in rows} for key, rows in table.items())


def test_cosine_of_unit_rows() -> None:
    f = content_features(ITEMS).toarray()
    norms = np.linalg.norm(f, axis=1)
    np.testing.assert_allclose(norms[:5], 1.0, rtol=1e-5)
    assert norms[5] == 0
    table = content_similarity(ITEMS)
    ids = list(ITEMS)
    for key, rows in table.items():
        for other, score in rows:
            expected = f[ids.index(key)] @ f[ids.index(other)]
            assert score == pytest.approx(expected, abs=1e-5)


def test_only_limits_the_rows_not_the_candidates() -> None:
    table = content_similarity(ITEMS, only=["wallet", "jacket"])
    assert set(table) == {"jacket"}  # the wallet shares nothing with anything
    assert table["jacket"][0][0] == "shoe"  # the same shop


def test_list_values_missing_fields_and_no_titles() -> None:
    items = {
        "a": {"category": ["drama", "war"]},
        "b": {"category": "war"},
        "c": {"category": ["comedy"]},
        "d": {"title": "!!"},
    }
    table = content_similarity(items)
    assert [i for i, _ in table["a"]] == ["b"] and "d" not in table and "c" not in table
