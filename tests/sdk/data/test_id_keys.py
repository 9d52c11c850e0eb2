"""id → key lookups of the columnar views: by address for the interned ids of the
local backend's tables, through the dict for every other string."""

from __future__ import annotations

import numpy as np

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


def test_ids_added_after_the_index_are_found_and_it_is_rebuilt() -> None:
    keys = IdKeys()
    keys.add(f"a{i}" for i in range(64))
    keys.of(["a1"])  # builds the address index over 64 keys
    keys.add(["b0", "b1"])  # newer than the index: found through the dict
    assert keys.of([fresh("b1"), "a3", "b0"]).tolist() == [65, 3, 64]
    keys.add(f"c{i}" for i in range(40))  # more than an eighth: the next lookup re-indexes
    held = list(keys)
    got = keys.of(held[::-1])
    assert np.array_equal(got, np.arange(len(held))[::-1])
    assert keys._index is not None and keys._index[0] == len(held)


def test_an_empty_map_answers_missing() -> None:
    assert IdKeys().of(["x", "y"]).tolist() == [MISSING, MISSING]
