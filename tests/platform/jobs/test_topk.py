import numpy as np
from scipy import sparse

from prism_platform.jobs._topk import chunks, product_widths, topk_rows, topk_sparse


def test_sparse_top_k_equals_the_dense_one_packed_or_not() -> None:
    rng = np.random.default_rng(0)
    for density, width in ((0.05, 200), (0.6, 40)):  # packed rows, then plain dense blocks
        dense = rng.random((30, width)).astype(np.float32)
        dense[rng.random(dense.shape) > density] = 0
        dense[3] = 0  # an empty row
        exclude = rng.integers(0, width, 30)
        idx, scores = topk_sparse(sparse.csr_matrix(dense), 5, exclude=exclude)
        masked = dense.copy()
        masked[np.arange(30), exclude] = 0
        want_idx, want = topk_rows(masked, 5)
        np.testing.assert_array_equal(scores, want)
        positive = want > 0
        np.testing.assert_array_equal(idx[positive], want_idx[positive])
        assert not (idx[positive] == np.repeat(exclude, 5).reshape(30, 5)[positive]).any()


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
