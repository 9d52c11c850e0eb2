"""A candidate set held as numpy columns: the fast path through the stages.

A :class:`Candidates` holds one row per candidate: its id as a code of the process's id
vocabulary (``data.vocabulary``), its score (float64), its channels as a code into the
set's registry of channel tuples (``channel_sets``), and optionally its trace and acm
fields. Sources build one straight from a result table's rows
(:meth:`Candidates.from_rows`) without an :class:`Item` per row; the stages
(``stages.merge``, ``keep_if``, ``drop_ids``, ``downweight``, ``top``, ``scatter``)
take one and give one back, with the same results and trace entries as for a
``list[Item]``; :meth:`Candidates.to_items` makes items only of what is returned.

Columns are never changed in place: every operation returns a new set.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from typing import overload

import numpy as np
import numpy.typing as npt

from ._items import Item, new_items
from ._native import kernels
from ._vocab import summed, summed_tables
from .data import Scored
from .data.scored import ScoredRows
from .data.vocabulary import VOCABULARY, Codes, Ids

_ID, _SCORE = itemgetter(0), itemgetter(1)
Scores = npt.NDArray[np.float64]
ChannelCodes = npt.NDArray[np.int32]
ChannelSets = tuple[tuple[str, ...], ...]
Rows = Sequence[Scored] | ScoredRows


class Candidates:
    """Candidates as columns, in list order (see the module docstring)."""

    __slots__ = ("acm", "channel_sets", "chans", "codes", "scores", "traces")

    def __init__(
        self,
        codes: Codes,
        scores: Scores,
        chans: ChannelCodes,
        channel_sets: ChannelSets,
        traces: Ids | None = None,
        acm: Ids | None = None,
    ) -> None:
        self.codes = codes
        """Per row: its id's code in ``data.vocabulary.VOCABULARY``."""
        self.scores = scores
        self.chans = chans
        """Per row: its channels, as a position in ``channel_sets``."""
        self.channel_sets = channel_sets
        self.traces = traces
        """Per row: the item's trace dict or None (None: no row has one)."""
        self.acm = acm
        """Per row: the item's acm fields or None (None: no row has any)."""

    # -- building --------------------------------------------------------------
    @classmethod
    def empty(cls) -> Candidates:
        return cls(np.zeros(0, np.intp), np.zeros(0), np.zeros(0, np.int32), ())

    @classmethod
    def from_rows(
        cls, rows: Rows | Iterable[Scored], channel: str, weight: float = 1.0
    ) -> Candidates:
        """A candidate source: the (item id, score) rows of a result table as candidates
        of ``channel``, scores times ``weight`` (``stages.from_scored`` as columns)."""
        if isinstance(rows, ScoredRows):
            if not rows.ids:
                return cls.empty()
            codes = rows.codes
            scores = np.frombuffer(rows.scores, np.float64)
        else:
            pairs = rows if isinstance(rows, list | tuple) else list(rows)
            if not pairs:
                return cls.empty()
            codes, scores = _pair_columns(pairs)
        if weight != 1.0:
            scores = scores * weight
        return cls(codes, scores, np.zeros(len(codes), np.int32), ((channel,),))

    @classmethod
    def from_rows_summed(
        cls, tables: Sequence[Rows], weights: Sequence[float], channel: str
    ) -> Candidates:
        """One candidate per id of several tables' rows (e.g. the i2i rows of each seed):
        its score the sum of ``weight * score`` over its rows, in order of first
        appearance (as accumulating them in a dict)."""
        if len(weights) != len(tables):
            raise ValueError(f"{len(weights)} weights for {len(tables)} tables")
        given = [(rows, w) for rows, w in zip(tables, weights, strict=True) if len(rows)]
        if not given:
            return cls.empty()
        ws = [w for _, w in given]
        coded = [rows for rows, _ in given if isinstance(rows, ScoredRows)]
        if len(coded) == len(given):  # columns as they are
            codes, total = summed_tables([r.codes for r in coded], [r.scores for r in coded], ws)
        else:
            codes, scores = _pair_columns([row for rows, _ in given for row in rows])
            scores *= np.repeat(np.asarray(ws, np.float64), [len(rows) for rows, _ in given])
            codes, total, _ = summed(codes, scores)  # as a dict sums them
        return cls(codes, total, np.zeros(len(codes), np.int32), ((channel,),))

    @classmethod
    def from_items(cls, items: Sequence[Item]) -> Candidates:
        """The items as columns (ids, scores, channels, traces and acm fields kept)."""
        n = len(items)
        if not n:
            return cls.empty()
        sets: dict[tuple[str, ...], int] = {}
        chans = [sets.setdefault(it.channels, len(sets)) for it in items]
        traces = [it.trace for it in items]
        acm = [it.acm_extra for it in items]
        return cls(
            VOCABULARY.codes([it.id for it in items]),
            np.fromiter((it.score for it in items), np.float64, n),
            np.array(chans, np.int32),
            tuple(sets),
            None if all(t is None for t in traces) else object_array(traces),
            None if all(a is None for a in acm) else object_array(acm),
        )

    # -- reading ---------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.codes)

    @property
    def ids(self) -> list[str]:
        """The id of each row."""
        return VOCABULARY.ids(self.codes)

    def channels(self) -> list[tuple[str, ...]]:
        """The channels of each row (first = primary)."""
        sets = self.channel_sets
        return [sets[c] for c in self.chans.tolist()]

    def in_channel(self, name: str) -> npt.NDArray[np.bool_]:
        """Per row: whether ``name`` is one of its channels."""
        member = np.array([name in s for s in self.channel_sets], bool)
        return member[self.chans] if len(member) else np.zeros(len(self), bool)

    def to_items(self, limit: int | None = None) -> list[Item]:
        """The first ``limit`` rows (all by default) as items."""
        k = len(self) if limit is None else max(0, min(limit, len(self)))
        ids = VOCABULARY.ids(self.codes[:k])
        scores = self.scores[:k].tolist()
        sets = self.channel_sets
        chans = self.chans[:k].tolist()
        traces = self.traces[:k].tolist() if self.traces is not None else None
        acm = self.acm[:k].tolist() if self.acm is not None else None
        return new_items(ids, scores, sets, chans, traces, acm)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.to_items())

    @overload
    def __getitem__(self, index: int) -> Item: ...

    @overload
    def __getitem__(self, index: slice) -> Candidates: ...

    def __getitem__(self, index: int | slice) -> Item | Candidates:
        if isinstance(index, slice):  # views of the columns
            return Candidates(
                self.codes[index],
                self.scores[index],
                self.chans[index],
                self.channel_sets,
                self.traces[index] if self.traces is not None else None,
                self.acm[index] if self.acm is not None else None,
            )
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("candidate index out of range")
        return self.take(np.array([index], np.intp)).to_items()[0]

    # -- deriving --------------------------------------------------------------
    def take(self, rows: Codes | npt.NDArray[np.bool_]) -> Candidates:
        """The rows ``rows`` (positions, or a mask), in that order."""
        objects = self.traces is not None or self.acm is not None
        if rows.dtype == np.bool_ and (kernels is None or objects):
            rows = rows.nonzero()[0]  # positions once, not a mask per column
        if kernels is not None:
            codes, scores, chans = kernels.taken(self.codes, self.scores, self.chans, rows)
        else:
            codes, scores, chans = self.codes[rows], self.scores[rows], self.chans[rows]
        return Candidates(
            codes,
            scores,
            chans,
            self.channel_sets,
            self.traces[rows] if self.traces is not None else None,
            self.acm[rows] if self.acm is not None else None,
        )

    def with_scores(self, scores: npt.ArrayLike) -> Candidates:
        """The same rows with new scores (one per row)."""
        new = np.asarray(scores, np.float64)
        if new.shape != self.scores.shape:
            raise ValueError(f"{new.shape[0] if new.ndim else 0} scores for {len(self)} rows")
        return Candidates(self.codes, new, self.chans, self.channel_sets, self.traces, self.acm)

    def with_traces(self, traces: Ids | None) -> Candidates:
        return Candidates(self.codes, self.scores, self.chans, self.channel_sets, traces, self.acm)

    def __repr__(self) -> str:
        head = ", ".join(repr(it) for it in self.to_items(3))
        return f"Candidates({len(self)} rows: {head}{', ...' if len(self) > 3 else ''})"


def best_first(scores: Scores) -> Codes:
    """The rows by score, best first, ties in row order (``np.argsort(-scores,
    kind="stable")``, compiled when built)."""
    if kernels is not None:
        return kernels.descending(scores)
    return np.argsort(-scores, kind="stable")


def _pair_columns(pairs: Sequence[Scored]) -> tuple[Codes, Scores]:
    """The codes of the pairs' ids (new ids coded) and their scores."""
    if kernels is not None and type(pairs) is list:
        try:
            return kernels.pair_columns(pairs, VOCABULARY.index)
        except (KeyError, TypeError, ValueError):  # a new id, or a row to look at closer
            pass
    codes = VOCABULARY.codes(list(map(_ID, pairs)))
    return codes, np.fromiter(map(_SCORE, pairs), np.float64, len(pairs))


def object_array(values: Sequence[object]) -> Ids:
    out = np.empty(len(values), object)
    out[:] = values
    return out


class Removed(Sequence[tuple[Item, str]]):
    """What a filter of :class:`Candidates` removed, each with the reason, in input order:
    the rows of ``of`` where the filter's ``kept`` mask is not set, made into columns
    (:attr:`rows`) and items only when read."""

    __slots__ = ("_items", "_kept", "_mask", "_rows", "of", "reason")

    def __init__(self, of: Candidates, kept: npt.NDArray[np.bool_], reason: str) -> None:
        self.of = of
        self._kept = kept
        self._mask: npt.NDArray[np.bool_] | None = None  # inverted only if read
        self.reason = reason
        self._rows: Candidates | None = None
        self._items: list[Item] | None = None

    @property
    def mask(self) -> npt.NDArray[np.bool_]:
        """Per row of ``of``: whether it was removed."""
        if self._mask is None:
            self._mask = ~self._kept
        return self._mask

    @property
    def rows(self) -> Candidates:
        if self._rows is None:
            self._rows = self.of.take(self.mask)
        return self._rows

    def __len__(self) -> int:
        return len(self._kept) - int(np.count_nonzero(self._kept))

    def _pairs(self) -> list[tuple[Item, str]]:
        if self._items is None:
            self._items = self.rows.to_items()
        return [(it, self.reason) for it in self._items]

    @overload
    def __getitem__(self, index: int) -> tuple[Item, str]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[Item, str]]: ...

    def __getitem__(self, index: int | slice) -> tuple[Item, str] | list[tuple[Item, str]]:
        return self._pairs()[index]

    def __iter__(self) -> Iterator[tuple[Item, str]]:
        return iter(self._pairs())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Removed | list):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class CandidatesFiltered:
    """What a filter of :class:`Candidates` kept and what it removed (with the reason)."""

    __slots__ = ("kept", "removed")

    def __init__(self, kept: Candidates, removed: Removed) -> None:
        self.kept = kept
        self.removed = removed
