"""The rows of one result-table key as two columns: item ids and scores.

The Redis backend decodes a key's rows into a list of ids and an array of doubles
in one call instead of one tuple (and one float object) per row. :class:`ScoredRows`
reads like the ``list[Scored]`` the other backends return (iterating, indexing and
comparing yield ``(item, score)`` pairs) and hands the columns to code that wants
them as they are: ``numpy.asarray(rows.scores)`` is a view, not a copy. The embedded
backend keeps its tables as :class:`ScoredRows` with the ids' vocabulary ``codes``
made once when the table is written, so a candidate source built from them
(``stages.Candidates.from_rows``) does no Python work per row.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator, Sequence
from typing import overload

from ._base import Scored
from .vocabulary import VOCABULARY, Codes


class ScoredRows(Sequence[Scored]):
    """``(item id, score)`` rows, best first, held as ``ids`` and ``scores`` (and the
    ids' vocabulary codes, when known: :attr:`codes`). Not to be changed in place."""

    __slots__ = ("_codes", "ids", "scores")

    def __init__(self, ids: list[str], scores: array[float], codes: Codes | None = None) -> None:
        if len(ids) != len(scores):
            raise ValueError(f"{len(ids)} ids but {len(scores)} scores")
        if codes is not None and len(codes) != len(ids):
            raise ValueError(f"{len(ids)} ids but {len(codes)} codes")
        self.ids = ids
        self.scores = scores
        self._codes = codes

    @classmethod
    def coded(cls, rows: Sequence[Scored]) -> ScoredRows:
        """``rows`` as columns with their ids interned and coded (a table's rows as the
        embedded backend keeps them)."""
        intern = sys.intern
        ids = [intern(i) if type(i) is str else i for i, _ in rows]
        return cls(ids, array("d", [s for _, s in rows]), VOCABULARY.codes(ids))

    @property
    def codes(self) -> Codes:
        """Each id's code in ``data.vocabulary.VOCABULARY`` (made on first use)."""
        if self._codes is None:
            self._codes = VOCABULARY.codes(self.ids)
        return self._codes

    @classmethod
    def empty(cls) -> ScoredRows:
        return cls([], array("d"))

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[Scored]:
        return zip(self.ids, self.scores, strict=False)

    @overload
    def __getitem__(self, index: int) -> Scored: ...

    @overload
    def __getitem__(self, index: slice) -> ScoredRows: ...

    def __getitem__(self, index: int | slice) -> Scored | ScoredRows:
        if isinstance(index, slice):  # aligned already: no checks
            out = _new(ScoredRows)
            out.ids, out.scores = self.ids[index], self.scores[index]
            out._codes = self._codes[index] if self._codes is not None else None
            return out
        return self.ids[index], self.scores[index]

    def head(self, n: int) -> ScoredRows:
        """The first ``n`` rows: these rows themselves when there are no more."""
        if len(self.ids) <= n:
            return self
        out = _new(ScoredRows)
        out.ids, out.scores = self.ids[:n], self.scores[:n]
        out._codes = self._codes[:n] if self._codes is not None else None
        return out

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ScoredRows):
            return self.ids == other.ids and self.scores == other.scores  # array == array
        if isinstance(other, list):
            return len(other) == len(self.ids) and list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable columns, like a list

    def __repr__(self) -> str:
        return f"ScoredRows({list(self)!r})"


_new = object.__new__
