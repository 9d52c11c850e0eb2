"""Run the offline jobs over an interaction log and write their result tables, each
replaced atomically (``DataWriter.replace_table``).

Shared by the demo world (``demo/seed.py``), real-data imports (``loading/``) and
``prism job``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sized
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import numpy as np
import numpy.typing as npt

from prism_platform.jobs.bought_together import bought_together
from prism_platform.jobs.category_next import category_next
from prism_platform.jobs.content import content_similarity
from prism_platform.jobs.embeddings import (
    Training,
    confidence,
    item_neighbours,
    train,
    vector_table,
)
from prism_platform.jobs.itemcf import itemcf
from prism_platform.jobs.popular import decayed_scores, popular_tables
from prism_platform.jobs.usercf import usercf
from prism_sdk.data import DataWriter
from prism_sdk.data.vectors import VectorWriter

log = logging.getLogger("prism.jobs")

ENGAGED = ("click", "cart", "order")
"""Event types that feed item-to-item and user-to-user similarity."""
BOUGHT = ("cart", "order")
"""Event types that feed bought-together."""
COLD_NEIGHBOURS = 10
"""Items with fewer ``i2i`` neighbours than this get ``content_sim`` rows from
:func:`build_tables` (``prism job content`` covers every item)."""

Counts = dict[str, int]
Table = dict[str, list[tuple[str, float]]]
UNKNOWN_CATEGORY = "unknown"


def item_category(row: Mapping[str, Any]) -> str:
    """An item's category for ``popular_cat``: its ``category`` (the first of a list),
    :data:`UNKNOWN_CATEGORY` when it has none."""
    cat = row.get("category")
    if isinstance(cat, list):
        cat = cat[0] if cat else None
    return str(cat) if cat not in (None, "") else UNKNOWN_CATEGORY


@dataclass(frozen=True, eq=False)
class Interactions:
    """An interaction log as parallel arrays, the users' ids, and the item catalogue's
    ids and categories."""

    user_idx: npt.NDArray[np.int64]
    item_idx: npt.NDArray[np.int64]
    ts: npt.NDArray[np.float64]
    types: npt.NDArray[np.str_]
    user_ids: list[str]
    item_ids: list[str]
    item_categories: list[str]
    eligible: npt.NDArray[np.bool_] | None = None  # items popular tables may list (on shelf)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    def of_types(self, types: tuple[str, ...]) -> npt.NDArray[np.bool_]:
        return np.isin(self.types, types)

    def category_codes(self) -> tuple[list[str], npt.NDArray[np.int64]]:
        """The categories (sorted) and each item's position among them."""
        names = sorted(set(self.item_categories))
        pos = {c: n for n, c in enumerate(names)}
        return names, np.array([pos[c] for c in self.item_categories], np.int64)


def _replace(writer: DataWriter, name: str, table: Table) -> Counts:
    """One atomic replacement of table ``name``; its row count."""
    writer.replace_table(name, table)
    return {name: len(table)}


def write_itemcf(writer: DataWriter, inter: Interactions, *, top_k: int = 50) -> Table:
    """``i2i``: ItemCF over the engaged events; the table."""
    m = inter.of_types(ENGAGED)
    ids = inter.item_ids
    table = itemcf(
        inter.user_idx[m], inter.item_idx[m], inter.n_users, len(ids), item_ids=ids, top_k=top_k
    )
    _replace(writer, "i2i", table)
    return table


def write_usercf(writer: DataWriter, inter: Interactions, *, top_k: int = 100) -> Counts:
    """``u2i_usercf``: UserCF over the engaged events."""
    m = inter.of_types(ENGAGED)
    table = usercf(
        inter.user_idx[m], inter.item_idx[m], inter.user_ids, inter.item_ids, top_n=top_k
    )
    return _replace(writer, "u2i_usercf", table)


def write_popular(
    writer: DataWriter,
    inter: Interactions,
    *,
    now: float,
    half_life_s: float = 3 * 86400.0,
    top_k: int = 500,
    top_per_category: int = 200,
) -> Counts:
    """``popular`` (key ``all``: counted by its items) and ``popular_cat`` (key:
    category), decayed scores."""
    scores = decayed_scores(
        inter.item_idx, inter.ts, inter.types, len(inter.item_ids), now=now, half_life_s=half_life_s
    )
    overall, per_cat = popular_tables(
        scores, inter.item_ids, inter.item_categories,
        top_overall=top_k, top_per_category=top_per_category, eligible=inter.eligible,
    )  # fmt: skip
    _replace(writer, "popular", overall)
    return {"popular": len(overall["all"]), **_replace(writer, "popular_cat", per_cat)}


def write_bought_together(writer: DataWriter, inter: Interactions, *, top_k: int = 30) -> Counts:
    """``bought_together``: items carted or ordered together."""
    m = inter.of_types(BOUGHT)
    table: Table = {}
    if m.any():
        table = bought_together(
            inter.user_idx[m], inter.item_idx[m], inter.ts[m], len(inter.item_ids), inter.item_ids,
            top_k=top_k,
        )  # fmt: skip
    return _replace(writer, "bought_together", table)


def write_category_next(writer: DataWriter, inter: Interactions) -> Counts:
    """``category_next``: the categories shoppers engage with after each category."""
    m = inter.of_types(ENGAGED)
    names, item_cat = inter.category_codes()
    table: Table = {}
    if m.any():
        table = category_next(inter.user_idx[m], item_cat[inter.item_idx[m]], inter.ts[m], names)
    return _replace(writer, "category_next", table)


def write_content(
    writer: DataWriter,
    items: Mapping[str, Mapping[str, Any]],
    *,
    top_k: int = 50,
    cold_in: Mapping[str, Sized] | None = None,
) -> Counts:
    """``content_sim`` for every item, or only for the items with fewer than
    :data:`COLD_NEIGHBOURS` neighbours in the item-to-item table ``cold_in``."""
    only = None
    if cold_in is not None:
        only = [i for i in items if len(cold_in.get(i, ())) < COLD_NEIGHBOURS]
    table = content_similarity(items, top_k=top_k, only=only)
    return _replace(writer, "content_sim", table)


def write_embeddings(
    writer: DataWriter,
    inter: Interactions,
    *,
    training: Training | None = None,
    name: str = "emb",
    top_k: int = 50,
    neighbours: bool = True,
) -> Counts:
    """Vector table ``name`` (users and items) and, with ``neighbours``, ``i2i_emb``:
    item neighbours by the cosine of their vectors."""
    if not isinstance(writer, VectorWriter):
        raise TypeError(f"{type(writer).__name__} cannot store vector tables")
    m = confidence(inter.user_idx, inter.item_idx, inter.types, inter.n_users, len(inter.item_ids))
    training = training or Training()
    users, items = train(m, training)
    table = vector_table(
        m, users, items, inter.user_ids, inter.item_ids,
        training=training, eligible=inter.eligible,
    )  # fmt: skip
    writer.replace_vectors(name, table)
    counts = {f"{name} users": len(table.users.ids), f"{name} items": len(table.items.ids)}
    if not neighbours:
        return counts
    return counts | _replace(writer, "i2i_emb", item_neighbours(table.items, top_k=top_k))


def build_tables(
    writer: DataWriter,
    inter: Interactions,
    *,
    now: float,
    half_life_s: float = 3 * 86400.0,
    items: Mapping[str, Mapping[str, Any]] | None = None,
    content: str = "cold",
) -> Counts:
    """Write ``i2i``, ``u2i_usercf``, ``popular``, ``popular_cat``, ``bought_together``,
    ``category_next`` and, given the item rows, ``content_sim`` (``content``: ``"cold"``
    items only, see :data:`COLD_NEIGHBOURS`, or ``"all"``); row counts."""
    t0 = perf_counter()
    i2i = write_itemcf(writer, inter)
    counts = {"i2i": len(i2i)} | write_usercf(writer, inter)
    counts |= write_popular(writer, inter, now=now, half_life_s=half_life_s)
    counts |= write_bought_together(writer, inter)
    counts |= write_category_next(writer, inter)
    if items is not None:
        counts |= write_content(writer, items, cold_in=i2i if content == "cold" else None)
    log.info("event=tables_built seconds=%.2f counts=%s", perf_counter() - t0, counts)
    return counts
