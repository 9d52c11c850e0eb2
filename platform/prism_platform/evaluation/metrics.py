"""Top-K metrics over many users at once.

Recommendations are a ``(users, K)`` matrix of item numbers, ``-1`` where a list is
shorter than K; relevant items are ``(user row, item number)`` pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def hits(recs: IntArray, rel_rows: IntArray, rel_items: IntArray, n_items: int) -> BoolArray:
    """``(users, K)``: whether each recommended item is relevant to its row's user."""
    rows = np.broadcast_to(np.arange(recs.shape[0], dtype=np.int64)[:, None], recs.shape)
    keys = rows * (n_items + 1) + recs
    rel_keys = rel_rows * (n_items + 1) + rel_items
    return np.isin(keys, rel_keys) & (recs >= 0)


def precision_at_k(hit: BoolArray, k: int) -> FloatArray:
    """Relevant items among the top K, over K (a shorter list is not excused)."""
    out: FloatArray = hit[:, :k].sum(axis=1) / k
    return out


def recall_at_k(hit: BoolArray, n_relevant: IntArray, k: int) -> FloatArray:
    """Relevant items among the top K, over the user's relevant items."""
    out: FloatArray = hit[:, :k].sum(axis=1) / np.maximum(n_relevant, 1)
    return out


def ndcg_at_k(hit: BoolArray, n_relevant: IntArray, k: int) -> FloatArray:
    """Binary-gain DCG@K over the DCG of a perfect list (all relevant items first)."""
    discount = 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))
    dcg = (hit[:, :k] * discount[: hit[:, :k].shape[1]]).sum(axis=1)
    ideal = np.concatenate(([0.0], np.cumsum(discount)))[np.minimum(n_relevant, k)]
    out: FloatArray = np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0)
    return out


def coverage_at_k(recs: IntArray, n_items: int, k: int) -> float:
    """Share of the catalogue that appears in at least one user's top K."""
    top = recs[:, :k]
    return len(np.unique(top[top >= 0])) / n_items if n_items else 0.0


def score_lists(
    lists: Sequence[Sequence[str]],
    relevant: Sequence[set[str]],
    item_pos: Mapping[str, int],
    k: int,
) -> dict[str, float]:
    """Mean precision, recall and NDCG at K over the users, and catalogue coverage.

    ``lists[u]`` is user ``u``'s ranking (item ids, best first); ids outside
    ``item_pos`` (the catalogue) never count as hits.
    """
    per_user, recs = user_scores(lists, relevant, item_pos, k)
    means = {m: float(v.mean()) if len(lists) else 0.0 for m, v in per_user.items()}
    return {**means, "coverage": coverage_at_k(recs, len(item_pos), k)}


def user_scores(
    lists: Sequence[Sequence[str]],
    relevant: Sequence[set[str]],
    item_pos: Mapping[str, int],
    k: int,
) -> tuple[dict[str, FloatArray], IntArray]:
    """Each user's precision, recall and NDCG at K, and the ``(users, K)`` matrix."""
    recs = np.full((len(lists), k), -1, np.int64)
    for u, ranked in enumerate(lists):
        pos = [item_pos.get(i, -1) for i in ranked[:k]]
        recs[u, : len(pos)] = pos
    rel_rows = np.array([u for u, rel in enumerate(relevant) for _ in rel], np.int64)
    rel_items = np.array([item_pos[i] for rel in relevant for i in rel], np.int64)
    n_rel = np.array([len(rel) for rel in relevant], np.int64)
    hit = hits(recs, rel_rows, rel_items, len(item_pos))
    per_user = {
        "precision": precision_at_k(hit, k),
        "recall": recall_at_k(hit, n_rel, k),
        "ndcg": ndcg_at_k(hit, n_rel, k),
    }
    return per_user, recs


def resample_counts(n_users: int, resamples: int, seed: int) -> FloatArray:
    """``(resamples, users)``: how often each user is drawn in each bootstrap resample
    (users drawn with replacement, as many as there are)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n_users, (resamples, n_users))
    flat = (np.arange(resamples)[:, None] * n_users + idx).ravel()
    counts: FloatArray = np.bincount(flat, minlength=resamples * n_users).astype(np.float64)
    return counts.reshape(resamples, n_users)


def bootstrap_ci(
    values: FloatArray, counts: FloatArray, level: float = 0.95
) -> tuple[float, float]:
    """The percentile interval of the mean of per-user ``values`` over the resamples
    ``counts`` (:func:`resample_counts`)."""
    if not len(values):
        return (0.0, 0.0)
    means = counts @ values / len(values)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return (float(lo), float(hi))


def paired_ci(
    a: FloatArray, b: FloatArray, counts: FloatArray, level: float = 0.95
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The percentile intervals of ``mean(a) / mean(b)`` and ``mean(a) - mean(b)`` over
    the resamples ``counts``, the same users drawn for both (a paired bootstrap: what two
    recommenders share, the users, does not widen the interval of their difference).
    A resample where ``b`` finds nothing has a ratio of ``inf`` (1 where neither does)."""
    if not len(a):
        return (0.0, 0.0), (0.0, 0.0)
    ma, mb = counts @ a / len(a), counts @ b / len(b)
    ratio = np.divide(ma, mb, out=np.where(ma > 0, np.inf, 1.0), where=mb > 0)
    q = [(1 - level) / 2, (1 + level) / 2]
    r_lo, r_hi = np.quantile(ratio, q, method="inverted_cdf")  # no interpolation with inf
    d_lo, d_hi = np.quantile(ma - mb, q)
    return (float(r_lo), float(r_hi)), (float(d_lo), float(d_hi))


def coverage_ci(
    recs: IntArray, n_items: int, k: int, counts: FloatArray, level: float = 0.95
) -> tuple[float, float]:
    """The percentile interval of catalogue coverage over the same user resamples: an
    item counts when any drawn user's top K holds it."""
    if not len(recs) or not n_items:
        return (0.0, 0.0)
    top = recs[:, :k]
    rows, cols = np.nonzero(top >= 0)
    listed = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, top[rows, cols])), shape=(len(recs), n_items)
    )
    covered = np.concatenate(
        [
            ((listed.T @ counts[lo : lo + 100].T) > 0).sum(axis=0)
            for lo in range(0, len(counts), 100)
        ]
    )
    lo, hi = np.quantile(covered / n_items, [(1 - level) / 2, (1 + level) / 2])
    return (float(lo), float(hi))
