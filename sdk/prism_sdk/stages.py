"""Building blocks in the stage vocabulary: candidate source -> filter -> scorer -> reranker.

Every helper takes an ``id`` (the component id shown in traces) only where it
records something; all are plain functions over ``list[Item]`` or, faster, over
:class:`~prism_sdk.stages.Candidates` columns (same results and traces). Given ``stage=st`` (the
stage they run in, ``with ctx.stage("filter.seen") as st``) a helper records its counts and,
in a debug request, its candidates and what it removed with the reason (see
:class:`~prism_sdk.Stage`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import cast, overload

from . import _candidate_stages as _columns
from ._attrs import KindOf, Rows, kind_fn
from ._attrs import item_rows as item_rows  # re-exported: stages.item_rows(ctx.data, items)
from ._candidates import Candidates as Candidates  # re-exported: stages.Candidates
from ._candidates import CandidatesFiltered as CandidatesFiltered
from ._item_fields import ItemFields as ItemFields
from ._items import FilterResult, Item
from ._trace import Stage
from ._window import arrange
from .data import Scored
from .data.client import DataClient


def from_scored(rows: Iterable[Scored], channel: str, weight: float = 1.0) -> list[Item]:
    """A candidate source: (item id, score) rows of a result table as items of ``channel``."""
    return [Item(i, s * weight, (channel,)) for i, s in rows]


def item_fields(data: DataClient, candidates: Candidates) -> ItemFields:
    """The forward-index rows of ``candidates`` in one read, their fields as columns
    (``item_rows`` for a :class:`~prism_sdk.stages.Candidates`; also a mapping id -> row)."""
    return ItemFields(data, candidates)


@overload
def merge(
    channels: Mapping[str, Candidates],
    *,
    quotas: Mapping[str, int] | None = None,
    weights: Mapping[str, float] | None = None,
    limit: int | None = None,
    stage: Stage | None = None,
) -> Candidates: ...


@overload
def merge(
    channels: Mapping[str, Sequence[Item]],
    *,
    quotas: Mapping[str, int] | None = None,
    weights: Mapping[str, float] | None = None,
    limit: int | None = None,
    stage: Stage | None = None,
) -> list[Item]: ...


def merge(
    channels: Mapping[str, Sequence[Item]] | Mapping[str, Candidates | Sequence[Item]],
    *,
    quotas: Mapping[str, int] | None = None,
    weights: Mapping[str, float] | None = None,
    limit: int | None = None,
    stage: Stage | None = None,
) -> list[Item] | Candidates:
    """Merge recall channels: each contributes at most its quota (its best items first),
    scores are multiplied by the channel weight, and an item found by several channels
    keeps every channel (in the order given) and the sum of its weighted scores.
    Result is sorted by score, best first, and cut to ``limit``. Candidates when any
    channel is :class:`~prism_sdk.stages.Candidates`.
    """
    if any(isinstance(v, Candidates) for v in channels.values()):
        return _columns.merge(channels, quotas, weights, limit, stage)
    merged: dict[str, Item] = {}
    for name, items in cast(Mapping[str, Sequence[Item]], channels).items():
        quota = quotas.get(name, len(items)) if quotas else len(items)
        w = weights.get(name, 1.0) if weights else 1.0
        for it in items[:quota]:
            prev = merged.get(it.id)
            score = it.score * w
            if prev is None:
                merged[it.id] = Item(it.id, score, it.channels or (name,), it.trace, it.acm_extra)
            else:
                prev.score += score
                for ch in it.channels or (name,):
                    if ch not in prev.channels:
                        prev.channels = (*prev.channels, ch)
    out = sorted(merged.values(), key=_score, reverse=True)
    if limit is not None:
        out = out[:limit]
    if stage is not None:
        stage.output(sum(len(v) for v in channels.values()), out)
    return out


@overload
def keep_if(
    items: Sequence[Item],
    predicate: Callable[[Item], bool],
    reason: str,
    *,
    stage: Stage | None = None,
    id: str | None = None,
) -> FilterResult: ...


@overload
def keep_if(
    items: Candidates,
    predicate: Callable[[Item], bool] | _columns.Mask | Sequence[bool],
    reason: str,
    *,
    stage: Stage | None = None,
    id: str | None = None,
) -> CandidatesFiltered: ...


def keep_if(
    items: Sequence[Item] | Candidates,
    predicate: Callable[[Item], bool] | _columns.Mask | Sequence[bool],
    reason: str,
    *,
    stage: Stage | None = None,
    id: str | None = None,  # noqa: A002 - the component id shown in traces
) -> FilterResult | CandidatesFiltered:
    """A filter from a predicate: items failing it are removed with ``reason`` (traced in
    ``stage`` as removed by ``id``, default the stage's name). For
    :class:`~prism_sdk.stages.Candidates` the predicate is best a mask, one bool per row (e.g.
    ``fields.equals(c, "status", "on")``); a function of an item works too (slower)."""
    if isinstance(items, Candidates):
        return _columns.keep_if(items, predicate, reason, stage, id)
    assert callable(predicate), "keep_if of items: the predicate is a function of an item"
    kept: list[Item] = []
    removed: list[tuple[Item, str]] = []
    for it in items:
        if predicate(it):
            kept.append(it)
        else:
            removed.append((it, reason))
    result = FilterResult(kept, removed)
    if stage is not None:
        stage.filtered(result, id)
    return result


@overload
def drop_ids(
    items: Sequence[Item],
    ids: Collection[str],
    reason: str,
    *,
    stage: Stage | None = None,
    id: str | None = None,
) -> FilterResult: ...


@overload
def drop_ids(
    items: Candidates,
    ids: Collection[str],
    reason: str,
    *,
    stage: Stage | None = None,
    id: str | None = None,
) -> CandidatesFiltered: ...


def drop_ids(
    items: Sequence[Item] | Candidates,
    ids: Collection[str],
    reason: str,
    *,
    stage: Stage | None = None,
    id: str | None = None,  # noqa: A002 - the component id shown in traces
) -> FilterResult | CandidatesFiltered:
    """Remove the items whose id is in ``ids`` (already seen, excluded, blacklisted...)."""
    if isinstance(items, Candidates):
        return _columns.drop_ids(items, ids, reason, stage, id)
    if not ids:
        result = FilterResult(list(items))
        if stage is not None:
            stage.filtered(result, id)
        return result
    return keep_if(items, lambda it: it.id not in ids, reason, stage=stage, id=id)


@overload
def drop_engaged(
    data: DataClient,
    user_id: str,
    items: Sequence[Item],
    *,
    types: Sequence[str] = ("click", "cart", "order"),
    within_s: float | None = None,
    stage: Stage | None = None,
    id: str | None = None,
) -> FilterResult: ...


@overload
def drop_engaged(
    data: DataClient,
    user_id: str,
    items: Candidates,
    *,
    types: Sequence[str] = ("click", "cart", "order"),
    within_s: float | None = None,
    stage: Stage | None = None,
    id: str | None = None,
) -> CandidatesFiltered: ...


def drop_engaged(
    data: DataClient,
    user_id: str,
    items: Sequence[Item] | Candidates,
    *,
    types: Sequence[str] = ("click", "cart", "order"),
    within_s: float | None = None,
    stage: Stage | None = None,
    id: str | None = None,  # noqa: A002 - the component id shown in traces
) -> FilterResult | CandidatesFiltered:
    """A filter: remove the items the user already engaged with (events of ``types``,
    the last ``within_s`` seconds or all the user's events the backend keeps), for
    catalogues people do not re-consume (films, books). Reason ``already_engaged``."""
    engaged = {ev.item_id for ev in data.events(user_id, types, within_s)}
    return drop_ids(items, engaged, "already_engaged", stage=stage, id=id)


@overload
def downweight(
    items: Sequence[Item],
    counts: Mapping[str, int],
    *,
    factor: float = 0.5,
    id: str = "downweight",
    stage: Stage | None = None,
) -> list[Item]: ...


@overload
def downweight(
    items: Candidates,
    counts: Mapping[str, int],
    *,
    factor: float = 0.5,
    id: str = "downweight",
    stage: Stage | None = None,
) -> Candidates: ...


def downweight(
    items: Sequence[Item] | Candidates,
    counts: Mapping[str, int],
    *,
    factor: float = 0.5,
    id: str = "downweight",  # noqa: A002 - the component id shown in traces
    stage: Stage | None = None,
) -> list[Item] | Candidates:
    """A scorer: multiply the score of each item in ``counts`` by ``factor ** count``
    (e.g. ``ctx.data.unclicked(uid, 6 * 3600)``: exposed n times, never clicked) and note
    the count in the item's trace under ``id``. Input order is kept; sort with :func:`top`.
    To drop such items instead: ``drop_ids(items, counts, reason)``.
    """
    if isinstance(items, Candidates):
        return _columns.downweight(items, counts, factor, id, stage)
    out: list[Item] = []
    for it in items:
        n = counts.get(it.id)
        if n:
            trace = {**(it.trace or {}), id: n}
            it = Item(it.id, it.score * factor**n, it.channels, trace, it.acm_extra)
        out.append(it)
    if stage is not None:
        stage.output(len(items), out)
    return out


@overload
def top(items: Candidates, n: int, *, stage: Stage | None = None) -> Candidates: ...  # type: ignore[overload-overlap]


@overload
def top(items: Iterable[Item], n: int, *, stage: Stage | None = None) -> list[Item]: ...


def top(
    items: Iterable[Item] | Candidates, n: int, *, stage: Stage | None = None
) -> list[Item] | Candidates:
    """The ``n`` best-scored items, best first."""
    if isinstance(items, Candidates):
        return _columns.top(items, n, stage)
    out = sorted(items, key=_score, reverse=True)
    total = len(out)
    out = out[:n]
    if stage is not None:
        stage.output(total, out)
    return out


@overload
def scatter(
    items: Sequence[Item],
    kind_of: KindOf,
    *,
    window: int = 5,
    max_per_window: int = 2,
    limit: int | None = None,
    rows: Rows | None = None,
    id: str = "scatter",
    stage: Stage | None = None,
) -> list[Item]: ...


@overload
def scatter(
    items: Candidates,
    kind_of: KindOf,
    *,
    window: int = 5,
    max_per_window: int = 2,
    limit: int | None = None,
    rows: Rows | None = None,
    id: str = "scatter",
    stage: Stage | None = None,
) -> Candidates: ...


def scatter(
    items: Sequence[Item] | Candidates,
    kind_of: KindOf,
    *,
    window: int = 5,
    max_per_window: int = 2,
    limit: int | None = None,
    rows: Rows | None = None,
    id: str = "scatter",  # noqa: A002 - the component id shown in traces
    stage: Stage | None = None,
) -> list[Item] | Candidates:
    """Rerank so no more than ``max_per_window`` items of a kind appear in any window of
    ``window`` consecutive positions, keeping the input order as far as possible.

    ``kind_of`` is a function or an attribute key of the forward-index ``rows`` (or of the
    item trace), e.g. ``"category"``; items of kind None are unconstrained. Greedy: each
    position takes the first item that fits and still leaves a valid completion, so the
    constraint holds in every window whenever it can. When it cannot, the first remaining
    item is placed anyway (the list never shrinks) and counted as a violation: noted in
    ``stage`` as ``{id: {"violations": [item ids]}}``. For :class:`~prism_sdk.stages.Candidates`
    give ``rows=stages.item_fields(ctx.data, c)`` (read for ``c`` or a set it came from).
    """
    if window < 1 or max_per_window < 1:
        raise ValueError(f"scatter {id!r}: window and max_per_window must be >= 1")
    if isinstance(items, Candidates):
        return _columns.scatter(
            items, kind_of, window, max_per_window, limit, rows, id, stage
        )  # fmt: skip
    n = len(items) if limit is None else min(limit, len(items))
    kind = kind_fn(kind_of, rows)
    order, bad = arrange([kind(it) for it in items], n, window, max_per_window)
    out = [items[i] for i in order]
    if stage is not None:
        stage.note(**{id: {"violations": [items[i].id for i in bad]}})
        stage.output(len(items), out)
    return out


def _score(it: Item) -> float:
    return it.score


from ._coarse import coarse as coarse  # noqa: E402 - re-exported: stages.coarse(...)
