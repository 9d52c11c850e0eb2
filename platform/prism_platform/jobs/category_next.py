"""Category next: where shoppers go on from a category (the item page's wider recall)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def category_next(
    user_idx: npt.NDArray[np.int64],
    cat_idx: npt.NDArray[np.int64],
    ts: npt.NDArray[np.float64],
    categories: list[str],
    *,
    horizon: int = 200,
    top_k: int = 10,
) -> dict[str, list[tuple[str, float]]]:
    """``category -> [(category, share)]``: of the engagements that follow one in a
    category (the same user's next ``horizon``), the share in each category, best
    first (its own category included; each row sums to at most 1). Each pair weighs
    1 / the user's engagements, so the most active users do not decide every row.

    The item page knows one item; its category alone leaves out the categories its
    shoppers also buy (complements, and the popular ones everybody visits)."""
    n_cat = len(categories)
    order = np.lexsort((ts, user_idx))
    u, c = user_idx[order], cat_idx[order]
    pairs = np.zeros((n_cat, n_cat))
    n_events = np.bincount(u)
    weight = 1.0 / np.maximum(n_events, 1)  # each user counts once, however active
    for d in range(1, min(horizon, len(u) - 1) + 1):
        same = u[d:] == u[:-d]
        np.add.at(pairs, (c[:-d][same], c[d:][same]), weight[u[d:][same]])
    totals = pairs.sum(axis=1)
    table: dict[str, list[tuple[str, float]]] = {}
    for a in np.flatnonzero(totals > 0).tolist():
        share = pairs[a] / totals[a]
        best = np.argsort(-share, kind="stable")[:top_k]
        table[categories[a]] = [(categories[b], float(share[b])) for b in best if share[b] > 0]
    return table
