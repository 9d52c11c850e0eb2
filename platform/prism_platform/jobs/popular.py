"""Popular items with exponential time decay, overall and per category."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from prism_platform.jobs._topk import SCORE_DECIMALS

DEFAULT_TYPE_WEIGHTS = {"view": 1.0, "click": 2.0, "cart": 4.0, "order": 8.0}


def decayed_scores(
    item_idx: npt.NDArray[np.int64],
    ts: npt.NDArray[np.float64],
    event_type: Sequence[str] | npt.NDArray[np.str_],
    n_items: int,
    *,
    now: float,
    half_life_s: float = 3 * 86400.0,
    type_weights: Mapping[str, float] = DEFAULT_TYPE_WEIGHTS,
) -> npt.NDArray[np.float64]:
    """Per-item score: sum over events of ``type weight × 0.5 ** (age / half_life)``."""
    types = np.asarray(event_type)
    w = np.zeros(len(types), np.float64)
    for name, weight in type_weights.items():
        w[types == name] = weight
    age = np.maximum(now - ts, 0.0)
    w *= np.exp2(-age / half_life_s)
    return np.bincount(item_idx, weights=w, minlength=n_items).astype(np.float64)


def popular_tables(
    scores: npt.NDArray[np.float64],
    item_ids: Sequence[str],
    categories: Sequence[str],
    *,
    top_overall: int = 500,
    top_per_category: int = 200,
    eligible: npt.NDArray[np.bool_] | None = None,
) -> tuple[dict[str, list[tuple[str, float]]], dict[str, list[tuple[str, float]]]]:
    """``({"all": top}, {category: top})`` over items with a positive score."""
    ok = scores > 0 if eligible is None else (scores > 0) & eligible
    published = np.round(scores, SCORE_DECIMALS)  # ranked by the score listed, then item id
    order = np.lexsort((np.asarray(item_ids, dtype=object), -published))
    order = order[ok[order]]
    overall = {"all": [(item_ids[i], float(published[i])) for i in order[:top_overall]]}
    cats = np.asarray(categories)
    per_cat: dict[str, list[tuple[str, float]]] = {}
    ranked_cats = cats[order]
    for c in np.unique(ranked_cats):
        members = order[ranked_cats == c][:top_per_category]
        per_cat[str(c)] = [(item_ids[i], float(published[i])) for i in members]
    return overall, per_cat
