"""Columnar views of per-id rows (the forward index, a feature namespace): numeric
fields as float32 blocks and other fields as codes, row ``k`` holding the id of key
``k``, so a batch of ids is gathered with numpy fancy indexing instead of a Python loop
per id and field.

A backend keeps one :class:`IdKeys` for all its views, so a batch of ids is looked up
once whatever number of tables a model reads. A view is immutable once published:
:meth:`ColumnView.updated` returns a new one; its columns are built on first use,
deterministically from its rows. Every column has one extra slot at the end, the
*missing* slot, which key -1 (an unknown id) reads.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Row = Mapping[str, Any] | None
Keys = npt.NDArray[np.intp]
Block = npt.NDArray[np.float32]
Codes = npt.NDArray[np.int32]
Table = tuple[Literal["items", "features"], str]
"""``("items", "")``, the forward index, or ``("features", namespace)``."""
Gathered = tuple["ColumnView", Keys]
"""A view and the rows of a batch of ids in it."""
MISSING = -1


class IdKeys(dict[str, int]):
    """id → key, append-only (a key is never reused); ``MISSING`` for an unknown id.

    Ids are interned as they are added. :meth:`of` looks a batch up by the address of
    each id first (numpy, no string touched): candidate ids read from the local
    backend's tables are the very objects these keys hold. Ids that are equal but other
    objects, and ids added since the address index was built, go through the dict. The
    index is rebuilt by :meth:`add` (the writer, under the backend's write lock) once an
    eighth of the keys are newer than it, never by a reader.
    """

    __slots__ = ("_index",)

    def __init__(self, items: Iterable[tuple[str, int]] = ()) -> None:
        super().__init__(items)
        self._index: tuple[int, Keys, Keys] | None = None  # (size, sorted addresses, keys)

    def __missing__(self, key: str) -> int:
        return MISSING

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its pairs: addresses mean nothing in another process."""
        return (IdKeys, (list(self.items()),))

    def of(self, ids: Sequence[str]) -> Keys:
        n = len(ids)
        index = self._index
        if index is None:
            return np.fromiter(map(self.__getitem__, ids), np.intp, n)
        _, addrs, keys = index
        want = np.fromiter(map(id, ids), np.intp, n)
        pos = np.searchsorted(addrs, want)
        pos[pos == len(addrs)] = 0
        found = addrs[pos] == want
        out = np.where(found, keys[pos], MISSING)
        if not found.all():
            miss = (~found).nonzero()[0]
            rest = [ids[i] for i in miss.tolist()]
            out[miss] = np.fromiter(map(self.__getitem__, rest), np.intp, len(rest))
        return out

    def add(self, ids: Iterable[str]) -> None:
        """Keys for new ids. Plain strings are interned, so a candidate id read from an
        interned table is the key's own object."""
        for k in ids:
            if k not in self:
                self[sys.intern(k) if type(k) is str else k] = len(self)
        index = self._index
        size = len(self)
        if size and (index is None or size - index[0] > index[0] // 8):
            addrs = np.fromiter(map(id, list(self)), np.intp, size)  # key k is the k-th id
            order = np.argsort(addrs).astype(np.intp)
            self._index = (size, addrs[order], order)


class ColumnView:
    """The rows of one table by key (None where the table has no row)."""

    __slots__ = ("_blocks", "_codes", "rows")

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self._blocks: dict[tuple[str, ...], Block] = {}
        self._codes: dict[str, tuple[Codes, dict[Any, int]]] = {}

    @classmethod
    def of(cls, keys: Mapping[str, int], rows: Mapping[str, Row]) -> ColumnView:
        """The view of ``rows`` by id; every id must have a key."""
        by_key: list[Row] = [None] * len(keys)
        for k, row in rows.items():
            by_key[keys[k]] = row
        return cls(by_key)

    def at(self, keys: Keys, top: int | None = None) -> Keys:
        """``keys`` as rows of this view (keys added after it was built: missing);
        ``top``: the largest of the keys, when the caller knows it."""
        if top is None:
            top = int(keys.max()) if len(keys) else -1
        if top >= len(self.rows):
            keys = np.where(keys < len(self.rows), keys, MISSING)
        return keys

    def block(self, fields: tuple[str, ...]) -> Block:
        """``fields`` of every row as float32 columns; NaN where a field is missing or
        not a number."""
        got = self._blocks.get(fields)
        if got is None:
            got = self._blocks[fields] = to_block(self.rows, fields)
        return got

    def codes(self, field: str) -> tuple[Codes, dict[Any, int]]:
        """``field`` of every row as a code into ``levels`` (value → code, in order of
        first appearance); ``MISSING`` where it is missing or unhashable."""
        got = self._codes.get(field)
        if got is None:
            got = self._codes[field] = to_codes(self.rows, field)
        return got

    def updated(self, changed: Mapping[int, Row]) -> ColumnView:
        """A new view with the rows of ``changed`` keys replaced (``None``: deleted);
        the columns built so far are copied and patched, not rebuilt."""
        rows = list(self.rows)
        grow = max(max(changed, default=0) + 1 - len(rows), 0)
        rows.extend([None] * grow)
        for key, row in changed.items():
            rows[key] = row
        view = ColumnView(rows)
        at = np.fromiter(changed, np.intp, len(changed))
        new_rows = list(changed.values())
        for fields, block in list(self._blocks.items()):
            new = _grown(block, grow, np.float32(np.nan))
            new[at] = to_block(new_rows, fields)[:-1]
            view._blocks[fields] = new
        for field, (codes, levels) in list(self._codes.items()):
            new_codes, new_levels = _grown(codes, grow, np.int32(MISSING)), dict(levels)
            new_codes[at] = [_code(new_levels, _get(r, field)) for r in new_rows]
            view._codes[field] = (new_codes, new_levels)
        return view


@runtime_checkable
class ColumnarBackend(Protocol):
    """A backend that keeps its rows in this process and serves columnar views."""

    def columns(
        self, tables: Sequence[Table], ids: Sequence[str], codes: Keys | None = None
    ) -> list[Gathered]:
        """The current view of each table and the rows of ``ids`` in it (``codes``: the
        ids' codes in ``data.vocabulary``, by which the backend may remember them)."""
        ...


@np.errstate(over="ignore")  # numbers beyond float32 become ±inf
def to_block(rows: Sequence[Row], fields: tuple[str, ...]) -> Block:
    """``fields`` of ``rows`` as float32 columns, plus the missing row (NaN) at the end."""
    out = np.full((len(rows) + 1, len(fields)), np.nan, np.float32)
    present = [r for r in rows if r is not None]
    try:  # fast path: every present row has every field, all numbers (or None)
        get = itemgetter(*fields)
        block = np.array([get(r) for r in present], np.float64)
        if len(fields) == 1 and block.ndim == 1:
            block = block[:, None]
        if block.shape == (len(present), len(fields)):
            if len(present) == len(rows):
                out[:-1] = block
            else:
                out[[i for i, r in enumerate(rows) if r is not None]] = block
            return out
    except (KeyError, TypeError, ValueError, OverflowError):
        pass
    for c, field in enumerate(fields):
        out[:-1, c] = to_numbers([r.get(field) if r is not None else None for r in rows])
    return out


def to_codes(rows: Sequence[Row], field: str) -> tuple[Codes, dict[Any, int]]:
    """``field`` of ``rows`` as codes (plus the missing slot) and the levels."""
    values = [r.get(field) if r is not None else None for r in rows]
    levels: dict[Any, int] = {None: MISSING}
    try:  # fast path: every value hashable
        codes = [levels.setdefault(v, len(levels) - 1) for v in values]
    except TypeError:
        levels = {}
        codes = [_code(levels, v) for v in values]
    levels.pop(None, None)
    codes.append(MISSING)
    return np.array(codes, np.int32), levels


@np.errstate(over="ignore")
def to_numbers(values: Sequence[Any]) -> npt.NDArray[np.float32]:
    """float32 of each value (a number, or a string or bool that ``float`` takes); NaN
    for None and anything else."""
    try:
        col = np.array(values, np.float64)
        if col.shape == (len(values),):
            return col.astype(np.float32)
    except (TypeError, ValueError, OverflowError):
        pass
    return np.array([_number(v) for v in values], np.float64).astype(np.float32)


def lookup(
    levels: Mapping[Any, int], values: Iterable[tuple[Any, float]], missing: float
) -> npt.NDArray[np.float64]:
    """A table code → number from (value, number) pairs, ``missing`` for the other codes;
    index it with codes of ``levels`` (its last slot serves ``MISSING``)."""
    table = np.full(len(levels) + 1, missing, np.float64)
    for value, number in values:
        code = levels.get(value)
        if code is not None:
            table[code] = number
    return table


def _get(row: Row, field: str) -> Any:
    return row.get(field) if row is not None else None


def _number(value: Any) -> float:
    if value is None:
        return np.nan
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return np.nan


def _code(levels: dict[Any, int], value: Any) -> int:
    if value is None:
        return MISSING
    try:
        return levels.setdefault(value, len(levels))
    except TypeError:  # unhashable (a list, a mapping)
        return MISSING


def _grown(col: Any, extra: int, missing: Any) -> Any:
    """A copy of ``col`` with ``extra`` rows inserted before its missing row."""
    if not extra:
        return col.copy()
    tail = np.full((extra + 1, *col.shape[1:]), missing, col.dtype)
    return np.concatenate([col[:-1], tail])
