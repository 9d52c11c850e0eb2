"""A tiny shop, a spec using every feature source, and a LightGBM model trained on it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import lightgbm
import numpy as np
import pytest

from prism_sdk import Context, DataClient, Item, LocalBackend, Request, StrategyConfig
from prism_sdk.ranking import Feature, FeatureSpec

CATS = ("shoes", "bags", "toys")
SPEC = FeatureSpec(
    (
        Feature("gender", "user", "gender", vocab=("f", "m")),
        Feature("age", "user", "age"),
        Feature("price", "item", "price"),
        Feature("category", "item", "category", vocab=CATS),
        Feature("ctr", "item_feature", "ctr", namespace="item"),
        Feature("device", "context", "device", vocab=("ios", "android", "web")),
        Feature("affinity", "cross", "category", op="affinity", user_field="top"),
        Feature("recall", "cross", op="score"),
        Feature("from_i2i", "cross", op="channel", value="i2i"),
    )
)
N_ITEMS = 60


@pytest.fixture(scope="session")
def shop() -> LocalBackend:
    rng = np.random.default_rng(3)
    b = LocalBackend()
    b.upsert_features("user", {"u1": {"gender": "f", "age": 31, "top": ["bags", "toys"]}})
    b.upsert_features("user", {"u2": {"gender": "m", "age": "n/a", "top": {"shoes": 0.7}}})
    b.upsert_items(
        {
            str(i): {"price": round(float(rng.uniform(5, 200)), 2), "category": CATS[i % 3]}
            for i in range(N_ITEMS)
        }
    )
    b.upsert_features("item", {str(i): {"ctr": float(rng.random())} for i in range(0, N_ITEMS, 2)})
    return b


@pytest.fixture
def make_ctx(shop: LocalBackend) -> Callable[..., Context[Any]]:
    def make(user: str = "u1", **context: Any) -> Context[Any]:
        req = Request(scene="s", user_id=user, context=context)
        return Context(req, StrategyConfig(), DataClient(shop), deadline=time.monotonic() + 5)

    return make


@pytest.fixture
def spec() -> FeatureSpec:
    return SPEC


@pytest.fixture
def cands() -> list[Item]:
    """Candidates "0".."59", recall score 1 / (1 + i), all from channel i2i."""
    return [
        Item(str(i), 1.0 / (1 + i), ("i2i",) if i % 2 else ("popular", "i2i"))
        for i in range(N_ITEMS)
    ]


@pytest.fixture(scope="session")
def model_text() -> str:
    """A binary LightGBM model over SPEC's columns, trained on random rows."""
    rng = np.random.default_rng(5)
    x = rng.random((400, len(SPEC.features))).astype(np.float32)
    y = (x[:, 2] + x[:, 6] + rng.normal(0, 0.3, 400) > 1.0).astype(int)
    params = {"objective": "binary", "verbose": -1, "num_leaves": 7, "min_data_in_leaf": 5}
    ds = lightgbm.Dataset(x, label=y, feature_name=SPEC.names)
    return str(lightgbm.train(params, ds, num_boost_round=20).model_to_string())


@pytest.fixture(scope="session")
def probe() -> np.ndarray:
    return np.random.default_rng(9).random((32, len(SPEC.features))).astype(np.float32)
