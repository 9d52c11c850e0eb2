"""Bought together: items carted or ordered by the same user within a time window."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse

from prism_platform.jobs._topk import similar_items


def bought_together(
    user_idx: npt.NDArray[np.int64],
    item_idx: npt.NDArray[np.int64],
    ts: npt.NDArray[np.float64],
    n_items: int,
    item_ids: list[str],
    *,
    window_s: float = 3 * 86400.0,
    top_k: int = 30,
    chunk_items: int | None = None,
) -> dict[str, list[tuple[str, float]]]:
    """``item -> [(item, score)]``: co-purchase counts normalised by ``sqrt(n_i × n_j)``.

    Each user's purchases are cut into baskets: a new basket starts when the gap to the
    previous purchase exceeds ``window_s``. Symmetric by construction. Computed in
    float64, as the Spark engine computes it, so both publish the same rounded scores.
    """
    order = np.lexsort((ts, user_idx))
    u, it, t = user_idx[order], item_idx[order], ts[order]
    new_basket = np.ones(len(u), bool)
    new_basket[1:] = (u[1:] != u[:-1]) | (t[1:] - t[:-1] > window_s)
    basket = np.cumsum(new_basket) - 1
    b = sparse.csr_matrix(
        (np.ones(len(it), np.float64), (basket, it)), shape=(int(basket.max()) + 1, n_items)
    )
    b.data[:] = 1.0
    b.sum_duplicates()
    b.data = np.minimum(b.data, 1.0)
    counts = np.asarray(b.sum(axis=0)).ravel()
    inv = sparse.diags(1.0 / np.sqrt(np.maximum(counts, 1.0)))
    return similar_items(
        inv @ b.T, b @ inv, item_ids, top_k=top_k, job="bought_together",
        rows=np.flatnonzero(counts > 0), chunk=chunk_items,
    )  # fmt: skip
