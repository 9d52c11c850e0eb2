"""The rows of one result-table key as two columns: item ids and scores.

The Redis backend decodes a key's rows into a list of ids and an array of doubles
in one call instead of one tuple (and one float object) per row. :class:`ScoredRows`
reads like the ``list[Scored]`` the other backends return (iterating, indexing and
comparing yield ``(item, score)`` pairs) and hands the columns to code that wants
them as they are: ``numpy.asarray(rows.scores)`` is a view, not a copy.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import overload

from ._base import Scored


class ScoredRows(Sequence[Scored]):
    """``(item id, score)`` rows, best first, held as ``ids`` and ``scores``."""

    __slots__ = ("ids", "scores")

    def __init__(self, ids: list[str], scores: array[float]) -> None:
        if len(ids) != len(scores):
            raise ValueError(f"{len(ids)} ids but {len(scores)} scores")
        self.ids = ids
        self.scores = scores

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
        if isinstance(index, slice):
            return ScoredRows(self.ids[index], self.scores[index])
        return self.ids[index], self.scores[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ScoredRows):
            return self.ids == other.ids and self.scores == other.scores  # array == array
        if isinstance(other, list):
            return len(other) == len(self.ids) and list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable columns, like a list

    def __repr__(self) -> str:
        return f"ScoredRows({list(self)!r})"
