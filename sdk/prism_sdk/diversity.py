"""Diversity rerankers: maximal marginal relevance (MMR)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import overload

import numpy as np
from numpy.typing import NDArray

from ._attrs import Rows, kind_fn
from ._candidates import Candidates
from ._item_fields import ItemFields
from ._items import Item
from ._trace import Stage

Matrix = NDArray[np.floating]
Similarity = Callable[[Sequence[Item]], Matrix]
"""Items -> their (n, n) similarity matrix."""


@overload
def mmr(
    items: Sequence[Item],
    *,
    lam: float = 0.7,
    by: str | Sequence[str] | None = None,
    rows: Rows | None = None,
    embeddings: Matrix | None = None,
    similarity: Similarity | None = None,
    limit: int | None = None,
    id: str = "mmr",
    stage: Stage | None = None,
) -> list[Item]: ...


@overload
def mmr(
    items: Candidates,
    *,
    lam: float = 0.7,
    by: str | Sequence[str] | None = None,
    rows: Rows | None = None,
    embeddings: Matrix | None = None,
    similarity: Similarity | None = None,
    limit: int | None = None,
    id: str = "mmr",
    stage: Stage | None = None,
) -> Candidates: ...


def mmr(
    items: Sequence[Item] | Candidates,
    *,
    lam: float = 0.7,
    by: str | Sequence[str] | None = None,
    rows: Rows | None = None,
    embeddings: Matrix | None = None,
    similarity: Similarity | None = None,
    limit: int | None = None,
    id: str = "mmr",  # noqa: A002 - the component id shown in traces
    stage: Stage | None = None,
) -> list[Item] | Candidates:
    """Rerank ``items`` (best first) by maximal marginal relevance: each position takes
    the item maximising ``lam * relevance - (1 - lam) * max similarity to those already
    placed``. Relevance is the score scaled to [0, 1]; ``lam=1`` keeps the score order,
    ``lam=0`` is as diverse as possible.

    Similarity is one of: ``by`` attribute key(s) of the forward-index ``rows`` or trace
    (the share of equal keys, e.g. ``("category", "shop")``); ``embeddings``, one row per
    item (cosine); ``similarity(items)``, an (n, n) matrix. Numpy per placed item, no
    per-pair Python. Notes ``{id: {"lambda": lam, "moved": n}}`` in ``stage``. For
    :class:`~prism_sdk.stages.Candidates` (given back reranked) the ``by`` keys are read
    as columns when ``rows`` is ``stages.item_fields(ctx.data, c)``.
    """
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"mmr {id!r}: lam must be within [0, 1], got {lam}")
    if sum(x is not None for x in (by, embeddings, similarity)) != 1:
        raise ValueError(f"mmr {id!r}: give exactly one of by, embeddings, similarity")
    n = len(items)
    k = n if limit is None else min(limit, n)
    if k == 0:
        return items[:0] if isinstance(items, Candidates) else []
    column = _columns(items, by, rows, embeddings, similarity)
    if isinstance(items, Candidates):
        scores = items.scores
    else:
        scores = np.fromiter((it.score for it in items), np.float64, n)
    span = float(scores.max() - scores.min())
    rel = (scores - scores.min()) / span if span > 0 else np.zeros(n)
    gain = lam * rel
    penalty = np.zeros(n)
    taken = np.zeros(n, dtype=bool)
    order: list[int] = []
    for step in range(k):
        value = gain - (1.0 - lam) * penalty
        value[taken] = -np.inf
        j = int(np.argmax(value))
        order.append(j)
        taken[j] = True
        sim = column(j)
        penalty = sim if step == 0 else np.maximum(penalty, sim)
    out = (
        items.take(np.array(order, np.intp))
        if isinstance(items, Candidates)
        else [items[j] for j in order]
    )
    if stage is not None:
        stage.note(**{id: {"lambda": lam, "moved": sum(i != j for i, j in enumerate(order))}})
        stage.output(n, out)
    return out


def _columns(
    items: Sequence[Item] | Candidates,
    by: str | Sequence[str] | None,
    rows: Rows | None,
    embeddings: Matrix | None,
    similarity: Similarity | None,
) -> Callable[[int], NDArray[np.float64]]:
    """j -> the similarity of every item to item j."""
    n = len(items)
    if similarity is not None:
        given = items.to_items() if isinstance(items, Candidates) else items
        full = np.asarray(similarity(given), dtype=np.float64)
        if full.shape != (n, n):
            raise ValueError(f"similarity returned shape {full.shape}, expected {(n, n)}")
        return lambda j: full[:, j]
    if embeddings is not None:
        emb = np.asarray(embeddings, dtype=np.float64)
        if emb.ndim != 2 or emb.shape[0] != n:
            raise ValueError(f"embeddings have shape {emb.shape}, expected ({n}, d)")
        norm = np.linalg.norm(emb, axis=1, keepdims=True)
        unit = emb / np.where(norm > 0, norm, 1.0)
        return lambda j: unit @ unit[j]
    assert by is not None
    keys = [by] if isinstance(by, str) else list(by)
    codes = np.empty((len(keys), n), dtype=np.int64)
    for r, key in enumerate(keys):
        seen: dict[object, int] = {}
        for i, v in enumerate(_kinds(items, key, rows)):
            # a missing value equals nothing: a code of its own
            codes[r, i] = seen.setdefault(v, len(seen)) if v is not None else -1 - i
    return lambda j: (codes == codes[:, j : j + 1]).mean(axis=0)


def _kinds(
    items: Sequence[Item] | Candidates, key: str, rows: Rows | None
) -> list[Hashable | None]:
    if isinstance(items, Candidates):
        if isinstance(rows, ItemFields):
            return rows.kinds(items, key)
        items = items.to_items()
    kind = kind_fn(key, rows)
    return [kind(it) for it in items]
