"""The vector index: exact search agrees with brute force, HNSW keeps its recall,
excluded and off-shelf items are refilled to k."""

from __future__ import annotations

import numpy as np
import pytest

from prism_sdk.data.ann import VectorIndex
from prism_sdk.data.vectors import Vectors, VectorTable, VectorTableError


def table(n_items: int = 2000, dim: int = 16, seed: int = 0) -> VectorTable:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, dim))
    items = centres[rng.integers(0, 20, n_items)] + 0.5 * rng.normal(size=(n_items, dim))
    items *= rng.uniform(0.5, 1.5, (n_items, 1))  # unnormalised, like ALS factors
    users = rng.normal(size=(50, dim))
    return VectorTable(
        Vectors.of([f"u{i}" for i in range(50)], users),
        Vectors.of([f"i{i}" for i in range(n_items)], items),
    )


def brute_force(t: VectorTable, q: np.ndarray, k: int) -> list[str]:
    scores = t.items.matrix @ q
    return [t.items.ids[i] for i in np.argsort(-scores, kind="stable")[:k]]


def test_exact_index_agrees_with_brute_force() -> None:
    t = table()
    index = VectorIndex(t, "1")
    assert index.kind == "flat"
    queries = t.users.matrix[:20]
    for q, hits in zip(queries, index.search(queries, 50), strict=True):
        assert [i for i, _ in hits] == brute_force(t, q, 50)
        expected = t.items.matrix[[t.items.row[i] for i, _ in hits]] @ q
        assert np.allclose([s for _, s in hits], expected, rtol=1e-5)


def test_hnsw_above_the_threshold_keeps_recall_and_exact_scores() -> None:
    t = table(n_items=3000)
    index = VectorIndex(t, "1", hnsw_above=1000)
    assert index.kind == "hnsw"
    queries = t.users.matrix
    recalls = []
    for q, hits in zip(queries, index.search(queries, 100), strict=True):
        ids = [i for i, _ in hits]
        recalls.append(len(set(ids) & set(brute_force(t, q, 100))) / 100)
        scores = [s for _, s in hits]
        assert scores == sorted(scores, reverse=True)
        assert np.allclose(scores, t.items.matrix[[t.items.row[i] for i in ids]] @ q, rtol=1e-5)
    assert np.mean(recalls) >= 0.95


@pytest.mark.parametrize("hnsw_above", [10_000, 100])
def test_excluded_and_rejected_items_are_refilled_to_k(hnsw_above: int) -> None:
    t = table(n_items=400)
    index = VectorIndex(t, "1", hnsw_above=hnsw_above)
    q = t.users.matrix[:1]
    exact = brute_force(t, q[0], 400)
    exclude = set(exact[:30])
    off_shelf = set(exact[30:200:2])  # most of what one over-fetch brings back
    asked: list[str] = []

    def allowed(ids: list[str]) -> list[bool]:
        asked.extend(ids)
        return [i not in off_shelf for i in ids]

    hits = index.search(q, 40, exclude, allowed)[0]
    expected = [i for i in exact if i not in exclude and i not in off_shelf][:40]
    assert [i for i, _ in hits] == expected
    assert len(asked) == len(set(asked))  # each item checked once across refills


def test_a_catalogue_smaller_than_k_returns_what_there_is() -> None:
    t = table(n_items=30)
    hits = VectorIndex(t, "1").search(t.users.matrix[:2], 50, exclude={"i0"})
    assert [len(h) for h in hits] == [29, 29]


@pytest.mark.parametrize(
    ("items", "why"),
    [
        (Vectors.of(["a", "b"], np.ones((2, 3))), "users"),  # users have 4 dimensions
        (Vectors.of(["a", "a"], np.ones((2, 4))), "duplicate ids"),
        (Vectors.of(["a", "b"], [[1, 2, 3, np.nan], [0, 0, 0, 0]]), "NaN"),
        (Vectors.of([], np.zeros((0, 4))), "no item vectors"),
    ],
)
def test_a_table_that_cannot_serve_says_why(items: Vectors, why: str) -> None:
    users = Vectors.of(["u"], np.ones((1, 4)))
    with pytest.raises(VectorTableError, match=why):
        VectorTable(users, items).checked("emb")
