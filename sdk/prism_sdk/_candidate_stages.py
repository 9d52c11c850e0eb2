"""The stages of :mod:`prism_sdk.stages` over :class:`Candidates` columns.

``stages`` dispatches here when given a :class:`Candidates`; each function gives what
its ``list[Item]`` twin gives (same rows, scores, channels, order, removed records and
trace entries), without a Python loop per candidate on the common paths.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ._attrs import KindOf, Rows, kind_fn
from ._candidates import Candidates, CandidatesFiltered, ChannelSets, Removed, best_first
from ._item_fields import ItemFields
from ._items import Item
from ._trace import Stage
from ._vocab import dense_codes, downweighted, member, summed_parts
from ._window import KindCodes, arrange_codes, greedy_codes
from .data.vocabulary import VOCABULARY, Codes, Ids

Mask = npt.NDArray[np.bool_]
Predicate = Callable[[Item], bool] | npt.ArrayLike


def merge(
    channels: Mapping[str, Candidates | Sequence[Item]],
    quotas: Mapping[str, int] | None,
    weights: Mapping[str, float] | None,
    limit: int | None,
    stage: Stage | None,
) -> Candidates:
    parts: list[tuple[str, Candidates, int]] = []  # each channel, rows within its quota
    ws: list[float] = []
    total = 0
    for name, given in channels.items():
        c = given if isinstance(given, Candidates) else Candidates.from_items(given)
        n = len(c.codes)
        total += n
        quota = quotas.get(name, n) if quotas else n
        if quota < n:
            n = len(range(n)[:quota])  # as slicing a list counts a negative quota
        if not n:  # adds nothing, not even a channel
            continue
        parts.append((name, c, n))
        ws.append(weights.get(name, 1.0) if weights else 1.0)
    out = _merged(parts, ws, limit) if parts else Candidates.empty()
    if stage is not None:
        stage.output(total, out)
    return out


def _merged(
    parts: list[tuple[str, Candidates, int]], ws: list[float], limit: int | None
) -> Candidates:
    single: list[str] = []  # each part's one channel ("" when it has several)
    plain = True  # no part has traces or acm fields
    for name, c, _ in parts:
        sets = c.channel_sets
        only = (sets[0] or (name,)) if len(sets) == 1 else ()
        single.append(only[0] if len(only) == 1 else "")
        plain = plain and c.traces is None and c.acm is None
    first: Codes | None = None  # the rows where each id first appears
    heads: list[tuple[str, Candidates]] = []  # each channel's rows within its quota
    if all(single) and len(set(single)) == len(single) <= _MAX_MASKED:
        # each part one distinct channel: an id's channels are those of the parts it is
        # in, in part order (the order merge meets them): a bitmask of parts per id,
        # which is the id's position in the channel sets of every subset of the parts
        unique, total, chans = summed_parts(
            [c.codes for _, c, _ in parts], [c.scores for _, c, _ in parts],
            [n for _, _, n in parts], ws,
        )  # fmt: skip
        sets = _subsets(tuple(single))
    else:
        heads = _heads(parts)
        codes = np.concatenate([c.codes for _, c in heads])
        scores = np.concatenate(
            [c.scores * w if w != 1.0 else c.scores for (_, c), w in zip(heads, ws, strict=True)]
        )
        first, dense = dense_codes(codes)
        unique = codes[first]
        total = np.asarray(np.bincount(dense, weights=scores, minlength=len(first)), np.float64)
        chans, sets = _channels_by_row(heads, dense, len(first))
    order = best_first(total)
    if limit is not None:
        order = order[:limit]
    traces = acm = None
    if not plain:
        heads = heads or _heads(parts)
        if first is None:
            first, _ = dense_codes(np.concatenate([c.codes for _, c in heads]))
        traces = _column(heads, "traces", first)
        acm = _column(heads, "acm", first)
    return Candidates(unique, total, chans, sets, traces, acm).take(order)


def _heads(parts: list[tuple[str, Candidates, int]]) -> list[tuple[str, Candidates]]:
    """Each channel cut to its quota (a view of its columns)."""
    return [(name, c if n == len(c) else c[:n]) for name, c, n in parts]


_MAX_MASKED = 8
_MASK_SETS: dict[tuple[str, ...], ChannelSets] = {}


def _subsets(names: tuple[str, ...]) -> ChannelSets:
    """The channel tuple of each bitmask of ``names``."""
    sets = _MASK_SETS.get(names)
    if sets is None:
        if len(_MASK_SETS) > 256:
            _MASK_SETS.clear()
        sets = _MASK_SETS[names] = tuple(
            tuple(names[k] for k in range(len(names)) if m >> k & 1) for m in range(1 << len(names))
        )
    return sets


def _channels_by_row(
    parts: list[tuple[str, Candidates]], inverse: Codes, n: int
) -> tuple[npt.NDArray[np.int32], ChannelSets]:
    """Any channels: each id's channels joined row by row, in order."""
    rows: list[tuple[str, ...]] = []
    for name, c in parts:
        own = [s or (name,) for s in c.channel_sets]
        rows.extend(own[k] for k in c.chans.tolist())
    joined: list[tuple[str, ...] | None] = [None] * n
    for code, chs in zip(inverse.tolist(), rows, strict=True):
        prev = joined[code]
        if prev is None:
            joined[code] = chs
            continue
        for ch in chs:
            if ch not in prev:
                prev = (*prev, ch)
        joined[code] = prev
    sets: dict[tuple[str, ...], int] = {}
    codes = [sets.setdefault(s or (), len(sets)) for s in joined]
    return np.array(codes, np.int32), tuple(sets)


def _column(parts: list[tuple[str, Candidates]], name: str, first: Any) -> Ids | None:
    """The traces (or acm fields) of the rows ``first`` of the parts joined; None if
    no part has any."""
    cols = [getattr(c, name) for _, c in parts]
    if all(col is None for col in cols):
        return None
    full = [col if col is not None else np.full(len(c), None, object) for col, (_, c) in
            zip(cols, parts, strict=True)]  # fmt: skip
    joined: Ids = np.concatenate(full)[first]
    return joined


def keep_if(
    c: Candidates, predicate: Predicate, reason: str, stage: Stage | None, by: str | None
) -> CandidatesFiltered:
    if callable(predicate):
        keep = np.array([bool(predicate(it)) for it in c.to_items()], bool)
    else:
        keep = np.asarray(predicate, bool)
        if keep.shape != (len(c),):
            raise ValueError(f"keep_if: a mask of shape {keep.shape} for {len(c)} candidates")
    return split(c, keep, reason, stage, by)


def split(
    c: Candidates, keep: Mask, reason: str, stage: Stage | None, by: str | None
) -> CandidatesFiltered:
    result = CandidatesFiltered(c.take(keep), Removed(c, keep, reason))
    if stage is not None:
        stage.filtered(result, by)
    return result


def drop_ids(
    c: Candidates, ids: Collection[str], reason: str, stage: Stage | None, by: str | None
) -> CandidatesFiltered:
    if not ids:
        result = CandidatesFiltered(c, Removed(c, np.ones(len(c), bool), reason))
        if stage is not None:
            stage.filtered(result, by)
        return result
    return split(c, ~_member(c, ids), reason, stage, by)


def _member(c: Candidates, ids: Collection[str]) -> Mask:
    """Per row: whether its id is in ``ids``."""
    if len(ids) > len(c):
        return np.fromiter(map(ids.__contains__, c.ids), bool, len(c))
    got = [code for code in map(VOCABULARY.index.get, ids) if code is not None]
    return member(c.codes, np.array(got, np.intp))


def downweight(
    c: Candidates, counts: Mapping[str, int], factor: float, by: str, stage: Stage | None
) -> Candidates:
    out = c
    if counts:
        got = downweighted(c.codes, c.scores, c.traces, counts, factor, by)
        if got is not None:
            out = Candidates(c.codes, got[0], c.chans, c.channel_sets, got[1], c.acm)
    if stage is not None:
        stage.output(len(c), out)
    return out


def top(c: Candidates, n: int, stage: Stage | None) -> Candidates:
    out = c.take(best_first(c.scores)[:n])
    if stage is not None:
        stage.output(len(c), out)
    return out


def _arranged(
    c: Candidates, kind_of: KindOf, rows: Rows | None, n: int, window: int, cap: int
) -> tuple[list[int], list[int]]:
    """``arrange`` of the rows' kinds, looking at the top of the list only when that
    decides it: when the plain greedy places all ``n`` within a head of the list
    without a breach, the rest of the list could change nothing."""
    head = min(len(c), 4 * n + window)
    if head < len(c):
        order, bad = greedy_codes(_kind_codes(c[:head], kind_of, rows), n, window, cap)
        if not bad and len(order) == n:
            return order, bad
    return arrange_codes(_kind_codes(c, kind_of, rows), n, window, cap)


def _kind_codes(c: Candidates, kind_of: KindOf, rows: Rows | None) -> KindCodes:
    if isinstance(kind_of, str) and isinstance(rows, ItemFields):
        return rows.kind_codes(c, kind_of)
    kind = kind_fn(kind_of, rows)
    seen: dict[Hashable, int] = {}
    kinds = [kind(it) for it in c.to_items()]
    return np.array([-1 if k is None else seen.setdefault(k, len(seen)) for k in kinds], np.int32)


def scatter(
    c: Candidates,
    kind_of: KindOf,
    window: int,
    max_per_window: int,
    limit: int | None,
    rows: Rows | None,
    by: str,
    stage: Stage | None,
) -> Candidates:
    n = len(c) if limit is None else min(limit, len(c))
    order, bad = _arranged(c, kind_of, rows, n, window, max_per_window)
    out = c.take(np.array(order, np.intp))
    if stage is not None:
        stage.note(**{by: {"violations": VOCABULARY.ids(c.codes[bad]) if bad else []}})
        stage.output(len(c), out)
    return out
