"""The coarse-ranking stage: a cheap cut of many recall candidates to the few the fine
ranker scores, by the inner product of the user's and each candidate's vector."""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import numpy as np
import numpy.typing as npt

from ._candidates import Candidates, Removed
from ._items import Item
from ._trace import Stage
from .data.client import DataClient
from .data.vectors import VectorRows

REASON = "coarse_cut"


@overload
def coarse(
    data: DataClient,
    user_id: str,
    items: Sequence[Item],
    keep: int,
    *,
    namespace: str = "emb",
    head: int = 0,
    stage: Stage | None = None,
    id: str = "coarse",
) -> list[Item]: ...


@overload
def coarse(
    data: DataClient,
    user_id: str,
    items: Candidates,
    keep: int,
    *,
    namespace: str = "emb",
    head: int = 0,
    stage: Stage | None = None,
    id: str = "coarse",
) -> Candidates: ...


def coarse(
    data: DataClient,
    user_id: str,
    items: Sequence[Item] | Candidates,
    keep: int,
    *,
    namespace: str = "emb",
    head: int = 0,
    stage: Stage | None = None,
    id: str = "coarse",  # noqa: A002 - the component id shown in traces
) -> list[Item] | Candidates:
    """The ``keep`` candidates with the largest inner product between the user's vector
    and theirs in vector table ``namespace`` (the user's and the candidates' vectors in
    one batch of reads), the rest removed with reason ``coarse_cut``. The first ``head``
    candidates (the recall's own best, when they come sorted) are kept whatever their
    inner product; the vectors choose the other ``keep - head``.

    The kept items stay in their input order with their scores: the cut selects, the
    fine ranker orders. Candidates without a vector rank below every candidate with
    one, among themselves in input order; a user without a vector keeps the first
    ``keep`` in input order. Given :class:`Candidates`, it returns their kept rows."""
    if not 0 <= head <= keep:
        raise ValueError(f"coarse {id!r}: need 0 <= head <= keep, got {head} and {keep}")
    n = len(items)
    scores: npt.NDArray[np.float64] | None = None
    if n > keep:
        ids = items.ids if isinstance(items, Candidates) else [it.id for it in items]
        scores = _scores(data, user_id, ids, namespace)
        if scores is not None:
            scores[:head] = np.inf
    if scores is None:
        order = np.arange(min(n, keep))
    else:  # stable: equal scores (and the vectorless, all -inf) keep the input order
        order = np.sort(np.argsort(-scores, kind="stable")[:keep])
    if isinstance(items, Candidates):
        rows = items.take(order)
        if stage is not None:
            if stage.detail:
                chosen = np.zeros(n, bool)
                chosen[order] = True
                stage.removed(Removed(items, chosen, REASON), id)
            stage.output(n, rows)
        return rows
    kept = [items[i] for i in order.tolist()]
    if stage is not None:
        if stage.detail:
            chosen = np.zeros(n, bool)
            chosen[order] = True
            stage.removed(((items[i], REASON) for i in np.flatnonzero(~chosen).tolist()), id)
        stage.output(n, kept)
    return kept


def _scores(
    data: DataClient, user_id: str, ids: list[str], namespace: str
) -> npt.NDArray[np.float64] | None:
    """Each candidate's inner product with the user (-inf without a vector), or None
    when the user has no vector."""
    with data.batch() as b:
        user = b.vectors(namespace, [user_id])
        vecs = b.vectors(namespace, ids, side="item")
    u = user.value[0]
    if u is None:
        return None
    rows = vecs.value
    q = np.asarray(u, np.float32)
    if isinstance(rows, VectorRows):  # gathered by the backend: one product
        scores = (rows.matrix @ q).astype(np.float64)
        scores[~rows.present] = -np.inf
        return scores
    has = np.fromiter((v is not None for v in rows), bool, len(rows))
    scores = np.full(len(rows), -np.inf)
    if has.any():
        m = np.stack([v for v in rows if v is not None]).astype(np.float32, copy=False)
        scores[has] = m @ q
    return scores
