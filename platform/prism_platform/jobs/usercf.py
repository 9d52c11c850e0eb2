"""UserCF: items of the most similar users, for each user (table ``u2i_usercf``).

Users are compared by cosine over their item sets, each item scaled by
``1 / log(1 + |users of item|)`` so blockbusters say little about taste. Per chunk of
users, two sparse products: similarities to every user (top ``neighbours`` kept), then
the neighbours' items weighted by similarity; items the user already has are dropped.
The chunk's memory budget bounds the first product, the wider one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from time import perf_counter

import numpy as np
import numpy.typing as npt
from scipy import sparse

from prism_platform.jobs._topk import (
    BUDGET_MB,
    Table,
    chunks,
    id_ranks,
    product_widths,
    rows_to_table,
    topk_sparse,
)

log = logging.getLogger("prism.jobs.usercf")


def usercf(
    user_idx: npt.NDArray[np.int64],
    item_idx: npt.NDArray[np.int64],
    user_ids: Sequence[str],
    item_ids: Sequence[str],
    *,
    neighbours: int = 50,
    top_n: int = 100,
    budget_mb: float = BUDGET_MB,
    chunk_users: int | None = None,
) -> Table:
    """Result table ``user id -> [(item id, score)]``, best first, the user's items excluded.

    An item's score is the summed similarity of the neighbours who have it.
    """
    t0 = perf_counter()
    n_users, n_items = len(user_ids), len(item_ids)
    ones = np.ones(len(user_idx), np.float32)
    x = sparse.csr_matrix((ones, (user_idx, item_idx)), shape=(n_users, n_items))
    x.sum_duplicates()
    x.data[:] = 1.0
    per_item = np.diff(x.tocsc().indptr).astype(np.float32)
    xw = x @ sparse.diags(1.0 / np.log1p(np.maximum(per_item, 1.0)))
    norms = np.sqrt(np.asarray(xw.multiply(xw).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    xn = (sparse.diags(inv) @ xw).astype(np.float32).tocsr()
    xnt = xn.T.tocsr()
    ids = np.asarray(item_ids, dtype=object)
    keys = np.asarray(user_ids, dtype=object)
    user_rank, item_rank = id_ranks(keys), id_ranks(ids)
    widths = product_widths(xn, xnt)
    table: Table = {}
    active = np.flatnonzero(norms > 0)
    for part in chunks(active, widths, budget_mb=budget_mb, job="usercf", size=chunk_users):
        nb, sim = topk_sparse(xn[part] @ xnt, neighbours, exclude=part, rank=user_rank)
        rows = np.repeat(np.arange(len(part)), nb.shape[1])
        w = sparse.csr_matrix((sim.ravel(), (rows, nb.ravel())), shape=(len(part), n_users))
        scores = w @ x
        scores = scores - scores.multiply(x[part])  # drop what the user already has
        idx, best = topk_sparse(scores, top_n, rank=item_rank)
        table.update(rows_to_table(keys[part].tolist(), idx, best, ids))
    log.info("event=usercf users=%d rows=%d seconds=%.2f", n_users, len(table), perf_counter() - t0)
    return table
