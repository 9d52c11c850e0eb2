"""Feature assembly: every source, defaults for what is missing, one batched read."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from prism_sdk import Context, Item, LocalBackend
from prism_sdk.ranking import Assembler, Feature, FeatureSpec, ModelError, parse_spec

CtxFactory = Callable[..., Context[Any]]


def test_every_source_lands_in_its_column(
    make_ctx: CtxFactory, shop: LocalBackend, spec: FeatureSpec, cands: list[Item]
) -> None:
    ctx = make_ctx("u1", device="web")
    items = cands[:6]
    x = Assembler(spec).assemble(ctx, items)
    assert x.dtype == np.float32 and x.shape == (6, len(spec.features))
    assert ctx.data.round_trips == 1  # user features + item rows + item features: one batch
    col = dict(zip(spec.names, x.T, strict=True))
    assert col["gender"].tolist() == [0.0] * 6 and col["age"].tolist() == [31.0] * 6
    assert col["price"].tolist() == pytest.approx([shop.items[str(i)]["price"] for i in range(6)])
    assert col["category"].tolist() == [0, 1, 2, 0, 1, 2]
    assert col["device"].tolist() == [2.0] * 6
    # top = ["bags", "toys"]: weight 1 / (1 + rank), 0 for other categories
    assert col["affinity"].tolist() == pytest.approx([0, 1, 0.5] * 2)
    assert col["recall"].tolist() == pytest.approx([1 / (1 + i) for i in range(6)])
    assert col["from_i2i"].tolist() == [1.0] * 6
    ctr = col["ctr"]  # item features exist for even ids only
    assert not math.isnan(ctr[0]) and math.isnan(ctr[1])


def test_missing_and_bad_values_become_the_default(make_ctx: CtxFactory) -> None:
    spec = FeatureSpec(
        (
            Feature("age", "user", "age", default=-1),
            Feature("gender", "user", "gender", vocab=("f",)),
            Feature("price", "item", "price", default=0),
            Feature("affinity", "cross", "category", op="affinity", user_field="top"),
        )
    )
    ctx = make_ctx("u2")  # age "n/a", gender "m" (not in vocab), top is a mapping
    x = Assembler(spec).assemble(ctx, [Item("0"), Item("nope")])
    assert x[:, 0].tolist() == [-1, -1]
    assert np.isnan(x[:, 1]).all()
    assert x[1, 2] == 0 and x[0, 2] > 0  # unknown item: default
    assert x[:, 3].tolist() == pytest.approx([0.7, 0.0])
    unknown = Assembler(spec).assemble(make_ctx("nobody"), [Item("0")])
    assert unknown[0, 0] == -1 and np.isnan(unknown[0, 3])


def test_mixed_numeric_column_falls_back_per_value(
    make_ctx: CtxFactory, shop: LocalBackend
) -> None:
    shop.upsert_items({"odd": {"price": "cheap"}, "num": {"price": "12.5"}})
    spec = FeatureSpec((Feature("price", "item", "price"),))
    x = Assembler(spec).assemble(make_ctx(), [Item("odd"), Item("num"), Item("1")])
    assert np.isnan(x[0, 0]) and x[1, 0] == 12.5


def test_empty_candidates(make_ctx: CtxFactory, spec: FeatureSpec) -> None:
    assert Assembler(spec).assemble(make_ctx(), []).shape == (0, len(spec.features))


@pytest.mark.parametrize(
    ("raw", "culprit"),
    [
        ('{"features": []}', "no features"),
        ('{"features": [{"name": "a", "source": "users", "field": "x"}]}', "source"),
        ('{"features": [{"name": "a", "source": "user"}]}', "feature 'a': a user feature needs"),
        (
            '{"features": [{"name": "a", "source": "cross", "op": "channel"}]}',
            "feature 'a': a channel cross needs value",
        ),
        (
            '{"features": [{"name": "a", "source": "item", "field": "x"},'
            ' {"name": "a", "source": "item", "field": "y"}]}',
            "features[1] name 'a'",
        ),
        ('{"features": [{"name": "a", "source": "item", "field": "x", "oops": 1}]}', "oops"),
    ],
)
def test_bad_specs_name_the_culprit(raw: str, culprit: str) -> None:
    with pytest.raises(ModelError, match="ctr@v1: spec") as err:
        parse_spec(raw, "ctr@v1")
    assert culprit in str(err.value)


def test_spec_round_trips_as_json(spec: FeatureSpec) -> None:
    assert parse_spec(spec.to_json(), "x") == spec
