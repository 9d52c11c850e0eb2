"""User and item vectors learned from the interaction log with ``implicit`` (ALS, or
BPR), and item-to-item neighbours from them.

The user × item matrix holds each pair's events weighted by type, like the popularity
job (view 1, click 2, cart 4, order 8), summed: ALS reads it as confidence, BPR as
"seen". Only items with an event are trained, and only those on shelf are kept.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from time import perf_counter, time
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse
from threadpoolctl import threadpool_limits

from prism_platform.jobs.popular import DEFAULT_TYPE_WEIGHTS
from prism_platform.jobs.progress import Progress
from prism_sdk.data.vectors import Vectors, VectorTable

log = logging.getLogger("prism.jobs.embeddings")

Method = Literal["als", "bpr"]
Table = dict[str, list[tuple[str, float]]]


@dataclass(frozen=True)
class Training:
    """How vectors are trained; ``threads`` 0: every core (BPR is then not
    reproducible: its threads update shared vectors as they go)."""

    method: Method = "als"
    factors: int = 64
    regularization: float = 0.01
    iterations: int = 15
    alpha: float = 1.0  # ALS: confidence per unit of weight
    learning_rate: float = 0.01  # BPR
    seed: int = 0
    threads: int = 0


def confidence(
    user_idx: npt.NDArray[np.int64],
    item_idx: npt.NDArray[np.int64],
    types: npt.NDArray[np.str_],
    n_users: int,
    n_items: int,
    type_weights: Mapping[str, float] = DEFAULT_TYPE_WEIGHTS,
) -> sparse.csr_matrix:
    """The user × item CSR matrix of summed event weights (unknown types weigh 0)."""
    w = np.zeros(len(types), np.float32)
    for name, weight in type_weights.items():
        w[types == name] = weight
    keep = w > 0
    m = sparse.csr_matrix(
        (w[keep], (user_idx[keep], item_idx[keep])), shape=(n_users, n_items), dtype=np.float32
    )
    m.sum_duplicates()
    return m


def train(
    user_items: sparse.csr_matrix, training: Training | None = None, *, job: str = "embeddings"
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """User and item factors (float32), one row per row / column of ``user_items``; BPR
    adds a column (1 for users, the item's bias for items)."""
    training = training or Training()
    t0 = perf_counter()
    # implicit solves many small systems at once: BLAS threads only get in its way
    with closing(Progress(job, training.iterations)) as progress, threadpool_limits(1, "blas"):
        model = _model(training)
        model.fit(user_items, show_progress=False, callback=lambda *_: progress.advance())
    users = np.ascontiguousarray(model.user_factors, np.float32)
    items = np.ascontiguousarray(model.item_factors, np.float32)
    log.info(
        "event=embeddings_trained method=%s users=%d items=%d factors=%d seconds=%.2f",
        training.method, users.shape[0], items.shape[0], users.shape[1], perf_counter() - t0,
    )  # fmt: skip
    return users, items


def _model(t: Training) -> Any:
    if t.method == "bpr":
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(
            factors=t.factors, learning_rate=t.learning_rate, regularization=t.regularization,
            iterations=t.iterations, num_threads=t.threads, random_state=t.seed,
        )  # fmt: skip
    from implicit.cpu.als import AlternatingLeastSquares

    return AlternatingLeastSquares(
        factors=t.factors, regularization=t.regularization, alpha=t.alpha,
        iterations=t.iterations, num_threads=t.threads, random_state=t.seed,
    )  # fmt: skip


def vector_table(
    user_items: sparse.csr_matrix,
    users: npt.NDArray[np.float32],
    items: npt.NDArray[np.float32],
    user_ids: list[str],
    item_ids: list[str],
    *,
    training: Training,
    eligible: npt.NDArray[np.bool_] | None = None,
) -> VectorTable:
    """The users and items with an event (items also on shelf, given ``eligible``)."""
    has_user = np.diff(user_items.indptr) > 0
    has_item = np.bincount(user_items.indices, minlength=len(item_ids)) > 0
    if eligible is not None:
        has_item &= eligible
    u, i = np.flatnonzero(has_user), np.flatnonzero(has_item)
    meta = {
        "method": training.method, "factors": str(training.factors),
        "regularization": str(training.regularization),
        "iterations": str(training.iterations), "trained_at": str(int(time())),
    }  # fmt: skip
    return VectorTable(
        Vectors.of([user_ids[x] for x in u], users[u]),
        Vectors.of([item_ids[x] for x in i], items[i]),
        meta,
    )


def item_neighbours(vectors: Vectors, *, top_k: int = 50, chunk: int = 4096) -> Table:
    """``item -> [(item, cosine)]``: each item's ``top_k`` most similar items by the
    cosine of their vectors (positive only), best first, self excluded: an exact Faiss
    search of the normalised vectors (BLAS, every core), ``chunk`` items at a time."""
    m = vectors.matrix
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    unit = np.ascontiguousarray(m / np.where(norms > 0, norms, 1.0), np.float32)
    index = importlib.import_module("faiss").IndexFlatIP(unit.shape[1])
    index.add(unit)
    ids = vectors.ids
    k = min(top_k + 1, len(ids))
    table: Table = {}
    with closing(Progress("embeddings-i2i", len(ids))) as progress:
        for start in range(0, len(ids), chunk):
            scores, rows = index.search(unit[start : start + chunk], k)
            pairs = zip(rows.tolist(), scores.tolist(), strict=True)
            for r, (cols, vals) in enumerate(pairs, start):
                hits = zip(cols, vals, strict=True)
                got = [(ids[c], round(v, 6)) for c, v in hits if c != r and c >= 0 and v > 0]
                if got:
                    table[ids[r]] = got[:top_k]
            progress.advance(len(rows))
    return table
