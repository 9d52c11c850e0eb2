"""A feature spec's per-item columns pre-joined over the views of its tables: the local
backend's own (kept between requests), or the rows one batch read from another backend.

Per item id (key) one float32 row holds every numeric and vocab feature the spec reads
from the forward index and the item feature namespaces, defaults applied, vocab codes
already turned into their numbers; the last row is the unknown id. Ranking a batch is
then ONE fancy-index gather instead of one per table and feature: each candidate costs
one row read (two cache lines for ~30 features) instead of several scattered ones.

Built from the views' own column blocks (a copy, no Python loop over items); the local
backend's are rebuilt whenever a write has published new views, so they cost memory
like those blocks and a rebuild like their copy-on-write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ..data.columns import ColumnView, Table, lookup


class Numeric(NamedTuple):
    table: Table
    fields: tuple[str, ...]


class Vocab(NamedTuple):
    table: Table
    field: str
    numbers: dict[str, float]
    default: float


class Layout(NamedTuple):
    """What goes in a row: numeric blocks, then vocab features, then reordered by
    ``order`` (so the row's columns are in the model matrix's order)."""

    numeric: list[Numeric]
    vocab: list[Vocab]
    defaults: list[tuple[int, float]]  # columns (before reordering) whose default is not NaN
    order: list[int]

    @property
    def width(self) -> int:
        return sum(len(n.fields) for n in self.numeric) + len(self.vocab)


class ItemMatrix(NamedTuple):
    views: tuple[ColumnView, ...]  # what it was built from (compared by identity)
    values: npt.NDArray[np.float32]  # (rows + 1, width); last row: the unknown id


def build(layout: Layout, tables: Sequence[Table], views: tuple[ColumnView, ...]) -> ItemMatrix:
    """The matrix of ``views`` (one per table of ``tables``). Views may differ in length
    (keys added after one was built): past its end a view contributes its missing row."""
    by_table = dict(zip(tables, views, strict=True))
    rows = max(len(v.rows) for v in views)
    values = np.empty((rows + 1, layout.width), np.float32)
    col = 0
    for n in layout.numeric:
        k = len(n.fields)
        _place(values[:, col : col + k], by_table[n.table].block(n.fields))
        col += k
    for v in layout.vocab:
        codes, levels = by_table[v.table].codes(v.field)
        _place(values[:, col], lookup(levels, v.numbers.items(), v.default)[codes])
        col += 1
    for c, default in layout.defaults:
        column = values[:, c]
        column[np.isnan(column)] = default
    if layout.order != sorted(layout.order):
        values = np.ascontiguousarray(values[:, layout.order])
    return ItemMatrix(views, values)


def _place(dst: npt.NDArray[np.float32], src: npt.NDArray[np.generic]) -> None:
    """A view's column(s) (its rows, then its missing row) into ``dst``, the missing row
    repeated down to the end."""
    n = len(src) - 1
    dst[:n] = src[:-1]
    dst[n:] = src[-1]
