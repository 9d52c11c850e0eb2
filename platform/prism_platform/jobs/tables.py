"""Run every offline job over an interaction log and write the result tables.

Shared by the demo world (``demo/seed.py``) and real-data imports (``loading/``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from time import perf_counter

import numpy as np
import numpy.typing as npt

from prism_sdk.data import DataWriter

from .bought_together import bought_together
from .itemcf import itemcf
from .popular import decayed_scores, popular_tables

log = logging.getLogger("prism.jobs")

ENGAGED = ("click", "cart", "order")
"""Event types that feed item-to-item similarity."""
BOUGHT = ("cart", "order")
"""Event types that feed bought-together."""


@dataclass(frozen=True, eq=False)
class Interactions:
    """An interaction log as parallel arrays, plus the item catalogue's ids and categories."""

    user_idx: npt.NDArray[np.int64]
    item_idx: npt.NDArray[np.int64]
    ts: npt.NDArray[np.float64]
    types: npt.NDArray[np.str_]
    n_users: int
    item_ids: list[str]
    item_categories: list[str]
    eligible: npt.NDArray[np.bool_] | None = None  # items popular tables may list (on shelf)


def build_tables(
    writer: DataWriter, inter: Interactions, *, now: float, half_life_s: float = 3 * 86400.0
) -> dict[str, int]:
    """Write ``i2i``, ``popular``, ``popular_cat`` and ``bought_together``; row counts."""
    t0 = perf_counter()
    ids, n_items = inter.item_ids, len(inter.item_ids)
    engaged = np.isin(inter.types, ENGAGED)
    i2i = itemcf(
        inter.user_idx[engaged], inter.item_idx[engaged], inter.n_users, n_items, item_ids=ids
    )
    writer.replace_table("i2i", i2i)
    scores = decayed_scores(
        inter.item_idx, inter.ts, inter.types, n_items, now=now, half_life_s=half_life_s
    )
    overall, per_cat = popular_tables(scores, ids, inter.item_categories, eligible=inter.eligible)
    writer.replace_table("popular", overall)
    writer.replace_table("popular_cat", per_cat)
    bought = np.isin(inter.types, BOUGHT)
    together: dict[str, list[tuple[str, float]]] = {}
    if bought.any():
        together = bought_together(
            inter.user_idx[bought], inter.item_idx[bought], inter.ts[bought], n_items, ids
        )
    writer.replace_table("bought_together", together)
    counts = {
        "i2i": len(i2i),
        "popular": len(overall["all"]),
        "popular_cat": len(per_cat),
        "bought_together": len(together),
    }
    log.info("event=tables_built seconds=%.2f counts=%s", perf_counter() - t0, counts)
    return counts
