"""The user and item features the recall-candidate ranker reads, built from an
interaction log: each user's category shares (all time and over their latest events) and
each item's engagement (overall and as a share of its category). The spec over them is
:func:`prism_platform.models.candidate_features.candidate_spec`."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from prism_platform.jobs.popular import DEFAULT_TYPE_WEIGHTS
from prism_platform.jobs.tables import ENGAGED, Interactions
from prism_sdk.data import DataWriter

ITEM_STATS = "item_stats"
"""Item feature namespace: ``engaged`` (log1p of clicks, carts and orders),
``in_category`` (the item's share of its category's engaged events)."""
CATEGORY_SHARE = "category_share"
"""User feature: category → share of the user's events (weighted by type), the top 8."""
RECENT_CATEGORIES = "recent_categories"
"""User feature: category → share of the user's latest :data:`RECENT` events."""
RECALL_SCORE = "recall_score"
LAST_CATEGORIES = "last_categories"
"""User feature: category → share of the user's latest :data:`LAST` events."""
ACTIVITY = "activity"
"""User feature: log1p of the user's number of events (how much the shares are worth)."""
RECENT = 10
LAST = 3
TOP_SHARES = 8
CHANNELS = ("i2i", "usercf", "category", "popular", "recent", "emb")


def write_candidate_features(writer: DataWriter, inter: Interactions) -> dict[str, int]:
    """Write the user and item rows :func:`candidate_spec` reads; row counts."""
    users, items = user_rows(inter), item_rows(inter)
    writer.upsert_features("user", users)
    writer.upsert_features(ITEM_STATS, items)
    return {"user_features": len(users), ITEM_STATS: len(items)}


def user_rows(inter: Interactions) -> dict[str, dict[str, Any]]:
    """Each user's ``category_share`` and ``recent_categories``."""
    names, cat_of_item = inter.category_codes()
    cats = cat_of_item[inter.item_idx]
    w = np.zeros(len(inter.types), np.float64)
    for kind, weight in DEFAULT_TYPE_WEIGHTS.items():
        w[inter.types == kind] = weight
    shares = _shares(inter.user_idx, cats, w, inter.n_users, len(names))
    order = np.lexsort((-inter.ts, inter.user_idx))  # each user's newest first
    users = inter.user_idx[order]
    first = np.searchsorted(users, users)
    n_events = np.bincount(inter.user_idx, minlength=inter.n_users)
    recent, last = (
        _shares(inter.user_idx[at], cats[at], np.ones(len(at)), inter.n_users, len(names))
        for at in (order[np.arange(len(order)) - first < n] for n in (RECENT, LAST))
    )
    return {
        uid: {
            CATEGORY_SHARE: _top(shares, u, names),
            RECENT_CATEGORIES: _top(recent, u, names),
            LAST_CATEGORIES: _top(last, u, names),
            ACTIVITY: round(float(np.log1p(n_events[u])), 4),
        }
        for u, uid in enumerate(inter.user_ids)
        if shares.indptr[u + 1] > shares.indptr[u]
    }


def _shares(
    rows: np.ndarray[Any, Any], cols: np.ndarray[Any, Any], w: np.ndarray[Any, Any],
    n_rows: int, n_cols: int,
) -> sparse.csr_matrix:  # fmt: skip
    m = sparse.csr_matrix((w, (rows, cols)), shape=(n_rows, n_cols))
    m.sum_duplicates()
    total = np.asarray(m.sum(axis=1)).ravel()
    m.data /= np.repeat(np.maximum(total, 1e-12), np.diff(m.indptr))
    return m


def _top(m: sparse.csr_matrix, u: int, names: list[str]) -> dict[str, float]:
    lo, hi = m.indptr[u], m.indptr[u + 1]
    best = np.argsort(-m.data[lo:hi], kind="stable")[:TOP_SHARES]
    return {
        names[c]: round(s, 4)
        for c, s in zip(m.indices[lo:hi][best].tolist(), m.data[lo:hi][best].tolist(), strict=True)
        if s > 0
    }


def item_rows(inter: Interactions) -> dict[str, dict[str, float]]:
    """``engaged`` and ``in_category`` of every item with an engaged event."""
    _, cat_of_item = inter.category_codes()
    m = inter.of_types(ENGAGED)
    n_items = len(inter.item_ids)
    engaged = np.bincount(inter.item_idx[m], minlength=n_items).astype(np.float64)
    per_cat = np.bincount(cat_of_item, weights=engaged)
    share = engaged / np.maximum(per_cat[cat_of_item], 1.0)
    return {
        inter.item_ids[i]: {
            "engaged": round(float(np.log1p(engaged[i])), 4),
            "in_category": round(float(share[i]), 6),
        }
        for i in np.flatnonzero(engaged).tolist()
    }
