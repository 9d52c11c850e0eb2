import numpy as np
from scipy import sparse

from prism_platform.jobs._topk import (
    chunks,
    id_ranks,
    product_widths,
    rows_to_table,
    similar_items,
    topk_rows,
    topk_sparse,
)


def test_sparse_top_k_is_the_brute_force_one_packed_or_not() -> None:
    rng = np.random.default_rng(0)
    for density, width in ((0.05, 200), (0.6, 40)):  # packed rows, then plain dense blocks
        dense = rng.random((30, width)).astype(np.float32)
        dense[rng.random(dense.shape) > density] = 0
        dense[3] = 0  # an empty row
        exclude = rng.integers(0, width, 30)
        idx, scores = topk_sparse(sparse.csr_matrix(dense), 5, exclude=exclude)
        masked = dense.copy()
        masked[np.arange(30), exclude] = 0
        ids = [f"{j:04d}" for j in range(width)]  # id order is column order: the default
        want = _brute_force(masked, 5, ids)
        got = [
            [(ids[j], float(s)) for j, s in zip(row_idx, row_s, strict=True) if s > 0]
            for row_idx, row_s in zip(idx.tolist(), scores.tolist(), strict=True)
        ]
        assert got == want
        assert want[3] == []  # the empty row selects nothing
        for r, row in enumerate(got):
            assert ids[exclude[r]] not in {name for name, _ in row}


def test_product_widths_bound_the_product_rows() -> None:
    a = sparse.random(50, 30, density=0.1, format="csr", random_state=2)
    b = sparse.random(30, 80, density=0.1, format="csr", random_state=3)
    widths = product_widths(a, b)
    assert (np.diff((a @ b).tocsr().indptr) <= widths).all() and (widths <= 80).all()


def test_chunks_cover_every_row_once_narrowest_first_within_the_budget() -> None:
    widths = np.array([1000, 10, 10, 500, 10, 2000], np.int64)
    cells = 2_000
    got = list(chunks(np.arange(6), widths, budget_mb=cells * 40 / 2**20, job="t"))
    assert sorted(np.concatenate(got).tolist()) == list(range(6))
    assert got[0].tolist() == [1, 2, 4, 3]  # 4 rows x 500 cells fit, in width order
    assert all(len(c) * widths[c].max() <= cells or len(c) == 1 for c in got)
    fixed = list(chunks(np.arange(6), widths, budget_mb=1.0, job="t", size=4))
    assert [len(c) for c in fixed] == [4, 2]


def _brute_force(dense: np.ndarray, k: int, ids: list[str]) -> list[list[tuple[str, float]]]:
    """The reference: every positive entry, sorted by score (rounded to 6 decimals, as
    tables publish it) then id, first k."""
    return [
        sorted(
            ((ids[j], float(v)) for j, v in enumerate(row) if v > 0),
            key=lambda p: (-round(p[1], 6), p[0]),
        )[:k]
        for row in dense
    ]


def test_ties_are_broken_by_item_id_not_by_position() -> None:
    rng = np.random.default_rng(7)
    ids = [f"i{n}" for n in rng.permutation(60)]  # encoding order unrelated to id order
    for width in (60, 8):
        dense = rng.integers(0, 4, (40, width)).astype(np.float32) / 2  # many ties, zeros
        names = ids[:width]
        want = _brute_force(dense, 5, names)
        idx, scores = topk_rows(dense, 5, id_ranks(names))
        got = rows_to_table([str(r) for r in range(40)], idx, scores, names)
        assert [got.get(str(r), []) for r in range(40)] == want
        sp_idx, sp_scores = topk_sparse(sparse.csr_matrix(dense), 5, rank=id_ranks(names))
        sp = rows_to_table([str(r) for r in range(40)], sp_idx, sp_scores, names)
        assert [sp.get(str(r), []) for r in range(40)] == want


def test_similar_items_are_the_brute_force_cosine_neighbours_with_ties_by_id() -> None:
    # users x items; items 0, 1 and 2 are bought by the same users: tied neighbours of 3
    x = np.array([[1, 1, 1, 1, 0], [1, 1, 1, 1, 0], [0, 0, 0, 1, 1]], np.float32)
    ids = ["c", "b", "a", "d", "e"]
    m = sparse.csr_matrix(x.T)  # items x users
    table = similar_items(m, m.T.tocsr(), ids, top_k=2, job="t")
    assert table["d"] == [("a", 2.0), ("b", 2.0)]  # a, b, c tie at 2: the two lowest ids
    assert table["e"] == [("d", 1.0)]
    assert table["a"] == [("b", 2.0), ("c", 2.0)]


def test_id_ranks_order_ids_as_strings() -> None:
    assert id_ranks(["b", "a", "c", "10", "9"]).tolist() == [3, 2, 4, 0, 1]


def test_scores_equal_to_six_decimals_tie_and_go_by_id() -> None:
    block = np.array([[0.3000004, 0.3000001, 0.2999996, 0.5]], np.float64)
    idx, scores = topk_rows(block, 3, np.array([3, 2, 1, 0]))
    assert idx.tolist() == [[3, 2, 1]]  # 0.5, then the three 0.3s by rank: 1 before 0
    assert scores.dtype == np.float64 and scores.tolist() == [[0.5, 0.2999996, 0.3000001]]
