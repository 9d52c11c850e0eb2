"""id → key lookups of the columnar views: by address for the interned ids of the
local backend's tables, through the dict for every other id."""

from __future__ import annotations

import pickle

import numpy as np

from prism_sdk import LocalBackend
from prism_sdk.data.columns import MISSING, IdKeys


def fresh(text: str) -> str:
    """An equal string that is another object."""
    return "".join(list(text))


def test_every_kind_of_id_gets_its_key() -> None:
    keys = IdKeys()
    keys.add(f"item-{i}" for i in range(100))
    held = list(keys)  # the key objects themselves (what interned tables hand out)
    ids = [held[7], fresh("item-7"), "nope", held[99], fresh("item-0"), held[0]]
    assert fresh("item-7") is not held[7]
    assert keys.of(ids).tolist() == [7, 7, MISSING, 99, 0, 0]
    assert keys.of([]).tolist() == []


def test_ids_added_after_the_index_are_found_and_the_writer_rebuilds_it() -> None:
    keys = IdKeys()
    keys.add(f"a{i}" for i in range(64))
    assert keys._index is not None and keys._index[0] == 64
    keys.add(["b0", "b1"])  # fewer than an eighth: not indexed, found through the dict
    assert keys._index[0] == 64
    assert keys.of([fresh("b1"), "a3", keys_of(keys, "b0")]).tolist() == [65, 3, 64]
    keys.add(f"c{i}" for i in range(40))  # more than an eighth: add re-indexes
    assert keys._index[0] == len(keys)
    held = list(keys)
    assert np.array_equal(keys.of(held[::-1]), np.arange(len(held))[::-1])


def keys_of(keys: IdKeys, text: str) -> str:
    return next(k for k in keys if k == text)


def test_an_empty_map_answers_missing() -> None:
    assert IdKeys().of(["x", "y"]).tolist() == [MISSING, MISSING]


def test_a_pickled_map_forgets_the_addresses() -> None:
    keys = IdKeys()
    keys.add(f"p{i}" for i in range(50))
    copy = pickle.loads(pickle.dumps(keys))
    assert copy._index is None and dict(copy) == dict(keys)
    strangers = [f"q{i}" for i in range(50)]  # new objects, maybe at the old addresses
    assert copy.of(strangers).tolist() == [MISSING] * 50
    assert copy.of([fresh("p3")]).tolist() == [3]


def test_ids_that_are_not_plain_strings_still_work() -> None:
    backend = LocalBackend()
    backend.replace_table("t", {"a": [(np.str_("x1"), 1.0), ("x2", 0.5)]})
    assert backend.tables["t"]["a"][0][0] == "x1"
    backend.upsert_items({"x1": {"price": 1.0}})
    backend.columns([("items", "")], ["x1"])  # builds the view
    backend.upsert_items({np.str_("x3"): {"price": 3.0}})  # type: ignore[dict-item]
    view, at = backend.columns([("items", "")], ["x1", "x3", "x9"])[0]
    assert view.block(("price",))[at].ravel().tolist()[:2] == [1.0, 3.0]
    assert at.tolist()[2] == MISSING
