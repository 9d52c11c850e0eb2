"""Vectorised feature assembly: per-item fields come as columns, gathered for the whole
batch with numpy fancy indexing; no Python loop per item and field.

:meth:`Assembler.assemble` is the only path from (ctx, candidates) to a model's input
matrix; offline training calls the same method, so training matches serving. An
in-process backend (local) hands out its columnar views; any other backend is read in
ONE batch and its rows are turned into a view of the batch, so both give the same
matrix bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from .._context import Context
from .._items import Item
from ..data.columns import ColumnView, Gathered, Table, lookup
from ._item_matrix import ItemMatrix, Layout, Numeric, Vocab, build
from ._spec import Feature, FeatureSpec

Matrix = npt.NDArray[np.float32]
Row = Mapping[str, Any] | None
USER_NAMESPACE = "user"
FORWARD_INDEX: Table = ("items", "")
_ID, _SCORE, _CHANNELS = attrgetter("id"), attrgetter("score"), attrgetter("channels")


class _Coded(NamedTuple):
    """A categorical (vocab) or affinity feature: codes of an item field → numbers."""

    column: int
    table: Table
    feature: Feature
    vocab: dict[str, float] | None
    default: float


class Assembler:
    """Builds the float32 input matrix of one feature spec (rows = candidates)."""

    __slots__ = (
        "_affinity",
        "_channel_columns",
        "_channel_names",
        "_channels",
        "_coded",
        "_dots",
        "_layout",
        "_matrix",
        "_scalar_columns",
        "_scalars",
        "_scores",
        "_tables",
        "_targets",
        "_user_namespaces",
        "_width",
    )

    def __init__(self, spec: FeatureSpec) -> None:
        self._width = len(spec.features)
        self._scalars: list[tuple[int, str | None, str, dict[str, float] | None, float]] = []
        self._coded: list[_Coded] = []
        self._scores: list[int] = []
        self._channels: list[tuple[int, str]] = []
        self._dots: list[tuple[int, str, float]] = []
        numeric: dict[Table, list[tuple[int, str, float]]] = {}
        for j, f in enumerate(spec.features):
            default = np.nan if f.default is None else float(f.default)
            vocab = {v: float(i) for i, v in enumerate(f.vocab)} if f.vocab is not None else None
            table = _table(f)
            if table is not None and vocab is None and f.op is None:
                numeric.setdefault(table, []).append((j, f.field, default))
            elif table is not None:
                self._coded.append(_Coded(j, table, f, vocab, default))
            elif f.source in ("user", "context"):  # the row: a user namespace, or None
                ns = _user_ns(f) if f.source == "user" else None
                self._scalars.append((j, ns, f.field, vocab, default))
            elif f.op == "score":
                self._scores.append(j)
            elif f.op == "dot":
                self._dots.append((j, f.namespace, default))
            else:
                self._channels.append((j, f.value))
        self._scalar_columns = _columns([j for j, *_ in self._scalars])
        self._channel_columns = _columns([j for j, _ in self._channels])
        self._channel_names = [ch for _, ch in self._channels]
        self._tables = sorted({*numeric, *(c.table for c in self._coded)})
        self._affinity = [c for c in self._coded if c.vocab is None]
        self._layout, targets = _layout(numeric, self._coded)
        self._targets = _columns(targets)
        self._matrix: ItemMatrix | None = None
        self._user_namespaces = sorted(
            {_user_ns(f) for f in spec.features if f.source == "user" or f.op == "affinity"}
        )

    @property
    def width(self) -> int:
        return self._width

    def assemble(self, ctx: Context[Any], items: Sequence[Item]) -> Matrix:
        """Read what the spec needs (the user's features, and the candidates' rows when
        the backend has no columns) in ONE batch and build the matrix."""
        n = len(items)
        out = np.empty((n, self._width), np.float32)
        if n == 0:
            return out
        ids = list(map(_ID, items))
        columns = ctx.data.columns(self._tables, ids) if self._tables else []
        gathered: dict[Table, Gathered] = {}
        to_read = self._tables
        if columns is not None:
            gathered, to_read = dict(zip(self._tables, columns, strict=True)), []
        users: dict[str, Row] = {}
        vectors: dict[str, tuple[Any, Any]] = {}
        if self._user_namespaces or to_read or self._dots:
            with ctx.data.batch() as b:
                user_rows = {
                    ns: b.features_many(ns, (ctx.user_id,)) for ns in self._user_namespaces
                }
                item_rows = {
                    t: b.items(ids) if t == FORWARD_INDEX else b.features_many(t[1], ids)
                    for t in to_read
                }
                for _, ns, _ in self._dots:
                    if ns not in vectors:
                        vectors[ns] = (b.vectors(ns, [ctx.user_id]), b.vectors(ns, ids, "item"))
            users = {ns: p.value[0] for ns, p in user_rows.items()}
            self._fill_dots(out, {ns: (u.value[0], v.value) for ns, (u, v) in vectors.items()})
            batch = np.arange(n, dtype=np.intp)
            for t, p in item_rows.items():
                gathered[t] = (ColumnView(list(p.value)), batch)
        self._fill_request(out, users, ctx.context)
        self._fill_joined(out, gathered, keep=columns is not None)
        self._fill_affinity(out, gathered, users)
        self._fill_candidates(out, items)
        return out

    def _fill_request(
        self, out: Matrix, users: Mapping[str, Row], context: Mapping[str, Any]
    ) -> None:
        """User and context features: one value for every row."""
        if not self._scalars:
            return
        values = []
        for _, ns, field, vocab, default in self._scalars:
            row = users.get(ns) if ns is not None else context
            values.append(_scalar(row.get(field) if row is not None else None, vocab, default))
        out[:, self._scalar_columns] = np.array(values, np.float64)

    def _fill_joined(self, out: Matrix, gathered: Mapping[Table, Gathered], *, keep: bool) -> None:
        """Numeric and vocab item features: one gather from the pre-joined rows of these
        views (see ``_item_matrix``). ``keep``: the views are the backend's own, so the
        rows are kept until a write publishes new ones; rows read for this batch only
        (Redis, remote) are joined for it alone."""
        if not gathered or not self._layout.width:
            return
        views = tuple(gathered[t][0] for t in self._tables)
        m = self._matrix if keep else None
        if m is None or m.views != views:
            m = build(self._layout, self._tables, views)
            if keep:
                self._matrix = m
        at = max(gathered.values(), key=_length)[1]  # the longest view's rows are the matrix's
        out[:, self._targets] = m.values[at]

    def _fill_affinity(
        self, out: Matrix, gathered: Mapping[Table, Gathered], users: Mapping[str, Row]
    ) -> None:
        """Cross features: the user's weight for each candidate's value of a field."""
        for c in self._affinity:
            user = users.get(_user_ns(c.feature))
            weights = _weights(user.get(c.feature.user_field) if user is not None else None)
            if weights is None:
                out[:, c.column] = c.default
                continue
            view, at = gathered[c.table]
            codes, levels = view.codes(c.feature.field)
            out[:, c.column] = lookup(levels, weights.items(), 0.0)[codes[at]]

    def _fill_dots(
        self, out: Matrix, vectors: Mapping[str, tuple[Matrix | None, list[Matrix | None]]]
    ) -> None:
        """Inner products of the user's vector and each candidate's (``default`` where
        either is missing)."""
        for j, ns, default in self._dots:
            user, rows = vectors[ns]
            out[:, j] = default
            if user is None:
                continue
            has = np.fromiter((v is not None for v in rows), bool, len(rows))
            if has.any():
                m = np.stack([v for v in rows if v is not None]).astype(np.float32, copy=False)
                out[has, j] = m @ np.asarray(user, np.float32)

    def _fill_candidates(self, out: Matrix, items: Sequence[Item]) -> None:
        """Recall score and channel one-hots, from the candidates themselves."""
        n = len(items)
        if self._scores:
            scores = np.fromiter(map(_SCORE, items), np.float64, n)
            for j in self._scores:
                out[:, j] = scores
        if self._channels:
            kinds = _Codes()  # each distinct channels tuple → a code
            codes = np.fromiter(map(kinds.__getitem__, map(_CHANNELS, items)), np.intp, n)
            names = self._channel_names
            one_hot = np.array([[ch in k for ch in names] for k in kinds], np.float32)
            out[:, self._channel_columns] = one_hot[codes]


class _Codes(dict[tuple[str, ...], int]):
    def __missing__(self, key: tuple[str, ...]) -> int:
        code = self[key] = len(self)
        return code


def _layout(
    numeric: Mapping[Table, list[tuple[int, str, float]]], coded: Sequence[_Coded]
) -> tuple[Layout, list[int]]:
    """The pre-joined row of a spec and the matrix column of each of its columns."""
    targets: list[int] = []
    defaults: list[tuple[int, float]] = []
    blocks: list[Numeric] = []
    for table, cols in numeric.items():
        blocks.append(Numeric(table, tuple(field for _, field, _ in cols)))
        for j, _, default in cols:
            if default == default:  # not NaN
                defaults.append((len(targets), default))
            targets.append(j)
    vocab = [
        Vocab(c.table, c.feature.field, c.vocab, c.default) for c in coded if c.vocab is not None
    ]
    targets += [c.column for c in coded if c.vocab is not None]
    order = sorted(range(len(targets)), key=targets.__getitem__)
    return Layout(blocks, vocab, defaults, order), sorted(targets)


def _length(gathered: Gathered) -> int:
    return len(gathered[0].rows)


def _columns(js: list[int]) -> slice | npt.NDArray[np.intp]:
    """Matrix columns as a slice when they are adjacent (a cheaper assignment), else as
    an index array built once."""
    if js and js == list(range(js[0], js[-1] + 1)):
        return slice(js[0], js[-1] + 1)
    return np.array(js, np.intp)


def _table(f: Feature) -> Table | None:
    """The per-item table a feature reads, None for user, context and request values."""
    if f.source == "item" or f.op == "affinity":
        return FORWARD_INDEX
    if f.source == "item_feature":
        return ("features", f.namespace)
    return None


def _user_ns(f: Feature) -> str:
    return f.namespace or USER_NAMESPACE


def _scalar(value: Any, vocab: dict[str, float] | None, default: float) -> float:
    if value is None:
        return default
    if vocab is not None:
        return vocab.get(value, default) if isinstance(value, str) else default
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return default


def _weights(value: Any) -> dict[Any, float] | None:
    """A user's affinity field as value → weight: a ranked list or a mapping."""
    try:
        if isinstance(value, Mapping):
            return {k: _scalar(w, None, 0.0) for k, w in value.items()}
        if isinstance(value, list | tuple):
            return {v: 1.0 / (1.0 + r) for r, v in reversed(list(enumerate(value)))}
    except TypeError:  # an unhashable value in the list
        pass
    return None
