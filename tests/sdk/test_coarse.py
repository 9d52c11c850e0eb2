"""``stages.coarse``: the cut of recall candidates by the user–item inner product."""

from __future__ import annotations

import numpy as np
import pytest

from prism_sdk import DataClient, Item, LocalBackend, Stage, stages
from prism_sdk.data.vectors import Vectors, VectorTable


def _data(item_vectors: dict[str, list[float]], users: dict[str, list[float]]) -> DataClient:
    backend = LocalBackend()
    backend.upsert_items({i: {"status": "on"} for i in [*item_vectors, "cold"]})
    backend.replace_vectors(
        "emb",
        VectorTable(
            Vectors.of(list(users), np.array(list(users.values()), np.float32)),
            Vectors.of(list(item_vectors), np.array(list(item_vectors.values()), np.float32)),
        ),
    )
    return DataClient(backend)


ITEMS = {"a": [1.0, 0.0], "b": [0.0, 1.0], "c": [2.0, 0.0], "d": [0.5, 0.5], "e": [-1.0, 0.0]}


def test_keeps_the_best_inner_products_in_input_order() -> None:
    data = _data(ITEMS, {"u": [1.0, 0.1]})
    cands = [Item(i, 10.0 - n, "x") for n, i in enumerate("abcde")]
    kept = stages.coarse(data, "u", cands, 3)
    # inner products: a 1.0, b 0.1, c 2.0, d 0.55, e -1.0 -> best three c, a, d
    assert [it.id for it in kept] == ["a", "c", "d"]
    assert [it.score for it in kept] == [10.0, 8.0, 7.0]  # scores untouched


def test_the_head_is_kept_whatever_its_inner_product() -> None:
    data = _data(ITEMS, {"u": [1.0, 0.1]})
    cands = [Item(i, 1.0, "x") for i in "ebadc"]  # e and b: the two worst inner products
    kept = stages.coarse(data, "u", cands, 3, head=1)
    assert [it.id for it in kept] == ["e", "a", "c"]  # e by its place, a and c by vector
    assert [it.id for it in stages.coarse(data, "nobody", cands, 3, head=1)] == ["e", "b", "a"]


def test_candidates_without_a_vector_rank_below_every_vectored_one() -> None:
    data = _data(ITEMS, {"u": [1.0, 0.0]})
    cands = [Item(i, 1.0, "x") for i in ["cold", "e", "a", "new"]]
    assert [it.id for it in stages.coarse(data, "u", cands, 2)] == ["e", "a"]
    # room left after the vectored ones: the vectorless fill it in input order
    assert [it.id for it in stages.coarse(data, "u", cands, 3)] == ["cold", "e", "a"]


def test_a_user_without_a_vector_keeps_the_first_candidates() -> None:
    data = _data(ITEMS, {"u": [1.0, 0.0]})
    cands = [Item(i, 1.0, "x") for i in "edcba"]
    assert [it.id for it in stages.coarse(data, "nobody", cands, 2)] == ["e", "d"]
    assert [it.id for it in stages.coarse(data, "u", cands, 2, namespace="none")] == ["e", "d"]


def test_fewer_candidates_than_keep_are_all_kept_without_a_read() -> None:
    cands = [Item(i, 1.0, "x") for i in "ab"]
    data = DataClient(LocalBackend())  # no vector table: nothing is read
    assert stages.coarse(data, "u", cands, 5) == cands
    assert stages.coarse(data, "u", [], 5) == []
    with pytest.raises(ValueError, match="keep"):
        stages.coarse(data, "u", cands, -1)
    with pytest.raises(ValueError, match="head"):
        stages.coarse(data, "u", cands, 1, head=2)


def test_the_stage_records_counts_and_what_was_cut() -> None:
    data = _data(ITEMS, {"u": [1.0, 0.0]})
    cands = [Item(i, 1.0, "x") for i in "abcde"]
    st = Stage("coarse", detail=True)
    kept = stages.coarse(data, "u", cands, 2, stage=st, id="coarse.emb")
    assert [it.id for it in kept] == ["a", "c"]
    assert (st.count_in, st.count_out) == (5, 2)
    assert st.dropped is not None
    assert {(d["item"], d["reason"], d["by"]) for d in st.dropped} == {
        (i, "coarse_cut", "coarse.emb") for i in "bde"
    }
    assert [c["item"] for c in st.items or []] == ["a", "c"]


def test_agrees_with_a_brute_force_cut_on_many_candidates() -> None:
    rng = np.random.default_rng(3)
    ids = [f"i{n}" for n in range(2000)]
    m = rng.normal(size=(2000, 16)).astype(np.float32)
    u = rng.normal(size=16).astype(np.float32)
    data = _data(dict(zip(ids, m.tolist(), strict=True)), {"u": u.tolist()})
    cands = [Item(i, 0.0, "x") for i in ids]
    kept = stages.coarse(data, "u", cands, 300)
    best = set(np.argsort(-(m @ u))[:300].tolist())
    assert [it.id for it in kept] == [ids[i] for i in sorted(best)]


@pytest.mark.parametrize(
    ("user", "ids", "keep", "head"),
    [
        ("u", "abcde", 3, 0),
        ("u", "ebadc", 3, 1),
        ("u", ["cold", "e", "a", "new", "c"], 3, 0),
        ("nobody", "edcba", 2, 0),
        ("u", "ab", 5, 0),
    ],
)
def test_columns_are_cut_as_items_are(user: str, ids: list[str], keep: int, head: int) -> None:
    data = _data(ITEMS, {"u": [1.0, 0.1]})
    items = [Item(i, 10.0 - n, "x") for n, i in enumerate(ids)]
    by_items, by_columns = Stage("coarse", detail=True), Stage("coarse", detail=True)
    kept = stages.coarse(data, user, items, keep, head=head, stage=by_items)
    columns = stages.coarse(
        data, user, stages.Candidates.from_items(items), keep, head=head, stage=by_columns
    )
    assert isinstance(columns, stages.Candidates)
    assert columns.to_items() == kept
    assert by_columns.as_dict() | {"ms": 0} == by_items.as_dict() | {"ms": 0}
