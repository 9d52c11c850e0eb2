"""Forward-index fields of a candidate set as columns: ``stages.item_fields(ctx.data, c)``.

On the local backend the rows are the backend's own columnar view (no Python per
candidate); on any other backend they are read in one batch and turned into a view of
that batch. Either way a field becomes codes (``ColumnView.codes``), so a filter on it
(``fields.equals(c, "status", "on")``) or a scatter by it is numpy work.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from ._attrs import attr
from ._candidates import Candidates
from ._vocab import looked_up
from .data.client import DataClient
from .data.columns import MISSING, ColumnView, Keys, Table
from .data.vocabulary import VOCABULARY, Codes

FORWARD_INDEX: Table = ("items", "")
Row = Mapping[str, Any] | None


class ItemFields(Mapping[str, Row]):
    """The forward-index rows of the ids of a candidate set, for it and for the sets the
    stages derive from it. Also a read-only mapping id -> row, so it serves wherever
    ``stages.item_rows`` does (``rules.apply``, ``scatter`` of items)."""

    __slots__ = ("_by_code", "_codes", "_keys", "_keys_plus_one", "_view")

    def __init__(self, data: DataClient, candidates: Candidates) -> None:
        codes = candidates.codes  # an id twice: both rows get its key
        got = data.columns([FORWARD_INDEX], _Ids(codes), codes)
        if got is not None:
            self._view, keys = got[0]
        else:  # read each id once
            codes = np.unique(codes)
            self._view = ColumnView(list(data.items(VOCABULARY.ids(codes))))
            keys = np.arange(len(codes), dtype=np.intp)
        self._codes = codes
        keys.flags.writeable = False  # handed out by keys_of
        self._keys = keys
        self._keys_plus_one: npt.NDArray[np.int64] | None = None  # made when first needed
        self._by_code: dict[int, int] | None = None

    def keys_of(self, candidates: Candidates) -> Keys:
        """Each row's position in the view (``MISSING``: no row, or not read here)."""
        if candidates.codes is self._codes:  # the set these rows were read for
            return self._keys
        if self._keys_plus_one is None:
            self._keys_plus_one = self._keys.astype(np.int64) + 1  # 0: no row
        return looked_up(candidates.codes, self._codes, self._keys_plus_one) - 1

    def codes(
        self, candidates: Candidates, field: str
    ) -> tuple[npt.NDArray[np.int32], dict[Any, int]]:
        """``field`` of each row as a code into the levels (value -> code); ``MISSING``
        where the row, the field or a hashable value is missing."""
        codes, levels = self._view.codes(field)
        return codes[self.keys_of(candidates)], levels

    def equals(self, candidates: Candidates, field: str, value: Any) -> npt.NDArray[np.bool_]:
        """Per row: whether its row's ``field`` equals ``value`` (False without a row;
        ``value`` must not be None)."""
        if value is None:
            raise ValueError("equals: compare with a value, not None")
        codes, levels = self.codes(candidates, field)
        code = levels.get(value) if isinstance(value, Hashable) else None
        if code is None:
            return np.zeros(len(candidates), bool)
        return np.asarray(codes == code, bool)

    def kinds(self, candidates: Candidates, key: str) -> list[Hashable | None]:
        """Each row's kind by attribute ``key`` as ``scatter`` sees it (the row's value,
        else the trace's, else the channel for ``"channel"``), as equal codes for equal
        values: a code of the row's field, or of the value found elsewhere."""
        return [None if k < 0 else k for k in self.kind_codes(candidates, key).tolist()]

    def kind_codes(self, candidates: Candidates, key: str) -> npt.NDArray[np.int32]:
        """:meth:`kinds` as an array (negative: kind None)."""
        codes, levels = self.codes(candidates, key)
        missing = (codes == MISSING).nonzero()[0]
        if len(missing):
            codes = codes.astype(np.int32)  # a copy: the view's codes stay as they are
            extra = dict(levels)
            items = candidates.take(missing).to_items()
            for i, it in zip(missing.tolist(), items, strict=True):
                v = attr(it, key, self)
                v = tuple(v) if isinstance(v, list) else v
                codes[i] = MISSING if v is None else extra.setdefault(v, len(extra))
        return codes.astype(np.int32, copy=False)

    # -- the mapping id -> row -------------------------------------------------
    def __getitem__(self, item_id: str) -> Row:
        if self._by_code is None:
            self._by_code = dict(zip(self._codes.tolist(), self._keys.tolist(), strict=True))
        key = self._by_code.get(VOCABULARY.index.get(item_id, -1))
        if key is None:
            raise KeyError(item_id)
        return self._view.rows[key] if key != MISSING and key < len(self._view.rows) else None

    def __iter__(self) -> Iterator[str]:
        return iter(VOCABULARY.ids(np.unique(self._codes)))

    def __len__(self) -> int:
        return len(np.unique(self._codes))


class _Ids(Sequence[str]):
    """The ids of ``codes``, each made a string when read (a backend that remembers
    rows by code reads few)."""

    __slots__ = ("codes",)

    def __init__(self, codes: Codes) -> None:
        self.codes = codes

    def __len__(self) -> int:
        return len(self.codes)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return VOCABULARY.ids(self.codes[index])
        return VOCABULARY.ids(self.codes[index : index + 1 or None])[0]
