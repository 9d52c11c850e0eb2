"""Read real interaction logs and item catalogues: generic delimited files and the
MovieLens 100K preset.

Ratings become event types: ``rating >= top`` → ``order``, ``>= positive`` → ``click``,
anything lower → ``view`` (MovieLens: 5 → order, 4 → click, 1-3 → view).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prism_platform.importing.readers import (
    LoadError,
    infer_columns,
    need_id,
    need_number,
    need_ts,
    open_text,
    split_rows,
)
from prism_sdk import Event

ML_GENRES = (
    "unknown",
    "action",
    "adventure",
    "animation",
    "childrens",
    "comedy",
    "crime",
    "documentary",
    "drama",
    "fantasy",
    "film_noir",
    "horror",
    "musical",
    "mystery",
    "romance",
    "sci_fi",
    "thriller",
    "war",
    "western",
)


@dataclass
class RawLog:
    """Parallel lists of an interaction log, as read."""

    users: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    ts: list[float] = field(default_factory=list)
    types: list[str] = field(default_factory=list)


def events_log(events: Mapping[str, Sequence[Event]], since: float = -math.inf) -> RawLog:
    """Stored behaviour events (``user id -> events``) not older than ``since``, as a log."""
    log = RawLog()
    for user, evs in events.items():
        for ev in evs:
            if ev.ts >= since:
                log.users.append(user)
                log.items.append(ev.item_id)
                log.ts.append(ev.ts)
                log.types.append(ev.type)
    return log


@dataclass(frozen=True)
class Columns:
    """Which column holds what: header names, or 0-based indices without a header."""

    user: str = "user_id"
    item: str = "item_id"
    ts: str = "ts"
    type: str | None = "type"
    rating: str | None = None
    positive: float = 4.0
    top: float = 5.0


def rating_type(rating: float, cols: Columns) -> str:
    return "order" if rating >= cols.top else "click" if rating >= cols.positive else "view"


def read_log(path: str, sep: str, cols: Columns, *, header: bool = True) -> RawLog:
    """A delimited interaction log; a rating column (when named) decides each type."""
    log = RawLog()
    with open_text(path) as f:
        reader = csv.reader(f, delimiter=sep)
        names = next(reader, []) if header else []
        index = {n: i for i, n in enumerate(names)}
        kind = cols.rating or cols.type or "type"
        specs = (cols.user, cols.item, cols.ts, kind)
        at = [_column(s, index, path) for s in specs]
        for row in reader:
            if not row:
                continue
            line = reader.line_num
            rec = {s: row[i] if i < len(row) else None for s, i in zip(specs, at, strict=True)}
            log.users.append(need_id(rec, cols.user, path, line))
            log.items.append(need_id(rec, cols.item, path, line))
            log.ts.append(need_ts(rec[cols.ts], cols.ts, path, line))
            if cols.rating:
                rating = need_number(rec[kind], kind, path, line)
                log.types.append(rating_type(rating, cols))
            else:
                log.types.append(need_id(rec, kind, path, line))
    return log


def _column(spec: str, index: dict[str, int], path: str) -> int:
    if spec in index:
        return index[spec]
    if spec.isdigit():
        return int(spec)
    known = ", ".join(index) or "(no header: give 0-based column numbers)"
    raise LoadError(path, 1, spec, f"no such column (columns: {known})")


def read_catalogue(path: str, sep: str, id_col: str = "id") -> dict[str, dict[str, Any]]:
    """An item catalogue with a header: ``id`` plus fields (``title``, ``category``…)."""
    rows: dict[str, dict[str, Any]] = {}
    with open_text(path) as f:
        reader = csv.DictReader(f, delimiter=sep)
        for rec in reader:
            key = need_id(rec, id_col, path, reader.line_num)
            rows[key] = {k: v for k, v in rec.items() if k != id_col and k is not None}
    return infer_columns(rows)


def read_movielens_100k(folder: str) -> tuple[RawLog, dict[str, dict[str, Any]]]:
    """``u.data`` (user, item, rating, timestamp; tabs) and ``u.item`` (pipes, latin-1):
    title, release date, IMDb URL and 19 genre flags → ``category`` (the first genre
    set) and ``genres`` (all of them)."""
    base = Path(folder)
    cols = Columns()
    log = RawLog()
    data = str(base / "u.data")
    for line, parts in split_rows(data, "\t"):
        if len(parts) != 4:
            raise LoadError(data, line, "(row)", f"expected 4 fields, got {len(parts)}")
        rec = dict(zip(("user", "item", "rating", "timestamp"), parts, strict=True))
        log.users.append(need_id(rec, "user", data, line))
        log.items.append(need_id(rec, "item", data, line))
        log.types.append(rating_type(need_number(rec["rating"], "rating", data, line), cols))
        log.ts.append(need_number(rec["timestamp"], "timestamp", data, line))
    items: dict[str, dict[str, Any]] = {}
    catalogue = str(base / "u.item")
    for line, parts in split_rows(catalogue, "|", encoding="latin-1"):
        if len(parts) != 5 + len(ML_GENRES):
            raise LoadError(catalogue, line, "(row)", f"expected 24 fields, got {len(parts)}")
        flags = parts[5:]
        genres = [g for g, flag in zip(ML_GENRES, flags, strict=True) if flag.strip() == "1"]
        items[need_id({"id": parts[0]}, "id", catalogue, line)] = {
            "title": parts[1],
            "release_date": parts[2],
            "imdb_url": parts[4],
            "category": genres[0] if genres else "unknown",
            "genres": genres,
            "status": "on",
        }
    return log, items
