"""The compiled kernels (``prism_sdk._kernels``) against their numpy and Python twins,
over generated code arrays (hypothesis, derandomized): the same rows, sums (bit for bit:
both add in row order), bitmasks, flags and placements; and the scratch arrays are left
clean, so a second call is not affected by the first."""

from __future__ import annotations

import gc
import sys
from array import array

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prism_sdk import Item, _items, _vocab, _window
from prism_sdk._native import kernels
from prism_sdk.data.vocabulary import VOCABULARY
from prism_sdk.stages import Candidates

SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)
VOCAB = 64  # codes drawn below it: repeats are common


@pytest.fixture(autouse=True, scope="module")
def _vocabulary() -> None:
    VOCABULARY.codes([f"kernel-test-{i}" for i in range(VOCAB)])  # the scratch covers them


def _codes(draw: st.DrawFn, most: int = 120) -> npt.NDArray[np.intp]:
    return np.array(draw(st.lists(st.integers(0, VOCAB - 1), max_size=most)), np.intp)


@st.composite
def rows(draw: st.DrawFn) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], list[int]]:
    codes = _codes(draw)
    scores = np.array(
        draw(st.lists(st.floats(-1e6, 1e6), min_size=len(codes), max_size=len(codes))),
        np.float64,
    )
    cuts = sorted(draw(st.lists(st.integers(0, len(codes)), max_size=7)))
    edges = [0, *cuts, len(codes)]
    return codes, scores, [b - a for a, b in zip(edges, edges[1:], strict=False)]


def test_the_package_was_built_with_its_kernels() -> None:
    """make installs compile them (hatch_build.py): without them every stage is slower."""
    assert _vocab.COMPILED


@SETTINGS
@given(rows(), st.booleans())
def test_summed_matches_numpy(
    given_rows: tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], list[int]], by_part: bool
) -> None:
    codes, scores, parts = given_rows
    want = _vocab.numpy_summed(codes, scores, parts if by_part else None)
    for _ in range(2):
        got = _vocab.summed(codes, scores, parts if by_part else None)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])  # exact: the same additions
        if by_part:
            np.testing.assert_array_equal(got[2], want[2])
        else:
            assert got[2] is None and want[2] is None


@SETTINGS
@given(st.data())
def test_dense_codes_member_and_lookup_match_numpy(data: st.DataObject) -> None:
    codes = np.array(data.draw(st.lists(st.integers(0, VOCAB - 1), max_size=120)), np.intp)
    among = np.array(data.draw(st.lists(st.integers(0, VOCAB - 1), max_size=20)), np.intp)
    keys = np.unique(among)
    values = np.arange(1, len(keys) + 1, dtype=np.int64) * 7
    for _ in range(2):
        for got, want in (
            (_vocab.dense_codes(codes), _vocab.numpy_dense_codes(codes)),
            ((_vocab.member(codes, among),), (_vocab.numpy_member(codes, among),)),
            (
                (_vocab.looked_up(codes, keys, values),),
                (_vocab.numpy_looked_up(codes, keys, values),),
            ),
        ):
            for g, w in zip(got, want, strict=True):
                np.testing.assert_array_equal(g, w)
                assert g.dtype.kind == w.dtype.kind


def test_strided_codes_are_read_as_they_are() -> None:
    codes = np.arange(40, dtype=np.intp)[::-3]
    ones = np.ones(len(codes))
    np.testing.assert_array_equal(_vocab.summed(codes, ones)[0], codes)
    np.testing.assert_array_equal(_vocab.member(codes, codes[:2]), np.arange(len(codes)) < 2)


@SETTINGS
@given(
    st.lists(st.integers(-1, 5), max_size=60),
    st.integers(0, 60),
    st.integers(1, 6),
    st.integers(1, 3),
)
def test_greedy_codes_match_the_python_greedy(
    kinds: list[int], n: int, window: int, cap: int
) -> None:
    codes = np.array(kinds, np.int32)
    as_kinds = [None if k < 0 else k for k in kinds]
    assert _window.greedy_codes(codes, n, window, cap) == _window.greedy(as_kinds, n, window, cap)
    assert _window.arrange_codes(codes, n, window, cap) == _window.arrange(as_kinds, n, window, cap)


@SETTINGS
@given(st.lists(rows(), max_size=6), st.data())
def test_summed_tables_matches_numpy(
    tables: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], list[int]]],
    data: st.DataObject,
) -> None:
    weights = data.draw(st.lists(st.floats(-3, 3), min_size=len(tables), max_size=len(tables)))
    codes = [t[0] for t in tables]
    scores = [array("d", t[1].tolist()) for t in tables]  # as ScoredRows holds them
    want = _vocab.numpy_summed_tables(codes, scores, weights)
    got = _vocab.summed_tables(codes, scores, weights)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])  # w * s rounded, then added in order


def test_ids_are_coded_as_the_vocabulary_codes_them() -> None:
    ids = [f"kernel-test-{i}" for i in (3, 1, 3)]
    np.testing.assert_array_equal(VOCABULARY.codes(ids), [VOCABULARY.index[i] for i in ids])
    new = [f"kernel-new-{i}" for i in range(3)]
    codes = VOCABULARY.codes([*ids, *new])  # a new id: the kernel gives way, the ids are added
    assert VOCABULARY.ids(codes) == [*ids, *new]


def test_a_source_of_pairs_reads_any_pair_the_python_path_reads() -> None:
    known = [(f"kernel-test-{i}", float(i)) for i in range(5)]
    for rows in (
        known,
        [*known, ("kernel-pair-new", 1.5)],  # an id never seen
        [*known, ["kernel-test-1", 2]],  # a list, an int score
        [*known, ("kernel-test-2", np.float32(0.25))],
    ):
        c = Candidates.from_rows(rows, "x")
        assert c.ids == [str(r[0]) for r in rows]
        assert c.scores.tolist() == [float(r[1]) for r in rows]
        assert c.scores.dtype == np.float64
    with pytest.raises((TypeError, ValueError)):
        Candidates.from_rows([*known, ("kernel-test-1", "high")], "x")


@SETTINGS
@given(st.lists(rows(), min_size=1, max_size=8), st.data())
def test_summed_parts_matches_numpy(
    parts: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], list[int]]],
    data: st.DataObject,
) -> None:
    codes = [p[0] for p in parts]
    scores = [p[1] for p in parts]
    ns = [data.draw(st.integers(0, len(c))) for c in codes]  # each part cut to its quota
    weights = [data.draw(st.sampled_from([1.0, 0.3, -2.0, 0.1])) for _ in parts]
    want = _vocab.numpy_summed_parts(codes, scores, ns, weights)
    got = _vocab.summed_parts(codes, scores, ns, weights)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


@SETTINGS
@given(st.data())
def test_downweighted_matches_numpy(data: st.DataObject) -> None:
    codes = np.array(data.draw(st.lists(st.integers(0, VOCAB - 1), max_size=80)), np.intp)
    scores = np.array(
        data.draw(st.lists(st.floats(-1e3, 1e3), min_size=len(codes), max_size=len(codes)))
    )
    ids = [f"kernel-test-{i}" for i in range(VOCAB)]
    counts = data.draw(
        st.dictionaries(st.sampled_from([*ids, "kernel-never-coded"]), st.integers(0, 4))
    )
    traces = None
    if data.draw(st.booleans()):
        traces = np.empty(len(codes), object)
        for r in range(0, len(codes), 3):
            traces[r] = {"earlier": r}
    factor = data.draw(st.sampled_from([0.5, 0.9, 1.0, 2.0]))
    want = _vocab.numpy_downweighted(codes, scores, traces, counts, factor, "shown")
    got = _vocab.downweighted(codes, scores, traces, counts, factor, "shown")
    if want is None:
        assert got is None
        return
    assert got is not None
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1].tolist() == want[1].tolist()
    assert traces is None or traces.tolist()[0::3] == [
        {"earlier": r} for r in range(0, len(codes), 3)
    ]


def _same_items(got: list[Item], want: list[Item]) -> None:
    assert got == want
    for g, w in zip(got, want, strict=True):
        assert type(g) is Item
        assert g.trace is w.trace and g.acm_extra is w.acm_extra and g.channels is w.channels


@SETTINGS
@given(st.data())
def test_items_are_made_as_the_python_twins_make_them(data: st.DataObject) -> None:
    n = data.draw(st.integers(0, 40))
    sets = (("a",), ("a", "b"), ())
    ids = [f"id{i}" for i in data.draw(st.lists(st.integers(0, 9), min_size=n, max_size=n))]
    scores = data.draw(st.lists(st.floats(allow_nan=False), min_size=n, max_size=n))
    chans = data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    traces = data.draw(st.none() | st.lists(st.none() | st.just({"x": 1}), min_size=n, max_size=n))
    acm = data.draw(st.none() | st.lists(st.none() | st.just({"m": "v"}), min_size=n, max_size=n))
    made = _items.new_items(ids, scores, sets, chans, traces, acm)
    _same_items(made, _items.python_new_items(ids, scores, sets, chans, traces, acm))
    order = data.draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=2 * n if n else 0))
    new = [s + 1.0 for s in scores]
    _same_items(Item.rescored(made, new, order), _items.python_rescored(made, new, order))


def test_item_kernels_keep_every_reference_count() -> None:
    """The kernels write the slots themselves: a reference too many leaks, one too few
    crashes later."""
    trace, channels = {"x": 1}, ("kernel-refs",)
    items = [Item(f"r{i}", float(i), channels, trace) for i in range(50)]
    before = sys.getrefcount(trace), sys.getrefcount(channels)
    for _ in range(200):
        made = Item.rescored(items, [1.0] * 50, list(range(50)))
        made += _items.new_items(["r"] * 50, [1.0] * 50, (channels,), [0] * 50, [trace] * 50, None)
    del made
    gc.collect()
    assert (sys.getrefcount(trace), sys.getrefcount(channels)) == before


def test_rescoring_what_is_not_an_item_is_the_python_twins_error() -> None:
    with pytest.raises(AttributeError):
        Item.rescored([Item("a"), ("b", 1.0)], [1.0, 2.0], [1])  # type: ignore[list-item]
    assert [it.id for it in Item.rescored([Item("a"), Item("b")], [1.0, 2.0], [-1])] == ["b"]


@SETTINGS
@given(st.data())
def test_row_takes_match_numpy_indexing(data: st.DataObject) -> None:
    n = data.draw(st.integers(0, 40))
    ints = st.integers(0, VOCAB - 1)
    codes = np.array(data.draw(st.lists(ints, min_size=n, max_size=n)), np.intp)
    scores = np.array(data.draw(st.lists(st.floats(), min_size=n, max_size=n)), np.float64)
    chans = np.arange(n, dtype=np.int32) % 3
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
    rows = np.array(data.draw(st.lists(st.integers(-n, n - 1), max_size=30)) if n else [], np.intp)
    assert kernels is not None
    for taken in (rows, mask):
        got = kernels.taken(codes, scores, chans, taken)
        for g, column in zip(got, (codes, scores, chans), strict=True):
            np.testing.assert_array_equal(g, column[taken])
            assert g.dtype == column.dtype
    with pytest.raises(IndexError):
        kernels.taken(codes, scores, chans, np.array([n], np.intp))
    with pytest.raises(IndexError):
        kernels.taken(codes, scores, chans, np.ones(n + 1, bool))


@SETTINGS
@given(st.lists(st.sampled_from([0.0, -0.0, 1.0, -2.5, np.nan, np.inf, -np.inf]) | st.floats()))
def test_best_first_orders_as_numpys_stable_argsort(values: list[float]) -> None:
    scores = np.array(values, np.float64)
    assert kernels is not None
    np.testing.assert_array_equal(kernels.descending(scores), np.argsort(-scores, kind="stable"))


@SETTINGS
@given(st.data())
def test_keys_by_code_match_numpy(data: st.DataObject) -> None:
    known = np.array(data.draw(st.lists(st.integers(-1, 500), min_size=1, max_size=80)), np.intp)
    codes = np.array(data.draw(st.lists(st.integers(0, len(known) - 1), max_size=60)), np.intp)
    assert kernels is not None
    got = kernels.keys_by_code(codes, known)
    assert got is not None
    keys, unknown, top = got
    np.testing.assert_array_equal(keys, known[codes])
    np.testing.assert_array_equal(unknown, (known[codes] == -1).nonzero()[0])
    assert top == (int(known[codes].max()) if len(codes) else -1)
    assert kernels.keys_by_code(np.array([len(known)], np.intp), known) is None
