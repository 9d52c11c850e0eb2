"""Content similarity from the forward index (table ``content_sim``): items with similar
titles (TF-IDF) and the same category and shop, for items with no interactions yet."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from time import perf_counter
from typing import Any

import numpy as np
from scipy import sparse

from prism_platform.jobs._topk import BUDGET_MB, Table, similar_items

log = logging.getLogger("prism.jobs.content")

FIELD_WEIGHTS = {"title": 1.0, "category": 0.5, "shop": 0.3}
"""Each field's block is L2-normalised and scaled by its weight before the rows are
normalised again: a shared title outweighs a shared category, which outweighs a shop."""


def content_features(
    items: Mapping[str, Mapping[str, Any]], weights: Mapping[str, float] = FIELD_WEIGHTS
) -> sparse.csr_matrix:
    """One L2-normalised row per item: title TF-IDF, other fields one-hot (a list value
    sets one column per element)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    rows = list(items.values())
    blocks: list[sparse.csr_matrix] = []
    for field, weight in weights.items():
        if field == "title":
            titles = [str(r.get("title") or "") for r in rows]
            if not any(t.strip() for t in titles):
                continue
            try:
                block = TfidfVectorizer(sublinear_tf=True).fit_transform(titles)
            except ValueError:  # no word of two letters or more in any title
                continue
        else:
            block = DictVectorizer(dtype=np.float32).fit_transform(
                [{field: field_values(r.get(field))} for r in rows]
            )
        if block.shape[1]:  # (no item has the field)
            blocks.append(normalize(block) * weight)
    if not blocks:
        return sparse.csr_matrix((len(rows), 0), dtype=np.float32)
    return normalize(sparse.hstack(blocks, format="csr")).astype(np.float32)


def field_values(value: Any) -> list[str]:
    """A field's values as the one-hot columns see them: none, one, or a list's."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def content_similarity(
    items: Mapping[str, Mapping[str, Any]],
    *,
    top_k: int = 50,
    only: Sequence[str] | None = None,
    weights: Mapping[str, float] = FIELD_WEIGHTS,
    budget_mb: float = BUDGET_MB,
    chunk_items: int | None = None,
) -> Table:
    """Result table ``item id -> [(similar item id, cosine)]``, best first, self excluded:
    a row for every item, or for the ids in ``only`` (all items are candidates)."""
    t0 = perf_counter()
    ids = list(items)
    features = content_features(items, weights)
    rows = np.flatnonzero(np.diff(features.indptr) > 0)  # items with something to compare
    if only is not None:
        wanted = set(only)
        rows = rows[np.array([ids[n] in wanted for n in rows.tolist()], dtype=bool)]
    table = similar_items(
        features, features.T, ids, top_k=top_k, job="content",
        rows=rows, chunk=chunk_items, budget_mb=budget_mb,
    )  # fmt: skip
    log.info(
        "event=content items=%d rows=%d seconds=%.2f", len(items), len(table), perf_counter() - t0
    )
    return table
