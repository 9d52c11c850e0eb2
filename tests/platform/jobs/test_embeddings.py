"""The embeddings job: vectors that recover a generated log's planted groups, and
their table and neighbours written through a backend."""

from __future__ import annotations

import numpy as np
import pytest

from prism_platform.jobs.embeddings import Training, confidence, item_neighbours, train
from prism_platform.jobs.tables import Interactions, write_embeddings
from prism_sdk import DataClient, LocalBackend
from prism_sdk.data.vectors import Vectors

GROUPS, PER_GROUP, USERS = 4, 20, 240


def planted_log(seed: int = 7) -> tuple[Interactions, np.ndarray]:
    """Each user of group g has events only on items of group g; the item groups."""
    rng = np.random.default_rng(seed)
    n_items = GROUPS * PER_GROUP
    item_group = np.arange(n_items) // PER_GROUP
    users, items, types = [], [], []
    for u in range(USERS):
        g = u % GROUPS
        chosen = rng.choice(PER_GROUP, size=8, replace=False) + g * PER_GROUP
        users += [u] * len(chosen)
        items += chosen.tolist()
        types += rng.choice(["view", "click", "order"], size=len(chosen)).tolist()
    inter = Interactions(
        user_idx=np.array(users, np.int64),
        item_idx=np.array(items, np.int64),
        ts=np.arange(len(users), dtype=np.float64),
        types=np.array(types),
        user_ids=[f"u{u}" for u in range(USERS)],
        item_ids=[f"i{i}" for i in range(n_items)],
        item_categories=["c"] * n_items,
    )
    return inter, item_group


FAST = dict(factors=8, iterations=10, threads=1, seed=3)


@pytest.mark.parametrize("method", ["als", "bpr"])
def test_item_neighbours_are_the_planted_group(method: str) -> None:
    inter, group = planted_log()
    m = confidence(inter.user_idx, inter.item_idx, inter.types, inter.n_users, len(group))
    training = (
        Training(method, **FAST)
        if method == "als"
        else Training(  # type: ignore[arg-type]
            "bpr", factors=8, iterations=200, learning_rate=0.05, threads=1, seed=3
        )
    )
    users, items = train(m, training)
    assert users.shape[0] == USERS and items.shape[0] == len(group)
    assert users.shape[1] == items.shape[1] >= 8  # BPR adds an item-bias column
    table = item_neighbours(Vectors.of(inter.item_ids, items), top_k=5)
    same = [group[int(n[1:])] == group[int(i[1:])] for i, rows in table.items() for n, _ in rows]
    assert len(table) == len(group)
    assert np.mean(same) >= 0.95


def test_confidence_sums_event_weights_by_type() -> None:
    m = confidence(
        np.array([0, 0, 0, 1]), np.array([1, 1, 0, 1]),
        np.array(["view", "order", "exposure", "click"]), 2, 2,
    )  # fmt: skip
    assert m.toarray().tolist() == [[0.0, 9.0], [0.0, 2.0]]


def test_als_is_reproducible_with_a_seed() -> None:
    inter, group = planted_log()
    m = confidence(inter.user_idx, inter.item_idx, inter.types, inter.n_users, len(group))
    a = train(m, Training(**FAST))  # type: ignore[arg-type]
    b = train(m, Training(**FAST))  # type: ignore[arg-type]
    assert np.array_equal(a[1], b[1])


def test_write_embeddings_serves_nearest_and_i2i_emb() -> None:
    inter, group = planted_log()
    backend = LocalBackend()
    eligible = np.ones(len(group), bool)
    eligible[3] = False  # off shelf at training time: not indexed
    inter = Interactions(**{**inter.__dict__, "eligible": eligible})
    counts = write_embeddings(backend, inter, training=Training(**FAST), top_k=5)  # type: ignore[arg-type]
    assert counts == {"emb users": USERS, "emb items": len(group) - 1, "i2i_emb": len(group) - 1}
    data = DataClient(backend)
    hits = data.nearest("emb", "u1", 10)
    assert len(hits) == 10 and "i3" not in [i for i, _ in hits]
    assert all(group[int(i[1:])] == 1 for i, _ in hits[:5])  # user 1 is in group 1
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert len(data.table("i2i_emb", "i0")) == 5


def test_item_neighbours_leave_out_the_item_itself_and_opposite_items() -> None:
    v = Vectors.of(["a", "b", "c", "d"], [[1, 0], [2, 0.1], [-1, 0], [0.5, 0.5]])
    table = item_neighbours(v, top_k=5)
    assert [i for i, _ in table["a"]] == ["b", "d"]  # "c" points the other way
    assert table["a"][0][1] == pytest.approx(0.99875, abs=1e-5)
    assert [i for i, _ in item_neighbours(v, top_k=1)["b"]] == ["a"]
    assert "c" not in table  # no neighbour with a positive cosine
