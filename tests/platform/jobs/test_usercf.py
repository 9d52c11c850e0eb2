import numpy as np

from prism_platform.jobs.usercf import usercf

USERS = ["ann", "bob", "cy", "dee"]
ITEMS = [str(i) for i in range(9)]


def histories(rows: dict[str, list[int]]) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(USERS.index(u), i) for u, items in rows.items() for i in items]
    return np.array([u for u, _ in pairs]), np.array([i for _, i in pairs])


def brute_force(dense: np.ndarray, neighbours: int) -> np.ndarray:
    """Item scores per user, straight from the definition (dense, no chunks)."""
    x = (dense > 0).astype(np.float64)
    xw = x / np.log1p(np.maximum(x.sum(axis=0), 1))
    norms = np.linalg.norm(xw, axis=1, keepdims=True)
    xn = xw / np.where(norms == 0, 1, norms)
    sim = xn @ xn.T
    np.fill_diagonal(sim, 0)
    for row in sim:
        row[np.argsort(-row, kind="stable")[neighbours:]] = 0
    scores = sim @ x
    scores[x > 0] = 0
    return scores


def test_users_with_the_same_history_recommend_each_others_items() -> None:
    users, items = histories(
        {"ann": [1, 2, 3, 4], "bob": [1, 2, 3, 5], "cy": [6, 7], "dee": [1, 8]}
    )
    table = usercf(users, items, USERS, ITEMS)
    assert table["ann"][0][0] == "5" and table["bob"][0][0] == "4"
    assert [i for i, _ in table["ann"]] == ["5", "8"]  # bob first, then dee (shares item 1)
    assert "cy" not in table  # nobody shares anything with cy
    dee = [i for i, _ in table["dee"]]  # ann and bob both have 2 and 3; one of them 4, 5
    assert set(dee[:2]) == {"2", "3"} and set(dee[2:]) == {"4", "5"}


def test_matches_a_dense_brute_force_and_never_lists_a_seen_item() -> None:
    rng = np.random.default_rng(3)
    dense = (rng.random((40, 30)) < 0.15).astype(int)
    users, items = np.nonzero(dense)
    ids = [f"u{u}" for u in range(40)]
    item_ids = [f"i{i}" for i in range(30)]
    table = usercf(users, items, ids, item_ids, neighbours=5, top_n=8, chunk_users=7)
    expected = brute_force(dense, 5)
    for u, uid in enumerate(ids):
        want = sorted((s for s in expected[u] if s > 0), reverse=True)[:8]
        got = table.get(uid, [])
        np.testing.assert_allclose([s for _, s in got], want, atol=1e-5)
        seen = {item_ids[i] for i in np.flatnonzero(dense[u])}
        assert not seen & {i for i, _ in got}


def test_chunk_size_and_memory_budget_do_not_change_the_result() -> None:
    rng = np.random.default_rng(4)
    users, items = rng.integers(0, 50, 400), rng.integers(0, 60, 400)
    ids, item_ids = [str(u) for u in range(50)], [str(i) for i in range(60)]
    a = usercf(users, items, ids, item_ids, chunk_users=1)
    b = usercf(users, items, ids, item_ids, budget_mb=0.01)
    c = usercf(users, items, ids, item_ids)
    assert a.keys() == b.keys() == c.keys()
    for k in a:
        np.testing.assert_allclose([s for _, s in a[k]], [s for _, s in c[k]], atol=1e-6)
        np.testing.assert_allclose([s for _, s in b[k]], [s for _, s in c[k]], atol=1e-6)
