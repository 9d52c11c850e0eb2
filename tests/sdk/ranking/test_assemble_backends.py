"""Feature assembly gives the same matrix, bit for bit, on every data backend: the local
backend's columnar views and the row reads of the others, before and after writes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from prism_sdk import Context, DataBackend, DataClient, Item, LocalBackend, Request, StrategyConfig
from prism_sdk.data import DataWriter
from prism_sdk.ranking import Assembler, Feature, FeatureSpec

from ..conftest import BACKEND_KINDS, MakeBackend

SPEC = FeatureSpec(
    (
        Feature("age", "user", "age"),
        Feature("price", "item", "price"),
        Feature("stock", "item", "stock", default=-1),
        Feature("category", "item", "category", vocab=("shoes", "bags")),
        Feature("brand", "item", "brand", vocab=("acme",), default=-2),
        Feature("ctr", "item_feature", "ctr", namespace="item"),
        Feature("views", "item_feature", "views", namespace="item", default=0),
        Feature("cat_affinity", "cross", "category", op="affinity", user_field="top"),
        Feature("brand_affinity", "cross", "brand", op="affinity", user_field="brands"),
        Feature("device", "context", "device", vocab=("ios", "web")),
        Feature("recall", "cross", op="score"),
        Feature("from_i2i", "cross", op="channel", value="i2i"),
    )
)
ITEMS: dict[str, dict[str, Any]] = {
    "1": {"price": 10.5, "stock": 3, "category": "shoes", "brand": "acme"},
    "2": {"price": "12.25", "stock": True, "category": "bags", "brand": "other"},
    "3": {"price": "cheap", "category": "toys", "brand": 7},  # no stock, unknown vocab
    "4": {"price": None, "stock": 1e40, "category": ["shoes"], "brand": None},
    "5": {"price": 2**63, "stock": float("nan"), "category": "shoes"},
    "6": {"title": "no numbers at all"},
}
ITEM_FEATURES: dict[str, dict[str, Any]] = {
    "1": {"ctr": 0.25, "views": 7},
    "3": {"ctr": "n/a"},
    "9": {"ctr": 0.5},
}
CANDIDATES = ["1", "2", "3", "4", "5", "6", "9", "unknown", "1"]  # 9: features, no row


def fill(b: DataWriter) -> None:
    b.upsert_features("user", {"u1": {"age": 40, "top": ["bags", "shoes"], "brands": {7: 2}}})
    b.upsert_items(ITEMS)
    b.upsert_features("item", ITEM_FEATURES)


def assemble(
    backend: DataBackend, ids: list[str] = CANDIDATES, assembler: Assembler | None = None
) -> tuple[np.ndarray, int]:
    req = Request(scene="s", user_id="u1", context={"device": "web"})
    ctx: Context[Any] = Context(
        req, StrategyConfig(), DataClient(backend), deadline=time.monotonic() + 5
    )
    items = [Item(k, 1.0 / (1 + i), ("i2i",) if i % 2 else ("popular",)) for i, k in enumerate(ids)]
    return (assembler or Assembler(SPEC)).assemble(ctx, items), ctx.data.round_trips


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("kind", BACKEND_KINDS)
def test_every_backend_builds_the_same_matrix(kind: str, make_backend: MakeBackend) -> None:
    local = LocalBackend()
    fill(local)
    expected, local_trips = assemble(local)
    nan = float("nan")
    # worked out by hand from ITEMS, ITEM_FEATURES and u1 (age 40, top bags then shoes,
    # brands {7: 2}) on the web: candidate "1" (first, channel popular) and "unknown"
    # (eighth, channel i2i: no row, no features, so the defaults)
    np.testing.assert_array_equal(
        expected[[0, 7]],
        np.array(
            [
                [40, 10.5, 3, 0, 0, 0.25, 7, 0.5, 0, 1, 1.0, 0],
                [40, nan, -1, nan, -2, nan, 0, 0, 0, 1, 1 / 8, 1],
            ],
            np.float32,
        ),
    )
    got, trips = assemble(make_backend(kind, fill))
    assert same_bits(got, expected)
    # local: only the user's features are read, the items come from columns
    assert local_trips == 1 and trips == 1
    col = dict(zip(SPEC.names, expected.T, strict=True))
    assert col["price"][:6].tolist()[:2] == [10.5, 12.25] and np.isnan(col["price"][2:4]).all()
    assert col["price"][4] == np.float32(2.0**63)
    assert col["stock"].tolist()[:6] == [3, 1, -1, np.inf, -1, -1]  # NaN: the default
    assert col["category"][:2].tolist() == [0, 1] and np.isnan(col["category"][2:4]).all()
    assert col["brand"].tolist()[:4] == [0, -2, -2, -2]
    assert col["ctr"][0] == 0.25 and np.isnan(col["ctr"][[1, 2, 7]]).all() and col["ctr"][6] == 0.5
    assert col["views"].tolist()[:3] == [7, 0, 0]
    assert col["cat_affinity"].tolist()[:4] == [0.5, 1.0, 0.0, 0.0]
    assert col["brand_affinity"].tolist()[:4] == [0.0, 0.0, 2.0, 0.0]
    nan = np.nan  # the unknown id: every item column at its default, affinities 0
    np.testing.assert_array_equal(expected[7, 1:9], [nan, -1, nan, -2, nan, 0, 0, 0])


def test_local_reads_no_rows(make_backend: MakeBackend) -> None:
    """Without user features the local backend answers from columns alone."""
    local = make_backend("local", fill)
    spec = FeatureSpec(tuple(f for f in SPEC.features if f.source != "user" and f.op != "affinity"))
    ctx: Context[Any] = Context(
        Request(scene="s", user_id="u1"), StrategyConfig(), DataClient(local)
    )
    Assembler(spec).assemble(ctx, [Item("1"), Item("2")])
    assert ctx.data.round_trips == 0


def test_writes_keep_the_columns_in_step(make_backend: MakeBackend) -> None:
    """Upserts, new ids and deletes after the columns were built: the same matrix as a
    backend that never had columns (rows read through the mock backend)."""
    local = LocalBackend()
    fill(local)
    before, _ = assemble(local)  # builds the views and their columns
    views = [v for v, _ in local.columns([("items", ""), ("features", "item")], ["1"])]
    old_price = views[0].block(("price",)).copy()

    def write(b: DataWriter) -> None:
        b.upsert_items(
            {"1": {"price": 99.0}, "10": {"price": 1.5, "category": "bags", "brand": "acme"}}
        )
        b.upsert_items({"3": {"category": "shoes"}})  # merged into the row: price stays
        b.delete_items(["2"])
        b.upsert_features("item", {"10": {"ctr": 0.75}, "11": {"views": 4}})

    def fill_and_write(b: DataWriter) -> None:
        fill(b)
        write(b)

    write(local)
    mock = make_backend("mock", fill_and_write)
    ids = [*CANDIDATES, "10", "11"]
    after, _ = assemble(local, ids)
    assert same_bits(after, assemble(mock, ids)[0])
    col = dict(zip(SPEC.names, after.T, strict=True))
    assert col["price"][0] == 99.0 and np.isnan(col["price"][1]) and col["price"][9] == 1.5
    assert col["category"][2] == 0 and col["ctr"][9] == 0.75 and col["views"][10] == 4
    assert not same_bits(before, after[: len(CANDIDATES)])
    assert np.array_equal(views[0].block(("price",)), old_price, equal_nan=True)  # snapshot kept


def test_a_fresh_local_backend_agrees_after_the_writes() -> None:
    """Patched columns equal columns built from scratch over the same rows."""
    patched, fresh = LocalBackend(), LocalBackend()
    fill(patched)
    assemble(patched)
    patched.upsert_items({"1": {"stock": "7"}, "12": {"price": 3}})
    fill(fresh)
    fresh.upsert_items({"1": {"stock": "7"}, "12": {"price": 3}})
    ids = [*CANDIDATES, "12"]
    assert same_bits(assemble(patched, ids)[0], assemble(fresh, ids)[0])


def test_one_assembler_follows_the_writes() -> None:
    """A serving assembler keeps per-view lookups (vocab codes); after writes that add new
    category values and move items between categories it builds what a new one builds."""
    local = LocalBackend()
    fill(local)
    serving = Assembler(SPEC)
    assemble(local, assembler=serving)
    local.upsert_items(
        {"3": {"category": "bags"}, "1": {"category": "hats"}, "13": {"category": "shoes"}}
    )
    ids = [*CANDIDATES, "13"]
    got, _ = assemble(local, ids, serving)
    assert same_bits(got, assemble(local, ids)[0])
    category = dict(zip(SPEC.names, got.T, strict=True))["category"]
    assert np.isnan(category[0]) and category[2] == 1 and category[-1] == 0


def test_table_ids_are_one_object_per_id(tmp_path: Path) -> None:
    """The local backend interns ids of result tables: a million rows naming 20k items
    hold 20k strings, and the columns find candidates by identity."""
    local = LocalBackend()
    local.upsert_items({f"item-{n}": {"price": n} for n in (41, 42)})
    assemble(local, ["item-41"])  # builds the columns: their keys are the ids
    made = [f"item-{n}" for n in (42, 42)]  # two equal strings, two objects
    assert made[0] is not made[1]
    local.replace_table("i2i", {"a": [(made[0], 1.0)], "b": [(made[1], 0.5)]})
    rows = DataClient(local).tables("i2i", ["a", "b"])
    assert rows[0][0][0] is rows[1][0][0]
    assert rows[0][0][0] is next(k for k in local._keys if k == "item-42")
    local.save(tmp_path / "data.msgpack")
    loaded = LocalBackend.load(tmp_path / "data.msgpack").tables["i2i"]
    assert loaded["a"][0][0] is loaded["b"][0][0]
