"""Window-constrained ordering for :func:`prism_sdk.stages.scatter`.

At most ``cap`` items of a kind in any ``window`` consecutive positions; kind None is
unconstrained. Greedy in input order; when plain greedy would break the constraint, each
position instead takes the first item that still leaves a valid completion (a witness
plan: the fitting kind with most items left first).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

import numpy as np
import numpy.typing as npt

from ._native import kernels as _kernels

Kind = Hashable | None
KindCodes = npt.NDArray[np.int32]
"""Kinds as codes: equal kinds equal codes, negative for kind None."""


def arrange(kinds: Sequence[Kind], n: int, window: int, cap: int) -> tuple[list[int], list[int]]:
    """``n`` input indices in output order, and those placed in breach of the constraint."""
    order, bad = greedy(kinds, n, window, cap)
    return _arrange(kinds, n, window, cap, careful=True) if bad else (order, bad)


def arrange_codes(kinds: KindCodes, n: int, window: int, cap: int) -> tuple[list[int], list[int]]:
    """:func:`arrange` of kinds given as codes (the plain greedy compiled when built)."""
    order, bad = greedy_codes(kinds, n, window, cap)
    if not bad:
        return order, bad
    return _arrange(_kinds_of(kinds), n, window, cap, careful=True)


def greedy_codes(kinds: KindCodes, n: int, window: int, cap: int) -> tuple[list[int], list[int]]:
    """:func:`greedy` of kinds given as codes."""
    if _kernels is not None:
        return _kernels.greedy(kinds, n, window, cap)
    return greedy(_kinds_of(kinds), n, window, cap)


def _kinds_of(codes: KindCodes) -> list[Kind]:
    return [None if k < 0 else k for k in codes.tolist()]


def greedy(kinds: Sequence[Kind], n: int, window: int, cap: int) -> tuple[list[int], list[int]]:
    """Plain greedy: each position takes the first remaining item that fits (else the
    first remaining one, a breach). ``_arrange(careful=False)`` with the window's counts
    kept up to date instead of recounted per position."""
    rest = list(range(len(kinds)))
    recent: dict[Kind, int] = {}  # kinds of the last window - 1 placed
    get = recent.get
    placed: list[Kind] = []
    order: list[int] = []
    bad: list[int] = []
    while len(order) < n and rest:
        pick = 0
        for i in rest:
            k = kinds[i]
            if k is None or get(k, 0) < cap:
                break
            pick += 1
        else:
            pick = 0
            bad.append(rest[0])
        i = rest.pop(pick)
        order.append(i)
        if window > 1:
            k = kinds[i]
            placed.append(k)
            recent[k] = get(k, 0) + 1
            if len(placed) >= window:
                recent[placed[-window]] -= 1
    return order, bad


def _arrange(
    kinds: Sequence[Kind], n: int, window: int, cap: int, *, careful: bool
) -> tuple[list[int], list[int]]:
    idx = list(range(len(kinds)))
    rest = list(kinds)
    left = Counter(k for k in rest if k is not None)
    free = len(rest) - left.total()
    placed: list[Kind] = []
    order: list[int] = []
    bad: list[int] = []
    plan: list[Kind] | None = None  # a valid completion of the remaining positions
    hopeless = not careful
    while len(order) < n and rest:
        recent = Counter(_tail(placed, window))
        pick = next((j for j, k in enumerate(rest) if k is None or recent[k] < cap), -1)
        if pick < 0:  # nothing fits: the first remaining item goes anyway
            pick, plan = 0, None
            bad.append(idx[0])
        elif not hopeless:
            m = n - len(order)
            plan = _adjusted(plan, rest[pick], m, placed, window, cap) if plan else None
            if plan is None:
                plan = _plan(placed, left, free, m, window, cap, (rest[pick],))
                if plan is None:  # the first fitting item leaves no valid completion
                    plan = _plan(placed, left, free, m, window, cap)
                if plan is None:
                    hopeless = True
                elif plan[0] != rest[pick]:
                    pick = rest.index(plan[0])
            plan = plan[1:] if plan is not None else None
        k = rest.pop(pick)
        if k is None:
            free -= 1
        else:
            left[k] -= 1
        order.append(idx.pop(pick))
        placed.append(k)
    return order, bad


def _adjusted(
    plan: list[Kind], first: Kind, m: int, placed: list[Kind], window: int, cap: int
) -> list[Kind] | None:
    """``plan`` changed to start with ``first`` (swapped in, moved up or prepended) if
    that keeps it valid, else None."""
    if plan[0] == first:
        return plan
    tries: list[list[Kind]] = []
    if first in plan:
        p = plan.index(first)
        tries.append([first, *plan[1:p], plan[0], *plan[p + 1 :]])
        tries.append([first, *plan[:p], *plan[p + 1 :]])
    else:
        tries.append([first, *plan][:m])
    return next((t for t in tries if _valid(placed, t, window, cap)), None)


def _valid(placed: list[Kind], plan: list[Kind], window: int, cap: int) -> bool:
    """Whether ``plan`` after ``placed`` keeps every window within ``cap`` per kind."""
    seq = _tail(placed, window)
    start = len(seq)
    seq += plan
    counts: Counter[Kind] = Counter(seq[:start])
    for i in range(start, len(seq)):
        if i >= window:
            counts[seq[i - window]] -= 1
        k = seq[i]
        counts[k] += 1
        if k is not None and counts[k] > cap:
            return False
    return True


def _plan(
    placed: list[Kind],
    left: Counter[Hashable],
    free: int,
    m: int,
    window: int,
    cap: int,
    first: tuple[Kind, ...] = (),
) -> list[Kind] | None:
    """A valid completion of ``m`` positions starting with the kinds ``first``, then the
    fitting kind with most items left, unconstrained items only when no kind fits; None
    when that gets stuck."""
    seq = _tail(placed, window)
    recent = Counter(seq)
    todo = {k: c for k, c in left.items() if c > 0}
    plan: list[Kind] = []
    for i in range(m):
        best: Kind = None
        if i < len(first):
            best = first[i]
        else:
            most = 0
            for k, c in todo.items():
                if c > most and recent[k] < cap:
                    best, most = k, c
        if best is None:
            if free == 0:
                return None
            free -= 1
        else:
            todo[best] -= 1
        plan.append(best)
        seq.append(best)
        recent[best] += 1
        if len(seq) >= window:
            recent[seq[-window]] -= 1
    return plan


def _tail(seq: list[Kind], window: int) -> list[Kind]:
    """The last ``window - 1`` kinds: those sharing a window with the next position."""
    return seq[max(0, len(seq) - window + 1) :] if window > 1 else []
