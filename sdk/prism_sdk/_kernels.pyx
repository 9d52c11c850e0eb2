# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Compiled kernels of the columnar stages: one pass in C where the numpy versions in
``_vocab`` and ``_window`` take several array passes (or a Python loop) over a few
hundred rows, which at that size is mostly call overhead. Each gives exactly what its
pure-Python twin gives (``tests/sdk/test_kernels.py`` checks them against each other);
``_vocab`` uses the twins when this module was not built.

The scratch arrays are the caller's (indexed by id code, all-unset between calls)."""

import numpy as np

from libc.stdint cimport int32_t, int64_t

ctypedef Py_ssize_t intp_t

cdef intp_t UNSET = np.iinfo(np.intp).max


def summed(const intp_t[:] codes, const double[:] scores, object parts,
           intp_t[::1] slot):
    """Each distinct code once, in order of first appearance, the sum of its rows'
    scores in row order, and (``parts``: sizes of consecutive parts) a bitmask of the
    parts it is in. ``slot`` is all-UNSET and is left so."""
    cdef intp_t n = codes.shape[0], nu = 0, i, j, c, p, part = 0, part_end
    unique_a = np.empty(n, np.intp)
    total_a = np.empty(n, np.float64)
    cdef intp_t[::1] unique = unique_a
    cdef double[::1] total = total_a
    cdef int32_t[::1] bits
    cdef list sizes = [] if parts is None else list(parts)
    for i in range(n):
        c = codes[i]
        if slot[c] == UNSET:
            slot[c] = nu
            unique[nu] = c
            total[nu] = 0.0
            nu += 1
    if parts is not None:
        bits_a = np.zeros(nu, np.int32)
        bits = bits_a
        part_end = sizes[0] if sizes else 0
        for i in range(n):
            while i >= part_end and part + 1 < len(sizes):
                part += 1
                part_end += <intp_t>sizes[part]
            p = slot[codes[i]]
            total[p] += scores[i]
            if i < part_end:
                bits[p] |= <int32_t>1 << part
    else:
        bits_a = None
        for i in range(n):
            total[slot[codes[i]]] += scores[i]
    for j in range(nu):
        slot[unique[j]] = UNSET
    return unique_a[:nu], total_a[:nu], bits_a


def dense_codes(const intp_t[:] codes, intp_t[::1] slot):
    """The rows where each distinct code first appears, and each row's position among
    those. ``slot`` is all-UNSET and is left so."""
    cdef intp_t n = codes.shape[0], nu = 0, i, c
    first_a = np.empty(n, np.intp)
    dense_a = np.empty(n, np.intp)
    cdef intp_t[::1] first = first_a
    cdef intp_t[::1] dense = dense_a
    for i in range(n):
        c = codes[i]
        if slot[c] == UNSET:
            slot[c] = nu
            first[nu] = i
            nu += 1
        dense[i] = slot[c]
    for i in range(nu):
        slot[codes[first[i]]] = UNSET
    return first_a[:nu], dense_a


def member(const intp_t[:] codes, const intp_t[:] among, unsigned char[::1] flags):
    """Per row: whether its code is one of ``among``. ``flags`` is all-zero and is
    left so."""
    cdef intp_t n = codes.shape[0], i
    out_a = np.empty(n, np.bool_)
    cdef unsigned char[::1] out = out_a.view(np.uint8)
    for i in range(among.shape[0]):
        flags[among[i]] = 1
    for i in range(n):
        out[i] = flags[codes[i]]
    for i in range(among.shape[0]):
        flags[among[i]] = 0
    return out_a


def looked_up(const intp_t[:] codes, const intp_t[:] keys, const int64_t[:] values,
              int64_t[::1] scratch):
    """Per row: the value of its code in ``keys`` -> ``values``, else 0. ``scratch`` is
    all-zero and is left so."""
    cdef intp_t n = codes.shape[0], i
    out_a = np.empty(n, np.int64)
    cdef int64_t[::1] out = out_a
    for i in range(keys.shape[0]):
        scratch[keys[i]] = values[i]
    for i in range(n):
        out[i] = scratch[codes[i]]
    for i in range(keys.shape[0]):
        scratch[keys[i]] = 0
    return out_a


def greedy(const int32_t[:] kinds, intp_t n, intp_t window, intp_t cap):
    """``_window.greedy`` over kind codes (negative: unconstrained)."""
    cdef intp_t m = kinds.shape[0], placed_n = 0, start = 0, i, pick, top = 0
    cdef int32_t k
    for i in range(m):
        if kinds[i] > top:
            top = kinds[i]
    counts_a = np.zeros(top + 2, np.intp)  # last slot: the unconstrained
    used_a = np.zeros(m, np.uint8)
    placed_a = np.empty(max(m, 1), np.int32)
    cdef intp_t[::1] counts = counts_a
    cdef unsigned char[::1] used = used_a
    cdef int32_t[::1] placed = placed_a
    cdef list order = [], bad = []
    while placed_n < n and start < m:
        pick = -1
        for i in range(start, m):
            if used[i]:
                continue
            k = kinds[i]
            if k < 0 or counts[k] < cap:
                pick = i
                break
        if pick < 0:
            pick = start
            bad.append(pick)
        used[pick] = 1
        order.append(pick)
        while start < m and used[start]:
            start += 1
        k = kinds[pick]
        placed[placed_n] = k
        placed_n += 1
        if window > 1:
            counts[k if k >= 0 else top + 1] += 1
            if placed_n >= window:
                k = placed[placed_n - window]
                counts[k if k >= 0 else top + 1] -= 1
    return order, bad


def codes_of(list ids, dict index):
    """The code of each id in ``index``; KeyError for one it does not hold."""
    cdef intp_t n = len(ids), i
    out_a = np.empty(n, np.intp)
    cdef intp_t[::1] out = out_a
    for i in range(n):
        out[i] = index[ids[i]]
    return out_a


def pair_columns(list pairs, dict index):
    """``(id, score)`` pairs as their ids' codes and their scores (float64); KeyError for
    an id ``index`` does not hold, TypeError or ValueError for a row that is not a
    pair of an id and a number."""
    cdef intp_t n = len(pairs), i
    cdef object row
    codes_a = np.empty(n, np.intp)
    scores_a = np.empty(n, np.float64)
    cdef intp_t[::1] codes = codes_a
    cdef double[::1] scores = scores_a
    for i in range(n):
        row = pairs[i]
        if type(row) is tuple and len(<tuple>row) == 2:
            codes[i] = index[(<tuple>row)[0]]
            scores[i] = (<tuple>row)[1]
        else:
            raise TypeError("not a pair")
    return codes_a, scores_a


def summed_tables(list codes_of_tables, list scores_of_tables, weights, intp_t[::1] slot):
    """:func:`summed` of the rows of several tables, each row's score its table's
    weight times its own (the product rounded, then added in row order)."""
    cdef intp_t t, i, n = 0, nu = 0, c, p
    cdef const intp_t[:] codes
    cdef const double[:] scores
    cdef double w
    cdef list ws = list(weights)
    for t in range(len(codes_of_tables)):
        n += len(codes_of_tables[t])
    unique_a = np.empty(n, np.intp)
    total_a = np.empty(n, np.float64)
    cdef intp_t[::1] unique = unique_a
    cdef double[::1] total = total_a
    for t in range(len(codes_of_tables)):
        codes = codes_of_tables[t]
        scores = scores_of_tables[t]
        w = ws[t]
        for i in range(codes.shape[0]):
            c = codes[i]
            p = slot[c]
            if p == UNSET:
                p = slot[c] = nu
                unique[nu] = c
                total[nu] = 0.0
                nu += 1
            total[p] += w * scores[i]
    for i in range(nu):
        slot[unique[i]] = UNSET
    return unique_a[:nu], total_a[:nu]


def summed_parts(list codes_of_parts, list scores_of_parts, list ns, list weights,
                 intp_t[::1] slot):
    """:func:`summed` with parts of the rows given apart: part k is the first ``ns[k]``
    rows of its codes and scores, its scores times ``weights[k]``; bit k of a code's
    mask says it is in part k."""
    cdef intp_t t, i, m, n = 0, nu = 0, c, p
    cdef const intp_t[:] codes
    cdef const double[:] scores
    cdef double w
    cdef int32_t bit
    for t in range(len(ns)):
        n += <intp_t>ns[t]
    unique_a = np.empty(n, np.intp)
    total_a = np.empty(n, np.float64)
    bits_a = np.empty(n, np.int32)
    cdef intp_t[::1] unique = unique_a
    cdef double[::1] total = total_a
    cdef int32_t[::1] bits = bits_a
    for t in range(len(ns)):
        codes = codes_of_parts[t]
        scores = scores_of_parts[t]
        m = ns[t]
        w = weights[t]
        bit = <int32_t>1 << t
        for i in range(m):
            c = codes[i]
            p = slot[c]
            if p == UNSET:
                p = slot[c] = nu
                unique[nu] = c
                total[nu] = 0.0
                bits[nu] = 0
                nu += 1
            total[p] += w * scores[i]
            bits[p] |= bit
    for i in range(nu):
        slot[unique[i]] = UNSET
    return unique_a[:nu], total_a[:nu], bits_a[:nu]
