"""Item attributes for rules, scattering and diversity: a forward-index row, else the trace."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from ._items import Item
from .data.client import DataClient

Rows = Mapping[str, Mapping[str, Any] | None]
"""Forward-index rows by item id (see :func:`item_rows`)."""

KindOf = Callable[[Item], Hashable | None] | str
"""A function giving an item's kind, or an attribute key (``"category"``, ``"shop"``…)."""


def item_rows(data: DataClient, items: Sequence[Item]) -> dict[str, Mapping[str, Any] | None]:
    """The forward-index rows of ``items`` in one read: ``item_rows(ctx.data, items)``."""
    ids = [it.id for it in items]
    return dict(zip(ids, data.items(ids), strict=True))


def attr(item: Item, key: str, rows: Rows | None) -> Any:
    """``key`` of the item's forward-index row, else of its trace (``"channel"``: the
    primary recall channel, unless a row or the trace has that key); None when absent."""
    row = rows.get(item.id) if rows is not None else None
    if row is not None and key in row:
        return row[key]
    if item.trace is not None and key in item.trace:
        return item.trace[key]
    return item.channel if key == "channel" else None


def kind_fn(kind_of: KindOf, rows: Rows | None) -> Callable[[Item], Hashable | None]:
    """``kind_of`` as a function (an attribute key reads :func:`attr`; lists become tuples)."""
    if callable(kind_of):
        return kind_of
    key = kind_of

    def kind(it: Item) -> Hashable | None:
        v = attr(it, key, rows)
        return tuple(v) if isinstance(v, list) else v

    return kind
