"""The candidate ranker's features from an interaction log, and its spec."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prism_platform.jobs.candidate_features import item_rows, user_rows, write_candidate_features
from prism_platform.jobs.tables import Interactions
from prism_platform.models.candidate_features import candidate_spec
from prism_sdk import LocalBackend
from prism_sdk.ranking import check_spec


def _log() -> Interactions:
    """User u: three views of shoes long ago, then a click and an order on a book;
    user v: one click on a shoe."""
    rows = [(0, 0, 1, "view"), (0, 1, 2, "view"), (0, 0, 3, "view"), (0, 2, 10, "click"),
            (0, 2, 11, "order"), (1, 1, 5, "click")]  # fmt: skip
    return Interactions(
        user_idx=np.array([r[0] for r in rows], np.int64),
        item_idx=np.array([r[1] for r in rows], np.int64),
        ts=np.array([r[2] for r in rows], np.float64),
        types=np.array([r[3] for r in rows], np.str_),
        user_ids=["u", "v"],
        item_ids=["s1", "s2", "b1"],
        item_categories=["shoes", "shoes", "books"],
    )


def test_user_rows_weigh_categories_by_event_type_and_recency() -> None:
    rows = user_rows(_log())
    u = rows["u"]
    # weights view 1, click 2, order 8: shoes 3, books 10
    assert u["category_share"] == pytest.approx({"books": 10 / 13, "shoes": 3 / 13}, abs=1e-4)
    assert u["last_categories"] == pytest.approx({"books": 2 / 3, "shoes": 1 / 3}, abs=1e-4)
    assert u["recent_categories"] == pytest.approx({"shoes": 0.6, "books": 0.4}, abs=1e-4)
    assert u["activity"] == pytest.approx(math.log1p(5), abs=1e-4)
    assert rows["v"]["category_share"] == {"shoes": 1.0}


def test_item_rows_count_engagement_overall_and_within_the_category() -> None:
    rows = item_rows(_log())
    assert set(rows) == {"s2", "b1"}  # s1 was only viewed
    assert rows["b1"]["engaged"] == pytest.approx(math.log1p(2), abs=1e-4)
    assert rows["b1"]["in_category"] == 1.0
    assert rows["s2"]["in_category"] == 1.0


def test_the_spec_reads_what_is_written() -> None:
    backend = LocalBackend()
    counts = write_candidate_features(backend, _log())
    assert counts == {"user_features": 2, "item_stats": 2}
    spec = check_spec(candidate_spec(["shoes", "books"]), "test")
    assert {"cat_share", "cat_recent", "cat_last", "item_engaged", "from_recent"} <= set(
        spec.names)  # fmt: skip
    assert backend.features["item_stats"]["b1"]["engaged"] > 0
