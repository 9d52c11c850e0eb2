"""Validate records into the rows a :class:`~prism_sdk.data.DataWriter` takes.

Each function reads the whole input and raises :class:`LoadError` (naming file, line
and field) on the first bad row, before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, NamedTuple

from prism_platform.importing.readers import (
    LoadError,
    Record,
    infer_columns,
    need_id,
    need_number,
    need_ts,
)
from prism_sdk import Event, Scored

Op = Literal["upsert", "delete", "off_shelf"]
OPS: tuple[Op, ...] = ("upsert", "delete", "off_shelf")


class Update(NamedTuple):
    """One incremental change of the forward index."""

    op: Op
    id: str
    fields: dict[str, Any]


def table_rows(records: Iterable[Record], file: str) -> dict[str, list[Scored]]:
    """``key,item,score`` rows or ``{"key", "items": [[item, score], ...]}`` objects;
    each key's rows come out best first."""
    table: dict[str, list[Scored]] = {}
    for line, rec in records:
        key = need_id(rec, "key", file, line)
        if "items" in rec:
            pairs = rec["items"]
            if not isinstance(pairs, list):
                raise LoadError(file, line, "items", "expected a list of [item, score]")
            row = [_pair(p, f"items[{i}]", file, line) for i, p in enumerate(pairs)]
        else:
            score = need_number(rec.get("score"), "score", file, line)
            row = [(need_id(rec, "item", file, line), score)]
        table.setdefault(key, []).extend(row)
    for row in table.values():
        row.sort(key=lambda p: -p[1])
    return table


def _pair(value: Any, field: str, file: str, line: int) -> Scored:
    if not isinstance(value, list) or len(value) != 2:
        raise LoadError(file, line, field, f"expected [item, score], got {value!r}")
    item = need_id({"item": value[0]}, "item", file, line)
    return item, need_number(value[1], f"{field}.score", file, line)


def record_rows(records: Iterable[Record], file: str, *, typed: bool) -> dict[str, dict[str, Any]]:
    """``id`` plus fields, per id; CSV columns (``typed=False``) get numbers inferred."""
    rows: dict[str, dict[str, Any]] = {}
    for line, rec in records:
        key = need_id(rec, "id", file, line)
        fields = {k: v for k, v in rec.items() if k != "id"}
        rows[key] = {**rows.get(key, {}), **fields}
    return rows if typed else infer_columns(rows)


def update_rows(records: Iterable[Record], file: str) -> list[Update]:
    """``{"op": "upsert"|"delete"|"off_shelf", "id": ..., "fields": {...}}`` objects."""
    out: list[Update] = []
    for line, rec in records:
        op = rec.get("op")
        if op not in OPS:
            raise LoadError(file, line, "op", f"expected one of {', '.join(OPS)}, got {op!r}")
        item_id = need_id(rec, "id", file, line)
        fields = rec.get("fields", {})
        if not isinstance(fields, dict) or (op == "upsert" and not fields):
            raise LoadError(file, line, "fields", f"expected a non-empty object, got {fields!r}")
        out.append(Update(op, item_id, fields))
    return out


def event_rows(records: Iterable[Record], file: str) -> dict[str, list[Event]]:
    """``{user_id, item_id, type, ts}`` objects, per user, oldest first."""
    events: dict[str, list[Event]] = {}
    for line, rec in records:
        user = need_id(rec, "user_id", file, line)
        ev = Event(
            need_ts(rec.get("ts"), "ts", file, line),
            need_id(rec, "item_id", file, line),
            need_id(rec, "type", file, line),
        )
        events.setdefault(user, []).append(ev)
    for evs in events.values():
        evs.sort()
    return events
