import numpy as np

from prism_platform.jobs.itemcf import itemcf


def brute_force(x: np.ndarray, iuf: bool) -> np.ndarray:
    x = (x > 0).astype(np.float64)
    if iuf:
        x = x / np.log1p(np.maximum(x.sum(axis=1, keepdims=True), 1))
    norms = np.linalg.norm(x, axis=0)
    norms[norms == 0] = 1
    xn = x / norms
    sim = xn.T @ xn
    np.fill_diagonal(sim, 0)
    return sim


def random_interactions(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    dense = (rng.random((60, 25)) < 0.15).astype(int)
    dense[rng.integers(0, 60, 10), rng.integers(0, 25, 10)] += 1  # repeats count once
    users, items = np.nonzero(dense)
    reps = dense[users, items]
    return dense, np.repeat(users, reps), np.repeat(items, reps)


def test_matches_a_dense_brute_force_cosine() -> None:
    dense, users, items = random_interactions()
    for iuf in (False, True):
        table = itemcf(users, items, 60, 25, top_k=5, chunk_items=7, iuf=iuf)
        sim = brute_force(dense, iuf)
        for key, row in table.items():
            i = int(key)
            expected = sorted(((s, j) for j, s in enumerate(sim[i]) if s > 0), reverse=True)[:5]
            got = [score for _, score in row]
            np.testing.assert_allclose(got, [s for s, _ in expected], atol=1e-5)
            assert all(sim[i, int(j)] == max(sim[i, int(j)], 0) for j, _ in row)
            assert key not in {j for j, _ in row}


def test_chunk_size_does_not_change_the_result() -> None:
    _, users, items = random_interactions(1)
    a = itemcf(users, items, 60, 25, top_k=4, chunk_items=1)
    b = itemcf(users, items, 60, 25, top_k=4, chunk_items=1000)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose([s for _, s in a[k]], [s for _, s in b[k]], atol=1e-6)


def test_items_without_interactions_have_no_row_and_ids_are_mapped() -> None:
    table = itemcf(np.array([0, 0, 1]), np.array([0, 1, 1]), 2, 3, item_ids=["a", "b", "c"])
    assert set(table) == {"a", "b"} and table["a"][0][0] == "b"
