"""Vectorised feature assembly: one batched read, then one numpy column per feature.

:meth:`Assembler.assemble` is the only path from (ctx, candidates) to a model's input
matrix; offline training calls the same method, so training matches serving.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
        columns: dict[tuple[str, str], list[Any]] = {}

        def column(ns: str | None, field: str) -> list[Any]:
            key = (ns or "", field)
            col = columns.get(key)
            if col is None:
                rows = item_rows if ns is None else item_features.get(ns, ())
                col = [r.get(field) if r is not None else None for r in rows] or [None] * n
                columns[key] = col
            return col

        for j, f in enumerate(self._features):
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
                ch = f.value
                out[:, j] = np.fromiter((ch in it.channels for it in items), np.bool_, n)
        return out


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
