"""Top-k selection over sparse score rows, and the chunk loop every similarity job runs.

A chunk's scores come from a sparse product (``left[chunk] @ right``) and are never
densified to the full width: each row's non-zeros are packed left into a block as wide
as the chunk's fullest row, and the top-k runs over that. Rows are visited in order of
their estimated non-zeros, so a chunk's rows are alike in width, and chunks are cut so
that ``rows × width`` stays within the memory budget.

Ranking, in every job of both engines (``jobs/spark/`` too): the score rounded to
:data:`SCORE_DECIMALS` (the score a table publishes) descending, then the id ascending.
Ranking by the published score makes the order of a table's rows follow from its rows,
and keeps float noise in the last bits (float32 here, float64 in Spark) out of the ties.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import closing
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from prism_platform.jobs.progress import Progress

Table = dict[str, list[tuple[str, float]]]
Rows = npt.NDArray[np.int64]
Scores = npt.NDArray[np.floating[Any]]

SCORE_DECIMALS = 6
"""Result-table scores are rounded to this many decimals; rows rank by the rounded score."""

BUDGET_MB = 16.0
"""Default memory for one chunk's scores (smaller chunks also stay in cache: faster)."""
CELL_BYTES = 40
"""Peak bytes per score of a chunk: the sparse product (value, column and its share of
scipy's work arrays, ~16), the packed block (4), its negation and partition (8), the tie
mask and the column lookup (~8)."""


def topk_rows(
    block: Scores, k: int, rank: npt.NDArray[np.int64] | None = None
) -> tuple[npt.NDArray[np.int64], Scores]:
    """Column indices and scores (float64 for a float64 ``block``, else float32) of the
    ``k`` best entries of each row, best first, by the score rounded to
    :data:`SCORE_DECIMALS` (the unrounded score comes back).

    Ties are broken by ``rank`` (same shape as ``block``, or one rank per column; lower
    first; default: the column index), so the result never depends on how numpy's
    partition orders equal values (which differs between CPU instruction sets). Entries
    ``<= 0`` are never selected: their score comes back as 0 and callers drop them.
    """
    n_rows, width = block.shape
    dtype: type[np.floating[Any]] = np.float64 if block.dtype == np.float64 else np.float32
    k = min(k, width)
    if k == 0 or n_rows == 0:
        empty = np.zeros((n_rows, 0))
        return empty.astype(np.int64), empty.astype(dtype)
    ranks = np.broadcast_to(np.arange(width) if rank is None else rank, block.shape)
    raw = np.where(block > 0, block, 0).astype(dtype, copy=False)
    positive = np.round(raw, SCORE_DECIMALS)  # what is ranked: the published score
    kth = -np.partition(-positive, k - 1, axis=1)[:, k - 1 : k]  # the k-th best value
    # Everything better than the k-th value, and every tie with it (a positive one):
    # at least k entries in a row whose k-th value is positive, all its positives otherwise.
    wanted = (positive > kth) | ((positive == kth) & (kth > 0))
    row, col = np.nonzero(wanted)
    counts = np.bincount(row, minlength=n_rows)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    slot = np.arange(len(row)) - starts[row]
    span = max(int(counts.max(initial=0)), k)
    packed_score = np.full((n_rows, span), -1.0, dtype)  # fillers sort last
    packed_raw = np.zeros((n_rows, span), dtype)
    packed_rank = np.zeros((n_rows, span), np.int64)
    packed_col = np.zeros((n_rows, span), np.int64)
    packed_score[row, slot] = positive[row, col]
    packed_raw[row, slot] = raw[row, col]
    packed_rank[row, slot] = ranks[row, col]
    packed_col[row, slot] = col
    order = np.lexsort((packed_rank, -packed_score), axis=-1)[:, :k]
    idx = np.take_along_axis(packed_col, order, axis=1)
    picked = np.take_along_axis(packed_score, order, axis=1) > 0
    scores = np.where(picked, np.take_along_axis(packed_raw, order, axis=1), 0).astype(dtype)
    return idx, scores


def id_ranks(ids: Sequence[str] | npt.NDArray[np.object_]) -> Rows:
    """Each id's position in sorted order: the tie-break every top-k of the jobs uses."""
    ranks = np.empty(len(ids), np.int64)
    ranks[np.argsort(np.asarray(ids, dtype=object), kind="stable")] = np.arange(len(ids))
    return ranks


def topk_sparse(
    scores: sparse.csr_matrix,
    k: int,
    *,
    exclude: Rows | None = None,
    rank: Rows | None = None,
) -> tuple[npt.NDArray[np.int64], Scores]:
    """:func:`topk_rows` of a sparse score matrix, ties broken by ``rank`` (one per column,
    lower first; default the column index); row ``r`` never selects column ``exclude[r]``
    (an item is not similar to itself)."""
    scores = scores.tocsr()
    n_rows, n_cols = scores.shape
    col_rank = np.arange(n_cols, dtype=np.int64) if rank is None else rank
    counts = np.diff(scores.indptr)
    data = scores.data.astype(np.float64 if scores.dtype == np.float64 else np.float32)
    row_of = np.repeat(np.arange(n_rows), counts)
    if exclude is not None:
        data[scores.indices == exclude[row_of]] = 0.0
    width = max(int(counts.max(initial=0)), 1)
    if 2 * width > n_cols:  # packing would save little: the plain dense block
        dense = sparse.csr_matrix((data, scores.indices, scores.indptr), shape=scores.shape)
        return topk_rows(dense.toarray(), k, col_rank)
    slots = np.arange(scores.nnz) - scores.indptr[row_of]
    packed = sparse.csr_matrix((data, slots, scores.indptr), shape=(n_rows, width)).toarray()
    packed_rank = np.zeros((n_rows, width), np.int64)
    packed_rank[row_of, slots] = col_rank[scores.indices]
    slot, best = topk_rows(packed, k, packed_rank)
    flat = np.minimum(scores.indptr[:-1, None] + slot, max(scores.nnz - 1, 0))
    cols = scores.indices[flat] if scores.nnz else np.zeros_like(flat)
    return cols.astype(np.int64), best


def rows_to_table(
    keys: Sequence[str],
    idx: npt.NDArray[np.int64],
    scores: Scores,
    ids: Sequence[str] | npt.NDArray[np.object_],
) -> Table:
    """Turn top-k arrays (rows best first) into result-table rows, dropping scores ``<= 0``."""
    names = np.asarray(ids, dtype=object)[idx].tolist()
    rounded = np.round(scores.astype(np.float64), SCORE_DECIMALS)
    kept = (rounded > 0).sum(axis=1).tolist()
    table: Table = {}
    for key, row_names, row_s, n in zip(keys, names, rounded.tolist(), kept, strict=True):
        if n:
            table[key] = list(zip(row_names[:n], row_s[:n], strict=True))
    return table


def product_widths(left: sparse.csr_matrix, right: sparse.csr_matrix) -> npt.NDArray[np.int64]:
    """An upper bound of the non-zeros of each row of ``left @ right``."""
    pattern = left.copy()
    pattern.data = np.ones_like(pattern.data)
    per_row = np.diff(right.indptr).astype(np.float64)
    widths: npt.NDArray[np.float64] = np.asarray(pattern @ per_row)
    bounded: npt.NDArray[np.int64] = np.minimum(widths, right.shape[1]).astype(np.int64)
    return bounded


def chunks(
    rows: Rows,
    widths: npt.NDArray[np.int64],
    *,
    budget_mb: float,
    job: str,
    size: int | None = None,
) -> Iterator[Rows]:
    """``rows`` in chunks, narrowest first, each within ``budget_mb`` at ``CELL_BYTES`` a
    score (``size``: a fixed number of rows instead); progress reported as ``job``."""
    order = rows[np.argsort(widths[rows], kind="stable")]
    w = np.maximum(widths[order], 1)
    cells = max(int(budget_mb * 2**20 / CELL_BYTES), 1)
    with closing(Progress(job, len(order))) as progress:
        start = 0
        while start < len(order):
            n = size
            if n is None:  # the most rows whose block (rows × widest) fits: widths ascend
                ahead = w[start : start + cells]
                n = max(
                    int(np.searchsorted(np.arange(1, len(ahead) + 1) * ahead, cells, "right")), 1
                )
            yield order[start : start + n]
            progress.advance(len(order[start : start + n]))
            start += n


def similar_items(
    left: sparse.csr_matrix,
    right: sparse.csr_matrix,
    ids: Sequence[str],
    *,
    top_k: int,
    job: str,
    rows: Rows | None = None,
    chunk: int | None = None,
    budget_mb: float = BUDGET_MB,
) -> Table:
    """``id -> [(id, score)]``: the ``top_k`` best of ``left[i] @ right`` for each row
    ``i`` of ``rows`` (default: all), the row's own column excluded."""
    left, right = left.tocsr(), right.tocsr()  # csr @ csc would convert ``right`` per chunk
    rows = np.arange(left.shape[0], dtype=np.int64) if rows is None else rows
    id_arr = np.asarray(ids, dtype=object)
    rank = id_ranks(id_arr)
    table: Table = {}
    widths = product_widths(left, right)
    for part in chunks(rows, widths, budget_mb=budget_mb, job=job, size=chunk):
        idx, scores = topk_sparse(left[part] @ right, top_k, exclude=part, rank=rank)
        table.update(rows_to_table(id_arr[part].tolist(), idx, scores, id_arr))
    return table
