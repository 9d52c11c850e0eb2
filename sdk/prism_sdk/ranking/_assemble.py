"""Vectorised feature assembly: one batched read, then one numpy column per feature.

:meth:`Assembler.assemble` is the only path from (ctx, candidates) to a model's input
matrix; offline training calls the same method, so training matches serving.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from .._context import Context
from .._items import Item
from ._spec import Feature, FeatureSpec

Row = Mapping[str, Any] | None
Matrix = npt.NDArray[np.float32]
USER_NAMESPACE = "user"


class Assembler:
    """Builds the float32 input matrix of one feature spec (rows = candidates)."""

    __slots__ = (
        "_defaults",
        "_features",
        "_item_namespaces",
        "_numeric",
        "_user_namespaces",
        "_vocabs",
        "_wants_items",
    )

    def __init__(self, spec: FeatureSpec) -> None:
        self._features = spec.features
        self._defaults = [np.nan if f.default is None else float(f.default) for f in spec.features]
        self._vocabs = [
            {v: float(i) for i, v in enumerate(f.vocab)} if f.vocab is not None else None
            for f in spec.features
        ]
        self._user_namespaces = sorted(
            {_user_ns(f) for f in spec.features if f.source == "user" or f.op == "affinity"}
        )
        self._item_namespaces = sorted(
            {f.namespace for f in spec.features if f.source == "item_feature"}
        )
        self._wants_items = any(f.source == "item" or f.op == "affinity" for f in spec.features)
        # numeric per-item fields by row source ("" = forward index), read as one block
        blocks: dict[str, _Block] = {}
        for j, f in enumerate(spec.features):
            if f.source in ("item", "item_feature") and f.vocab is None:
                ns = f.namespace if f.source == "item_feature" else ""
                blocks.setdefault(ns, _Block()).add(j, f.field, self._defaults[j])
        self._numeric = {ns: b.done() for ns, b in blocks.items()}

    @property
    def width(self) -> int:
        return len(self._features)

    def assemble(self, ctx: Context[Any], items: Sequence[Item]) -> Matrix:
        """Read what the spec needs in ONE batch (user features, item rows, item
        features) and build the matrix."""
        ids = [it.id for it in items]
        with ctx.data.batch() as b:
            users = {ns: b.features_many(ns, (ctx.user_id,)) for ns in self._user_namespaces}
            rows = b.items(ids) if self._wants_items and ids else None
            feats = {ns: b.features_many(ns, ids) for ns in self._item_namespaces if ids}
        return self.matrix(
            items,
            {ns: p.value[0] for ns, p in users.items()},
            rows.value if rows is not None else [None] * len(ids),
            {ns: p.value for ns, p in feats.items()},
            ctx.context,
        )

    def matrix(
        self,
        items: Sequence[Item],
        users: Mapping[str, Row],
        item_rows: Sequence[Row],
        item_features: Mapping[str, Sequence[Row]],
        context: Mapping[str, Any],
    ) -> Matrix:
        """The matrix from already-read rows (aligned with ``items``)."""
        n = len(items)
        out = np.empty((n, len(self._features)), np.float32)
        if n == 0:
            return out
        columns: dict[tuple[str, str], list[Any]] = {}

        def rows_of(ns: str) -> Sequence[Row]:
            return (item_rows if not ns else item_features.get(ns, ())) or [None] * n

        filled: set[int] = set()
        for ns, nb in self._numeric.items():
            if nb.fill(out, rows_of(ns)):
                filled.update(nb.out_cols)

        def column(ns: str | None, field: str) -> list[Any]:
            key = (ns or "", field)
            col = columns.get(key)
            if col is None:
                col = [r.get(field) if r is not None else None for r in rows_of(ns or "")]
                columns[key] = col
            return col

        channels: list[tuple[str, ...]] | None = None
        for j, f in enumerate(self._features):
            if j in filled:
                continue
            default, vocab = self._defaults[j], self._vocabs[j]
            src = f.source
            if src == "user" or src == "context":
                row = users.get(_user_ns(f)) if src == "user" else context
                value = row.get(f.field) if row is not None else None
                out[:, j] = _scalar(value, vocab, default)
            elif src == "item" or src == "item_feature":
                col = column(None if src == "item" else f.namespace, f.field)
                out[:, j] = _encode(col, vocab, default)
            elif f.op == "affinity":
                user = users.get(_user_ns(f))
                weights = _weights(user.get(f.user_field) if user is not None else None)
                if weights is None:
                    out[:, j] = default
                else:
                    out[:, j] = [weights.get(v, 0.0) for v in column(None, f.field)]
            elif f.op == "score":
                out[:, j] = np.fromiter((it.score for it in items), np.float64, n)
            else:
                if channels is None:
                    channels = [it.channels for it in items]
                ch = f.value
                out[:, j] = np.fromiter((ch in c for c in channels), np.bool_, n)
        return out


class _Block:
    """The numeric fields one row source feeds, copied into the matrix in one step."""

    def __init__(self) -> None:
        self.fields: list[str] = []
        self.src_cols: list[int] = []
        self.out_cols: list[int] = []
        self.fix: list[tuple[int, float]] = []  # columns whose default is not NaN
        self.getter: Callable[[Any], Any] = itemgetter("")

    def add(self, j: int, field: str, default: float) -> None:
        if field not in self.fields:
            self.fields.append(field)
        self.src_cols.append(self.fields.index(field))
        self.out_cols.append(j)
        if default == default:
            self.fix.append((j, default))

    def done(self) -> _Block:
        self.getter = itemgetter(*self.fields)
        return self

    def fill(self, out: Matrix, rows: Sequence[Row]) -> bool:
        """Copy every row's fields into ``out`` (missing: the default); False, leaving
        ``out`` alone, when a row lacks a field or holds a non-number."""
        get, none = self.getter, (None,) * len(self.fields)
        try:
            if len(self.fields) == 1:
                block = np.array([[get(r)] if r is not None else none for r in rows], np.float32)
            else:
                block = np.array([get(r) if r is not None else none for r in rows], np.float32)
        except (KeyError, TypeError, ValueError):
            return False
        out[:, self.out_cols] = block[:, self.src_cols]
        for j, default in self.fix:
            col = out[:, j]
            col[np.isnan(col)] = default
        return True


def _user_ns(f: Feature) -> str:
    return f.namespace or USER_NAMESPACE


def _scalar(value: Any, vocab: dict[str, float] | None, default: float) -> float:
    if value is None:
        return default
    if vocab is not None:
        return vocab.get(value, default) if isinstance(value, str) else default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _encode(col: list[Any], vocab: dict[str, float] | None, default: float) -> Any:
    if vocab is not None:
        return [vocab.get(v, default) if isinstance(v, str) else default for v in col]
    try:  # fast path: numbers and None
        return np.array([default if v is None else v for v in col], np.float64)
    except (TypeError, ValueError):
        return [_scalar(v, None, default) for v in col]


def _weights(value: Any) -> dict[Any, float] | None:
    """A user's affinity field as value → weight: a ranked list or a mapping."""
    if isinstance(value, Mapping):
        return {k: _scalar(w, None, 0.0) for k, w in value.items()}
    if isinstance(value, list | tuple):
        return {v: 1.0 / (1.0 + r) for r, v in reversed(list(enumerate(value)))}
    return None
