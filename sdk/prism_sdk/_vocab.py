"""Set operations on id codes (of ``data.vocabulary.VOCABULARY``) with per-thread scratch
arrays indexed by code: each call marks the codes it needs and clears them again, so
deduplicating or testing membership costs the candidates' size, not the vocabulary's.

Each operation runs in the compiled ``_kernels`` (one pass in C) when the package was
built with it, else in numpy (``numpy_*``, the same results; ``COMPILED`` says which).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ._native import kernels as _kernels
from .data.vocabulary import VOCABULARY, Codes, Ids

COMPILED = _kernels is not None
_UNSET = np.iinfo(np.intp).max


class _Scratch(threading.local):
    def __init__(self) -> None:
        self.first: Codes = np.zeros(0, np.intp)
        self.flags: npt.NDArray[np.uint8] = np.zeros(0, np.uint8)
        self.values: npt.NDArray[np.int64] = np.zeros(0, np.int64)
        self.sums: npt.NDArray[np.float64] = np.zeros(0)
        self.bits: npt.NDArray[np.int32] = np.zeros(0, np.int32)

    def fit(self) -> None:
        """Grow the arrays to the vocabulary (they are all-unset between calls)."""
        n = len(VOCABULARY)
        if len(self.first) < n:
            size = max(1024, 2 * n)
            self.first = np.full(size, _UNSET, np.intp)
            self.flags = np.zeros(size, np.uint8)
            self.values = np.zeros(size, np.int64)
            self.sums = np.zeros(size)
            self.bits = np.zeros(size, np.int32)


_SCRATCH = _Scratch()
_INDEX = VOCABULARY.index  # id -> code: its size is the vocabulary's


def _scratch() -> _Scratch:
    s = _SCRATCH
    if len(s.first) < len(_INDEX):  # the vocabulary grew past the arrays
        s.fit()
    return s


def dense_codes(codes: Codes) -> tuple[Codes, Codes]:
    """The rows where each distinct code first appears (in order), and for every row the
    position of its code among those."""
    if _kernels is not None:
        return _kernels.dense_codes(codes, _scratch().first)
    return numpy_dense_codes(codes)


def numpy_dense_codes(codes: Codes) -> tuple[Codes, Codes]:
    s = _scratch()
    np.minimum.at(s.first, codes, np.arange(len(codes)))
    first = s.first[codes]
    s.first[codes] = _UNSET
    is_first = first == np.arange(len(codes))
    dense = np.cumsum(is_first) - 1
    return np.flatnonzero(is_first), dense[first]


def summed(
    codes: Codes, scores: npt.NDArray[np.float64], parts: Sequence[int] | None = None
) -> tuple[Codes, npt.NDArray[np.float64], npt.NDArray[np.int32] | None]:
    """Each distinct code once, in order of first appearance, with the sum of its rows'
    ``scores`` (added in row order, as a dict accumulates them) and, given the sizes of
    consecutive ``parts`` of the rows (at most 31), a bitmask of the parts it is in
    (bit k: part k)."""
    if _kernels is not None:
        return _kernels.summed(codes, scores, parts, _scratch().first)
    return numpy_summed(codes, scores, parts)


def numpy_summed(
    codes: Codes, scores: npt.NDArray[np.float64], parts: Sequence[int] | None = None
) -> tuple[Codes, npt.NDArray[np.float64], npt.NDArray[np.int32] | None]:
    s = _scratch()
    rows = np.arange(len(codes))
    np.minimum.at(s.first, codes, rows)
    unique = codes[s.first[codes] == rows]
    s.first[codes] = _UNSET
    np.add.at(s.sums, codes, scores)
    total = s.sums[unique]
    s.sums[unique] = 0.0
    if parts is None:
        return unique, total, None
    start = 0
    for k, n in enumerate(parts):  # a fancy |= per part: bitwise_or.at has no fast path
        s.bits[codes[start : start + n]] |= 1 << k
        start += n
    ored = s.bits[unique]
    s.bits[unique] = 0
    return unique, total, ored


def member(codes: Codes, among: Codes) -> npt.NDArray[np.bool_]:
    """Per row: whether its code is one of ``among``."""
    if _kernels is not None:
        return _kernels.member(codes, among, _scratch().flags)
    return numpy_member(codes, among)


def numpy_member(codes: Codes, among: Codes) -> npt.NDArray[np.bool_]:
    s = _scratch()
    s.flags[among] = 1
    out = s.flags[codes].view(np.bool_)
    s.flags[among] = 0
    return out


def looked_up(codes: Codes, keys: Codes, values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Per row: the value of its code in ``keys`` -> ``values`` (distinct keys), else 0."""
    if _kernels is not None:
        return _kernels.looked_up(codes, keys, values, _scratch().values)
    return numpy_looked_up(codes, keys, values)


def numpy_looked_up(
    codes: Codes, keys: Codes, values: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    s = _scratch()
    s.values[keys] = values
    out = s.values[codes]
    s.values[keys] = 0
    return out


def summed_tables(
    codes: Sequence[Codes], scores: Sequence[Any], weights: Sequence[float]
) -> tuple[Codes, npt.NDArray[np.float64]]:
    """:func:`summed` of the rows of several tables (each its codes and its float64
    scores, an array or a buffer),
    each row's score its table's weight times its own."""
    if _kernels is not None:
        return _kernels.summed_tables(list(codes), list(scores), weights, _scratch().first)
    return numpy_summed_tables(codes, scores, weights)


def numpy_summed_tables(
    codes: Sequence[Codes], scores: Sequence[Any], weights: Sequence[float]
) -> tuple[Codes, npt.NDArray[np.float64]]:
    sizes = [len(c) for c in codes]
    if not any(sizes):
        return np.zeros(0, np.intp), np.zeros(0)
    weighted = np.repeat(np.asarray(weights, np.float64), sizes)
    weighted *= np.concatenate([np.frombuffer(s, np.float64) for s in scores])
    unique, total, _ = numpy_summed(np.concatenate(codes), weighted)
    return unique, total


def summed_parts(
    codes: list[Codes],
    scores: list[npt.NDArray[np.float64]],
    ns: list[int],
    weights: list[float],
) -> tuple[Codes, npt.NDArray[np.float64], npt.NDArray[np.int32]]:
    """:func:`summed` of parts given apart (at most 31): part k the first ``ns[k]`` rows
    of ``codes[k]`` and ``scores[k]``, those scores times ``weights[k]``; with the
    bitmask of the parts each code is in."""
    if _kernels is not None:
        return _kernels.summed_parts(codes, scores, ns, weights, _scratch().first)
    return numpy_summed_parts(codes, scores, ns, weights)


def numpy_summed_parts(
    codes: list[Codes],
    scores: list[npt.NDArray[np.float64]],
    ns: list[int],
    weights: list[float],
) -> tuple[Codes, npt.NDArray[np.float64], npt.NDArray[np.int32]]:
    joined = np.concatenate([c[:n] for c, n in zip(codes, ns, strict=True)])
    weighted = np.concatenate(
        [s[:n] * w if w != 1.0 else s[:n] for s, n, w in zip(scores, ns, weights, strict=True)]
    )
    unique, total, masks = numpy_summed(joined, weighted, ns)
    assert masks is not None
    return unique, total, masks


def downweighted(
    codes: Codes,
    scores: npt.NDArray[np.float64],
    traces: Ids | None,
    counts: Mapping[str, int],
    factor: float,
    by: str,
) -> tuple[npt.NDArray[np.float64], Ids] | None:
    """Each row whose id has a non-zero count ``n`` in ``counts``: its score times
    ``factor ** n`` and ``{by: n}`` added to its trace (new arrays); None when no row
    has one."""
    if _kernels is not None and type(counts) is dict:
        return _kernels.downweighted(
            codes, scores, traces, counts, VOCABULARY.index, factor, by, _scratch().values
        )
    return numpy_downweighted(codes, scores, traces, counts, factor, by)


def numpy_downweighted(
    codes: Codes,
    scores: npt.NDArray[np.float64],
    traces: Ids | None,
    counts: Mapping[str, int],
    factor: float,
    by: str,
) -> tuple[npt.NDArray[np.float64], Ids] | None:
    get = VOCABULARY.index.get
    keys: list[int] = []
    ns: list[int] = []
    for i, n in counts.items():
        if n:
            code = get(i)
            if code is not None:
                keys.append(code)
                ns.append(n)
    if not keys:
        return None
    # each row's position in keys, plus one (0: not in counts)
    found = numpy_looked_up(codes, np.array(keys, np.intp), np.arange(1, len(keys) + 1))
    rows = found.nonzero()[0]
    if not len(rows):
        return None
    hit = [ns[k - 1] for k in found[rows].tolist()]
    powers = {n: factor**n for n in set(hit)}
    out = scores.copy()
    out[rows] *= np.array([powers[n] for n in hit], np.float64)
    out_traces: Ids = np.empty(len(codes), object) if traces is None else traces.copy()
    # one by one: assigning a list of dicts goes through numpy's sequence detection
    for r, n in zip(rows.tolist(), hit, strict=True):
        old = out_traces[r]
        out_traces[r] = {by: n} if old is None else {**old, by: n}
    return out, out_traces
