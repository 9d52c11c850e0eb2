"""Turn an interaction log and an item catalogue into everything the scenes read:
the forward index, user features, recent events and the offline result tables
(built by the same jobs as the demo world, :func:`~prism_platform.jobs.tables.build_tables`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from prism_platform.importing.logs import RawLog
from prism_platform.jobs.candidate_features import write_candidate_features
from prism_platform.jobs.embeddings import Training
from prism_platform.jobs.popular import DEFAULT_TYPE_WEIGHTS
from prism_platform.jobs.tables import (
    UNKNOWN_CATEGORY,
    Interactions,
    build_tables,
    item_category,
    write_embeddings,
)
from prism_sdk import Event
from prism_sdk.data import DataWriter
from prism_sdk.data.vectors import VectorWriter

DAY = 86400.0
UNKNOWN = UNKNOWN_CATEGORY


@dataclass(frozen=True)
class ImportOptions:
    realtime_days: float = 7.0
    """Recent events (relative to the newest one) written as realtime behaviour; 0: all."""
    shift_to_now: bool = True
    """Move every timestamp so the newest event happened now (replaying an old log)."""
    half_life_days: float = 30.0
    """Popularity decay, relative to the newest event."""
    top_categories: int = 3
    now: float | None = None
    vectors: Training | None = Training()
    """How the user and item vectors (vector table ``emb``, the ``emb`` channel) are
    trained; ``None``: not at all (``prism job embeddings`` later)."""
    vector_neighbours: bool = True
    """Also write ``i2i_emb`` (each item's neighbours by vector)."""


def import_log(
    writer: DataWriter,
    log: RawLog,
    catalogue: dict[str, dict[str, Any]] | None,
    opts: ImportOptions = ImportOptions(),
) -> dict[str, int]:
    """Write items, user features, recent events and tables; returns counts.

    Without a catalogue the items are those of the log; with one, events of items
    missing from it are skipped (and counted).
    """
    if catalogue is None:
        catalogue = {i: {"title": i} for i in dict.fromkeys(log.items)}
    items = {k: {"status": "on", "category": UNKNOWN, **v} for k, v in catalogue.items()}
    inter = log_interactions(log, items)
    if not len(inter.ts):
        raise ValueError("no event refers to an item of the catalogue")
    now = time.time() if opts.now is None else opts.now
    newest = float(inter.ts.max())
    if opts.shift_to_now:
        inter.ts[:] += now - newest
        newest = now
    user_ids = inter.user_ids
    writer.upsert_items(items)
    writer.upsert_features("user", user_features(inter, user_ids, opts.top_categories))
    since = newest - opts.realtime_days * DAY if opts.realtime_days > 0 else -np.inf
    recent = write_events(writer, inter, user_ids, since)
    tables = build_tables(
        writer, inter, now=newest, half_life_s=opts.half_life_days * DAY, items=items
    )
    tables |= write_candidate_features(writer, inter)  # what the candidate ranker reads
    if opts.vectors is not None and isinstance(writer, VectorWriter):
        tables |= write_embeddings(
            writer, inter, training=opts.vectors, neighbours=opts.vector_neighbours
        )
    counts = {
        "items": len(items),
        "users": len(user_ids),
        "events": len(inter.ts),
        "skipped_events": len(log.items) - len(inter.ts),
        "realtime_events": recent,
    }
    return {**counts, **tables}


def log_interactions(log: RawLog, items: Mapping[str, Mapping[str, Any]]) -> Interactions:
    """The events of ``log`` on items of ``items`` as arrays (the others are skipped);
    users numbered in order of appearance; ``eligible``: items not off shelf (status
    ``on`` or none)."""
    item_ids = list(items)
    item_pos = {k: n for n, k in enumerate(item_ids)}
    keep = [n for n, i in enumerate(log.items) if i in item_pos]
    user_ids = list(dict.fromkeys(log.users[n] for n in keep))
    user_pos = {u: n for n, u in enumerate(user_ids)}
    return Interactions(
        user_idx=np.array([user_pos[log.users[n]] for n in keep], np.int64),
        item_idx=np.array([item_pos[log.items[n]] for n in keep], np.int64),
        ts=np.array([log.ts[n] for n in keep], np.float64),
        types=np.array([log.types[n] for n in keep], np.str_),
        user_ids=user_ids,
        item_ids=item_ids,
        item_categories=[item_category(row) for row in items.values()],
        eligible=np.array([row.get("status", "on") == "on" for row in items.values()], bool),
    )


def user_features(inter: Interactions, user_ids: list[str], top: int) -> dict[str, dict[str, Any]]:
    """``top_categories`` per user: the categories of their events, weighted by type."""
    names, cat_of_item = inter.category_codes()
    w = np.zeros(len(inter.types), np.float32)
    for kind, weight in DEFAULT_TYPE_WEIGHTS.items():
        w[inter.types == kind] = weight
    m = sparse.csr_matrix(
        (w, (inter.user_idx, cat_of_item[inter.item_idx])), shape=(inter.n_users, len(names))
    )
    m.sum_duplicates()
    out: dict[str, dict[str, Any]] = {}
    for u, uid in enumerate(user_ids):
        lo, hi = m.indptr[u], m.indptr[u + 1]
        order = np.argsort(-m.data[lo:hi], kind="stable")[:top]
        best = zip(m.indices[lo:hi][order].tolist(), m.data[lo:hi][order].tolist(), strict=True)
        cats = [names[c] for c, s in best if s > 0]
        out[uid] = {"top_categories": cats}
    return out


def write_events(writer: DataWriter, inter: Interactions, user_ids: list[str], since: float) -> int:
    """Append each user's events not older than ``since`` (oldest first); how many."""
    keep = np.flatnonzero(inter.ts >= since)
    per_user: dict[int, list[Event]] = {}
    for u, i, t, k in zip(
        inter.user_idx[keep].tolist(),
        inter.item_idx[keep].tolist(),
        inter.ts[keep].tolist(),
        inter.types[keep].tolist(),
        strict=True,
    ):
        per_user.setdefault(u, []).append(Event(t, inter.item_ids[i], k))
    for u, events in per_user.items():
        events.sort()
        writer.append_events(user_ids[u], events)
    return len(keep)
