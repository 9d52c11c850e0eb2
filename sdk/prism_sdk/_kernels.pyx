# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Compiled kernels of the columnar stages: one pass in C where the numpy versions in
``_vocab`` and ``_window`` take several array passes (or a Python loop) over a few
hundred rows, which at that size is mostly call overhead. Each gives exactly what its
pure-Python twin gives (``tests/sdk/test_kernels.py`` checks them against each other);
the callers use the twins when this module was not built.

Arrays are read through their data pointers (a typed memoryview costs about half a
microsecond to set up, more than these loops take): an argument that is not a
one-dimensional C-contiguous array of the expected type is converted first. The scratch
arrays are the caller's (indexed by id code, all-unset between calls) and left so."""

import types

import numpy as np

cimport numpy as cnp
from cpython cimport array as carray
from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from libc.stdint cimport int32_t, int64_t

cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        int type
        Py_ssize_t offset
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member
    object PyType_GenericAlloc(PyTypeObject*, Py_ssize_t)

cnp.import_array()

ctypedef Py_ssize_t intp_t

cdef intp_t UNSET = np.iinfo(np.intp).max


cdef inline cnp.ndarray _as(object a, int typenum):
    """``a`` as a 1-d C-contiguous array of ``typenum`` (itself when it is one: no
    Python-level work, not even looking up the dtype)."""
    cdef cnp.ndarray arr
    if cnp.PyArray_Check(a):
        arr = <cnp.ndarray>a
        if (cnp.PyArray_TYPE(arr) == typenum and cnp.PyArray_NDIM(arr) == 1
                and cnp.PyArray_IS_C_CONTIGUOUS(arr)):
            return arr
    return _converted(a, typenum)


cdef cnp.ndarray _converted(object a, int typenum):
    return np.ascontiguousarray(a, cnp.PyArray_DescrFromType(typenum)).reshape(-1)


cdef inline intp_t* _intp(cnp.ndarray a):
    return <intp_t*>cnp.PyArray_DATA(a)


cdef inline double* _f64(cnp.ndarray a):
    return <double*>cnp.PyArray_DATA(a)


cdef inline cnp.ndarray _empty(intp_t n, int typenum):
    cdef cnp.npy_intp dims[1]
    dims[0] = n
    return cnp.PyArray_EMPTY(1, dims, typenum, 0)


cdef inline cnp.ndarray _zeros(intp_t n, int typenum):
    cdef cnp.npy_intp dims[1]
    dims[0] = n
    return cnp.PyArray_ZEROS(1, dims, typenum, 0)


def summed(codes_in, scores_in, object parts, slot_in):
    """Each distinct code once, in order of first appearance, the sum of its rows'
    scores in row order, and (``parts``: sizes of consecutive parts) a bitmask of the
    parts it is in."""
    cdef cnp.ndarray codes_a = _as(codes_in, cnp.NPY_INTP)
    cdef cnp.ndarray scores_a = _as(scores_in, cnp.NPY_FLOAT64)
    cdef cnp.ndarray slot_a = _as(slot_in, cnp.NPY_INTP)
    cdef intp_t n = cnp.PyArray_DIMS(codes_a)[0], nu = 0, i, j, c, p, part = 0, part_end
    cdef intp_t* codes = _intp(codes_a)
    cdef double* scores = _f64(scores_a)
    cdef intp_t* slot = _intp(slot_a)
    cdef cnp.ndarray unique_a = _empty(n, cnp.NPY_INTP)
    cdef cnp.ndarray total_a = _empty(n, cnp.NPY_FLOAT64)
    cdef intp_t* unique = _intp(unique_a)
    cdef double* total = _f64(total_a)
    cdef cnp.ndarray bits_a
    cdef int32_t* bits
    cdef list sizes = [] if parts is None else list(parts)
    for i in range(n):
        c = codes[i]
        if slot[c] == UNSET:
            slot[c] = nu
            unique[nu] = c
            total[nu] = 0.0
            nu += 1
    if parts is not None:
        bits_a = _zeros(nu, cnp.NPY_INT32)
        bits = <int32_t*>cnp.PyArray_DATA(bits_a)
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


def summed_parts(list codes_of_parts, list scores_of_parts, list ns, list weights, slot_in):
    """:func:`summed` with parts of the rows given apart: part k is the first ``ns[k]``
    rows of its codes and scores, its scores times ``weights[k]``; bit k of a code's
    mask says it is in part k."""
    cdef cnp.ndarray slot_a = _as(slot_in, cnp.NPY_INTP)
    cdef intp_t* slot = _intp(slot_a)
    cdef intp_t t, i, m, n = 0, nu = 0, c, p
    cdef cnp.ndarray codes_a, scores_a
    cdef intp_t* codes
    cdef double* scores
    cdef double w
    cdef int32_t bit
    for t in range(len(ns)):
        n += <intp_t>ns[t]
    cdef cnp.ndarray unique_a = _empty(n, cnp.NPY_INTP)
    cdef cnp.ndarray total_a = _empty(n, cnp.NPY_FLOAT64)
    cdef cnp.ndarray bits_a = _empty(n, cnp.NPY_INT32)
    cdef intp_t* unique = _intp(unique_a)
    cdef double* total = _f64(total_a)
    cdef int32_t* bits = <int32_t*>cnp.PyArray_DATA(bits_a)
    for t in range(len(ns)):
        codes_a = _as(codes_of_parts[t], cnp.NPY_INTP)
        scores_a = _as(scores_of_parts[t], cnp.NPY_FLOAT64)
        m = ns[t]
        if m > cnp.PyArray_DIMS(codes_a)[0] or m > cnp.PyArray_DIMS(scores_a)[0]:
            raise ValueError(f"part {t}: {m} rows asked of a shorter part")
        codes = _intp(codes_a)
        scores = _f64(scores_a)
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


def summed_tables(list codes_of_tables, list scores_of_tables, weights, slot_in):
    """:func:`summed` of the rows of several tables, each row's score its table's
    weight times its own (the product rounded, then added in row order)."""
    cdef cnp.ndarray slot_a = _as(slot_in, cnp.NPY_INTP)
    cdef intp_t* slot = _intp(slot_a)
    cdef intp_t t, i, m, n = 0, nu = 0, c, p
    cdef cnp.ndarray codes_a, scores_a
    cdef object table_scores
    cdef intp_t* codes
    cdef double* scores
    cdef intp_t n_scores
    cdef double w
    cdef list ws = list(weights)
    for t in range(len(codes_of_tables)):
        n += len(codes_of_tables[t])
    cdef cnp.ndarray unique_a = _empty(n, cnp.NPY_INTP)
    cdef cnp.ndarray total_a = _empty(n, cnp.NPY_FLOAT64)
    cdef intp_t* unique = _intp(unique_a)
    cdef double* total = _f64(total_a)
    for t in range(len(codes_of_tables)):
        codes_a = _as(codes_of_tables[t], cnp.NPY_INTP)
        table_scores = scores_of_tables[t]
        if type(table_scores) is carray.array and (
                <carray.array>table_scores).ob_descr.typecode == b'd':
            scores = (<carray.array>table_scores).data.as_doubles  # read in place
            n_scores = len(table_scores)
        else:
            scores_a = _as(table_scores, cnp.NPY_FLOAT64)
            table_scores = scores_a  # kept alive while read
            scores = _f64(scores_a)
            n_scores = cnp.PyArray_DIMS(scores_a)[0]
        m = cnp.PyArray_DIMS(codes_a)[0]
        if n_scores != m:
            raise ValueError(f"table {t}: {m} codes but {n_scores} scores")
        codes = _intp(codes_a)
        w = ws[t]
        for i in range(m):
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


def dense_codes(codes_in, slot_in):
    """The rows where each distinct code first appears, and each row's position among
    those."""
    cdef cnp.ndarray codes_a = _as(codes_in, cnp.NPY_INTP)
    cdef cnp.ndarray slot_a = _as(slot_in, cnp.NPY_INTP)
    cdef intp_t n = cnp.PyArray_DIMS(codes_a)[0], nu = 0, i, c
    cdef intp_t* codes = _intp(codes_a)
    cdef intp_t* slot = _intp(slot_a)
    cdef cnp.ndarray first_a = _empty(n, cnp.NPY_INTP)
    cdef cnp.ndarray dense_a = _empty(n, cnp.NPY_INTP)
    cdef intp_t* first = _intp(first_a)
    cdef intp_t* dense = _intp(dense_a)
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


def member(codes_in, among_in, flags_in):
    """Per row: whether its code is one of ``among``."""
    cdef cnp.ndarray codes_a = _as(codes_in, cnp.NPY_INTP)
    cdef cnp.ndarray among_a = _as(among_in, cnp.NPY_INTP)
    cdef cnp.ndarray flags_a = _as(flags_in, cnp.NPY_UINT8)
    cdef intp_t n = cnp.PyArray_DIMS(codes_a)[0], k = cnp.PyArray_DIMS(among_a)[0], i
    cdef intp_t* codes = _intp(codes_a)
    cdef intp_t* among = _intp(among_a)
    cdef unsigned char* flags = <unsigned char*>cnp.PyArray_DATA(flags_a)
    cdef cnp.ndarray out_a = _empty(n, cnp.NPY_BOOL)
    cdef unsigned char* out = <unsigned char*>cnp.PyArray_DATA(out_a)
    for i in range(k):
        flags[among[i]] = 1
    for i in range(n):
        out[i] = flags[codes[i]]
    for i in range(k):
        flags[among[i]] = 0
    return out_a


def looked_up(codes_in, keys_in, values_in, scratch_in):
    """Per row: the value of its code in ``keys`` -> ``values``, else 0."""
    cdef cnp.ndarray codes_a = _as(codes_in, cnp.NPY_INTP)
    cdef cnp.ndarray keys_a = _as(keys_in, cnp.NPY_INTP)
    cdef cnp.ndarray values_a = _as(values_in, cnp.NPY_INT64)
    cdef cnp.ndarray scratch_a = _as(scratch_in, cnp.NPY_INT64)
    cdef intp_t n = cnp.PyArray_DIMS(codes_a)[0], k = cnp.PyArray_DIMS(keys_a)[0], i
    if cnp.PyArray_DIMS(values_a)[0] != k:
        raise ValueError(f"{k} keys but {cnp.PyArray_DIMS(values_a)[0]} values")
    cdef intp_t* codes = _intp(codes_a)
    cdef intp_t* keys = _intp(keys_a)
    cdef int64_t* values = <int64_t*>cnp.PyArray_DATA(values_a)
    cdef int64_t* scratch = <int64_t*>cnp.PyArray_DATA(scratch_a)
    cdef cnp.ndarray out_a = _empty(n, cnp.NPY_INT64)
    cdef int64_t* out = <int64_t*>cnp.PyArray_DATA(out_a)
    for i in range(k):
        scratch[keys[i]] = values[i]
    for i in range(n):
        out[i] = scratch[codes[i]]
    for i in range(k):
        scratch[keys[i]] = 0
    return out_a


def greedy(kinds_in, intp_t n, intp_t window, intp_t cap):
    """``_window.greedy`` over kind codes (negative: unconstrained)."""
    cdef cnp.ndarray kinds_a = _as(kinds_in, cnp.NPY_INT32)
    cdef int32_t* kinds = <int32_t*>cnp.PyArray_DATA(kinds_a)
    cdef intp_t m = cnp.PyArray_DIMS(kinds_a)[0], placed_n = 0, start = 0, i, pick, top = 0
    cdef int32_t k
    for i in range(m):
        if kinds[i] > top:
            top = kinds[i]
    cdef cnp.ndarray counts_a = _zeros(top + 2, cnp.NPY_INTP)  # last slot: the unconstrained
    cdef cnp.ndarray used_a = _zeros(m, cnp.NPY_UINT8)
    cdef cnp.ndarray placed_a = _empty(max(m, 1), cnp.NPY_INT32)
    cdef intp_t* counts = _intp(counts_a)
    cdef unsigned char* used = <unsigned char*>cnp.PyArray_DATA(used_a)
    cdef int32_t* placed = <int32_t*>cnp.PyArray_DATA(placed_a)
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
    cdef cnp.ndarray out_a = _empty(n, cnp.NPY_INTP)
    cdef intp_t* out = _intp(out_a)
    for i in range(n):
        out[i] = index[ids[i]]
    return out_a


def pair_columns(list pairs, dict index):
    """``(id, score)`` pairs as their ids' codes and their scores (float64); KeyError for
    an id ``index`` does not hold, TypeError for a row that is not a tuple of an id and a
    number."""
    cdef intp_t n = len(pairs), i
    cdef object row
    cdef cnp.ndarray codes_a = _empty(n, cnp.NPY_INTP)
    cdef cnp.ndarray scores_a = _empty(n, cnp.NPY_FLOAT64)
    cdef intp_t* codes = _intp(codes_a)
    cdef double* scores = _f64(scores_a)
    for i in range(n):
        row = pairs[i]
        if type(row) is tuple and len(<tuple>row) == 2:
            codes[i] = index[(<tuple>row)[0]]
            scores[i] = (<tuple>row)[1]
        else:
            raise TypeError("not a pair")
    return codes_a, scores_a


def downweighted(codes_in, scores_in, traces, dict counts, dict index, object factor,
                 object by, scratch_in):
    """``stages.downweight`` of candidate columns: each row whose id has a count ``n``
    (non-zero) in ``counts`` gets its score times ``factor ** n`` and ``{by: n}`` added
    to its trace. The new scores and traces, or None when no row has a count."""
    cdef cnp.ndarray codes_a = _as(codes_in, cnp.NPY_INTP)
    cdef cnp.ndarray scratch_a = _as(scratch_in, cnp.NPY_INT64)
    cdef intp_t* codes = _intp(codes_a)
    cdef int64_t* scratch = <int64_t*>cnp.PyArray_DATA(scratch_a)
    cdef intp_t n = cnp.PyArray_DIMS(codes_a)[0], i, r, hits = 0
    cdef int64_t k
    cdef list keys = [], ns = []
    cdef object item_id, count, code, old
    for item_id, count in counts.items():
        if count:
            code = index.get(item_id)
            if code is not None:
                keys.append(code)
                ns.append(count)
    for i in range(len(keys)):
        scratch[<intp_t>keys[i]] = i + 1
    for r in range(n):
        if scratch[codes[r]]:
            hits += 1
    if not hits:
        for i in range(len(keys)):
            scratch[<intp_t>keys[i]] = 0
        return None
    cdef cnp.ndarray scores_a = np.array(scores_in, np.float64)  # a copy
    cdef double* scores = _f64(scores_a)
    out_traces = np.empty(n, object) if traces is None else traces.copy()
    for r in range(n):
        k = scratch[codes[r]]
        if k:
            count = ns[k - 1]
            scores[r] *= <double>(factor ** count)
            old = out_traces[r]
            out_traces[r] = {by: count} if old is None else {**old, by: count}
    for i in range(len(keys)):
        scratch[<intp_t>keys[i]] = 0
    return scores_a, out_traces


# -- items -------------------------------------------------------------------------
# ``Item`` has ``__slots__``: each field is an object pointer at a fixed offset in the
# instance, found through the class's member descriptors (checked to be object slots).
# Writing the pointers there is what Python's own slot assignment does, without an
# attribute lookup per field; ``Item.__init__`` is skipped, as the Python twins skip it.

cdef int _T_OBJECT_EX = 16
cdef object _item_cls = None
cdef Py_ssize_t _o_id, _o_score, _o_channels, _o_trace, _o_acm


cdef Py_ssize_t _slot(object cls, str name) except -1:
    d = cls.__dict__.get(name)
    if type(d) is not types.MemberDescriptorType:
        raise TypeError(f"{cls.__name__}.{name} is not a slot")
    cdef PyMemberDef* m = (<PyMemberDescrObject*><PyObject*>d).d_member
    if m.type != _T_OBJECT_EX:
        raise TypeError(f"{cls.__name__}.{name} is not an object slot")
    return m.offset


cdef int _bind(object cls) except -1:
    """Learn the slot offsets of ``cls`` (the item class) once."""
    global _item_cls, _o_id, _o_score, _o_channels, _o_trace, _o_acm
    if cls is _item_cls:
        return 0
    if cls.__new__ is not object.__new__:
        raise TypeError(f"{cls.__name__} has its own __new__")
    _o_id, _o_score = _slot(cls, "id"), _slot(cls, "score")
    _o_channels, _o_trace, _o_acm = _slot(cls, "channels"), _slot(cls, "trace"), _slot(cls, "acm_extra")
    _item_cls = cls
    return 0


cdef inline void _put(PyObject* obj, Py_ssize_t offset, object value):
    cdef PyObject** at = <PyObject**>((<char*>obj) + offset)
    Py_INCREF(value)
    Py_XDECREF(at[0])
    at[0] = <PyObject*>value


cdef inline object _got(PyObject* obj, Py_ssize_t offset):
    cdef PyObject* value = (<PyObject**>((<char*>obj) + offset))[0]
    if value == NULL:
        raise AttributeError("an item field is not set")
    return <object>value


def new_items(object cls, list ids, list scores, tuple sets, list chans, traces, acm):
    """``cls`` items of each row: its id, score, ``sets[chans[i]]`` as channels, and its
    trace and acm fields (``traces``, ``acm``: lists, or None for none)."""
    _bind(cls)
    cdef intp_t n = len(ids), i
    if len(scores) != n or len(chans) != n:
        raise ValueError("columns of different lengths")
    if (traces is not None and len(traces) != n) or (acm is not None and len(acm) != n):
        raise ValueError("columns of different lengths")
    cdef list out = [None] * n
    cdef object it
    cdef PyObject* p
    for i in range(n):
        it = PyType_GenericAlloc(<PyTypeObject*>cls, 0)
        p = <PyObject*>it
        _put(p, _o_id, ids[i])
        _put(p, _o_score, scores[i])
        _put(p, _o_channels, sets[<intp_t>chans[i]])
        _put(p, _o_trace, None if traces is None else traces[i])
        _put(p, _o_acm, None if acm is None else acm[i])
        out[i] = it
    return out


def rescored(object cls, list items, list scores, list order):
    """For each ``i`` of ``order`` a ``cls`` copy of ``items[i]`` scored ``scores[i]``;
    TypeError for an item that is not a ``cls``."""
    _bind(cls)
    cdef intp_t n = len(order), k, i, m = len(items)
    if len(scores) != m:
        raise ValueError(f"{m} items but {len(scores)} scores")
    cdef list out = [None] * n
    cdef object it, copy
    cdef PyObject* src
    cdef PyObject* dst
    for k in range(n):
        i = order[k]
        if i < 0 or i >= m:
            raise IndexError("order out of range")
        it = items[i]
        if not isinstance(it, cls):
            raise TypeError("not an item")
        src = <PyObject*>it
        copy = PyType_GenericAlloc(<PyTypeObject*>cls, 0)
        dst = <PyObject*>copy
        _put(dst, _o_id, _got(src, _o_id))
        _put(dst, _o_score, scores[i])
        _put(dst, _o_channels, _got(src, _o_channels))
        _put(dst, _o_trace, _got(src, _o_trace))
        _put(dst, _o_acm, _got(src, _o_acm))
        out[k] = copy
    return out


# -- rows ----------------------------------------------------------------------------

def taken(codes_in, scores_in, chans_in, rows_in):
    """``Candidates.take`` of the three columns: the rows ``rows`` (positions, negative
    from the end, or a boolean mask), in that order; IndexError as numpy's."""
    cdef cnp.ndarray codes_a = _as(codes_in, cnp.NPY_INTP)
    cdef cnp.ndarray scores_a = _as(scores_in, cnp.NPY_FLOAT64)
    cdef cnp.ndarray chans_a = _as(chans_in, cnp.NPY_INT32)
    cdef intp_t n = cnp.PyArray_DIMS(codes_a)[0], m = 0, i, r, k
    if cnp.PyArray_DIMS(scores_a)[0] != n or cnp.PyArray_DIMS(chans_a)[0] != n:
        raise ValueError("columns of different lengths")
    cdef cnp.ndarray rows_a
    cdef unsigned char* mask = NULL
    cdef intp_t* rows = NULL
    if cnp.PyArray_Check(rows_in) and cnp.PyArray_TYPE(<cnp.ndarray>rows_in) == cnp.NPY_BOOL:
        rows_a = _as(rows_in, cnp.NPY_BOOL)
        if cnp.PyArray_DIMS(rows_a)[0] != n:
            raise IndexError(f"a mask of {cnp.PyArray_DIMS(rows_a)[0]} rows for {n}")
        mask = <unsigned char*>cnp.PyArray_DATA(rows_a)
        for i in range(n):
            m += mask[i] != 0
    else:
        rows_a = _as(rows_in, cnp.NPY_INTP)
        rows = _intp(rows_a)
        m = cnp.PyArray_DIMS(rows_a)[0]
    cdef cnp.ndarray out_codes_a = _empty(m, cnp.NPY_INTP)
    cdef cnp.ndarray out_scores_a = _empty(m, cnp.NPY_FLOAT64)
    cdef cnp.ndarray out_chans_a = _empty(m, cnp.NPY_INT32)
    cdef intp_t* codes = _intp(codes_a)
    cdef double* scores = _f64(scores_a)
    cdef int32_t* chans = <int32_t*>cnp.PyArray_DATA(chans_a)
    cdef intp_t* out_codes = _intp(out_codes_a)
    cdef double* out_scores = _f64(out_scores_a)
    cdef int32_t* out_chans = <int32_t*>cnp.PyArray_DATA(out_chans_a)
    k = 0
    for i in range(n if mask != NULL else m):
        if mask != NULL:
            if not mask[i]:
                continue
            r = i
        else:
            r = rows[i]
            if r < 0:
                r += n
            if r < 0 or r >= n:
                raise IndexError(f"index {rows[i]} is out of bounds for {n} rows")
        out_codes[k] = codes[r]
        out_scores[k] = scores[r]
        out_chans[k] = chans[r]
        k += 1
    return out_codes_a, out_scores_a, out_chans_a


def descending(scores_in):
    """``np.argsort(-scores, kind="stable")``: the rows best first, ties in row order."""
    cdef cnp.ndarray scores_a = _as(scores_in, cnp.NPY_FLOAT64)
    cdef intp_t n = cnp.PyArray_DIMS(scores_a)[0], i
    cdef double* scores = _f64(scores_a)
    cdef cnp.ndarray neg_a = _empty(n, cnp.NPY_FLOAT64)
    cdef double* neg = _f64(neg_a)
    for i in range(n):
        neg[i] = -scores[i]
    return cnp.PyArray_ArgSort(neg_a, 0, cnp.NPY_MERGESORT)  # = NPY_STABLESORT


def keys_by_code(codes_in, known_in):
    """``known[codes]`` (keys remembered by id code, -1 unknown), the rows whose key is
    unknown, and the largest key (-1 for none); None when a code is past ``known``."""
    cdef cnp.ndarray codes_a = _as(codes_in, cnp.NPY_INTP)
    cdef cnp.ndarray known_a = _as(known_in, cnp.NPY_INTP)
    cdef intp_t n = cnp.PyArray_DIMS(codes_a)[0], size = cnp.PyArray_DIMS(known_a)[0]
    cdef intp_t i, c, key, top = -1, unknown_n = 0
    cdef intp_t* codes = _intp(codes_a)
    cdef intp_t* known = _intp(known_a)
    for i in range(n):
        c = codes[i]
        if c < 0 or c >= size:
            return None
    cdef cnp.ndarray keys_a = _empty(n, cnp.NPY_INTP)
    cdef intp_t* keys = _intp(keys_a)
    for i in range(n):
        key = keys[i] = known[codes[i]]
        if key > top:
            top = key
        elif key < 0:
            unknown_n += 1
    cdef cnp.ndarray unknown_a = _empty(unknown_n, cnp.NPY_INTP)
    cdef intp_t* unknown = _intp(unknown_a)
    if unknown_n:
        unknown_n = 0
        for i in range(n):
            if keys[i] < 0:
                unknown[unknown_n] = i
                unknown_n += 1
    return keys_a, unknown_a, top
