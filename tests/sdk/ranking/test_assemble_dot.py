"""The ``dot`` cross feature: the user–item inner product from a vector table."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from prism_sdk import Context, DataClient, Item, LocalBackend, Request, StrategyConfig
from prism_sdk.data.vectors import Vectors, VectorTable
from prism_sdk.ranking import Assembler, Feature, FeatureSpec, ModelError
from prism_sdk.ranking._spec import check_spec

SPEC = FeatureSpec(
    (
        Feature("recall", "cross", op="score"),
        Feature("emb", "cross", op="dot", namespace="emb"),
        Feature("emb0", "cross", op="dot", namespace="emb", default=0.0),
    )
)


def _matrix(user_id: str) -> np.ndarray:
    backend = LocalBackend()
    backend.upsert_items({i: {"status": "on"} for i in "abc"})
    backend.replace_vectors(
        "emb",
        VectorTable(
            Vectors.of(["u"], np.array([[1.0, 2.0]], np.float32)),
            Vectors.of(["a", "b"], np.array([[1.0, 0.0], [0.5, -1.0]], np.float32)),
        ),
    )
    req = Request(scene="s", user_id=user_id)
    ctx: Context[Any] = Context(
        req, StrategyConfig(), DataClient(backend), deadline=time.monotonic() + 5
    )
    items = [Item(i, 0.5, "x") for i in ["a", "b", "c"]]  # c: no vector
    return Assembler(SPEC).assemble(ctx, items)


def test_the_inner_product_of_user_and_item_vectors() -> None:
    m = _matrix("u")
    np.testing.assert_array_equal(m[:, 0], [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(m[:2, 1], [1.0, -1.5])
    assert np.isnan(m[2, 1]) and m[2, 2] == 0.0  # no item vector: the default


def test_a_user_without_a_vector_gets_the_default() -> None:
    m = _matrix("new")
    assert np.isnan(m[:, 1]).all() and (m[:, 2] == 0.0).all()


def test_a_dot_feature_needs_a_vector_table() -> None:
    with pytest.raises(ModelError, match="dot cross needs namespace"):
        check_spec(FeatureSpec((Feature("e", "cross", op="dot"),)), "m")
