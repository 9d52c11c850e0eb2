"""ScoredRows: a result table's rows as columns that read like a list of pairs."""

from __future__ import annotations

from array import array

import numpy as np
import pytest

from prism_sdk import stages
from prism_sdk.data import ScoredRows
from prism_sdk.data.redis_io import decode_rows, encode, encode_rows

PAIRS = [("a", 0.9), ("b", 0.5), ("c", 0.125)]


def _rows() -> ScoredRows:
    return ScoredRows(["a", "b", "c"], array("d", [0.9, 0.5, 0.125]))


def test_reads_like_a_list_of_pairs() -> None:
    rows = _rows()
    assert rows == PAIRS and PAIRS == rows and rows != PAIRS[:2] and rows != tuple(PAIRS)
    assert list(rows) == PAIRS and len(rows) == 3 and rows[1] == ("b", 0.5)
    assert rows[-1] == ("c", 0.125) and rows[:2] == PAIRS[:2] and isinstance(rows[:2], ScoredRows)
    assert ("b", 0.5) in rows and rows.index(("c", 0.125)) == 2
    assert [it.id for it in stages.from_scored(rows, "i2i")] == ["a", "b", "c"]
    assert repr(rows) == f"ScoredRows({PAIRS!r})" and not ScoredRows.empty()
    with pytest.raises(TypeError):
        hash(rows)


def test_hands_out_its_columns() -> None:
    rows = _rows()
    scores = np.asarray(rows.scores)
    assert rows.ids == ["a", "b", "c"] and scores.dtype == np.float64
    assert np.shares_memory(scores, np.frombuffer(rows.scores))  # a view, not a copy


def test_ids_and_scores_must_align() -> None:
    with pytest.raises(ValueError, match="2 ids but 1 scores"):
        ScoredRows(["a", "b"], array("d", [1.0]))


def test_both_stored_formats_decode_to_the_same_rows() -> None:
    current, first = encode_rows(PAIRS), encode([list(p) for p in PAIRS])
    assert current[0] == 0xC1 and first[0] != 0xC1  # the format byte msgpack never uses
    assert decode_rows(current) == decode_rows(first) == _rows()
    assert decode_rows(encode_rows([])) == [] == decode_rows(encode([]))
