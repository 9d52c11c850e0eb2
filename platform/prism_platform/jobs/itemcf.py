"""ItemCF: item-to-item cosine similarity with inverse user frequency, top-k per item.

The similarity matrix is never built whole: items are processed in chunks
(``Xnᵀ[chunk] @ Xn`` densified one chunk at a time) sized to fit ``budget_mb``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from time import perf_counter

import numpy as np
import numpy.typing as npt
from scipy import sparse

from prism_platform.jobs._topk import BUDGET_MB, similar_items

log = logging.getLogger("prism.jobs.itemcf")


def itemcf(
    user_idx: npt.NDArray[np.int64],
    item_idx: npt.NDArray[np.int64],
    n_users: int,
    n_items: int,
    *,
    item_ids: Sequence[str] | None = None,
    weights: npt.NDArray[np.float32] | None = None,
    top_k: int = 50,
    chunk_items: int | None = None,
    budget_mb: float = BUDGET_MB,
    iuf: bool = True,
) -> dict[str, list[tuple[str, float]]]:
    """Result table ``item id -> [(similar item id, cosine)]``, best first, self excluded.

    Repeated (user, item) pairs add up (or take ``weights``); with ``iuf`` each user's
    row is scaled by ``1 / log(1 + |items of user|)`` so very active users count less.
    """
    t0 = perf_counter()
    ids = [str(i) for i in range(n_items)] if item_ids is None else list(item_ids)
    data = np.ones(len(user_idx), np.float32) if weights is None else weights.astype(np.float32)
    x = sparse.csr_matrix((data, (user_idx, item_idx)), shape=(n_users, n_items), dtype=np.float32)
    x.sum_duplicates()
    x.data = np.minimum(x.data, 1.0) if weights is None else x.data
    if iuf:
        per_user = np.diff(x.indptr).astype(np.float32)
        scale = 1.0 / np.log1p(np.maximum(per_user, 1.0))
        x = sparse.diags(scale.astype(np.float32)) @ x
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel()).astype(np.float32)
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    xn = (x @ sparse.diags(inv)).astype(np.float32).tocsr()
    table = similar_items(
        xn.T.tocsr(), xn, ids, top_k=top_k, job="itemcf", rows=np.flatnonzero(norms > 0),
        chunk=chunk_items, budget_mb=budget_mb,
    )  # fmt: skip
    log.info("event=itemcf items=%d rows=%d seconds=%.2f", n_items, len(table), perf_counter() - t0)
    return table
