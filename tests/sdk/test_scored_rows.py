"""ScoredRows: a result table's rows as columns that read like a list of pairs."""

from __future__ import annotations

from array import array

import numpy as np
import pytest

from prism_sdk import DataClient, LocalBackend, Read, stages
from prism_sdk.data import ScoredRows
from prism_sdk.data.redis_io import decode_rows, encode, encode_rows
from prism_sdk.data.vocabulary import VOCABULARY
from prism_sdk.stages import Candidates

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


def test_coded_rows_carry_their_vocabulary_codes_through_slices() -> None:
    rows = ScoredRows.coded(PAIRS)
    assert rows == PAIRS and rows.codes.tolist() == VOCABULARY.codes(["a", "b", "c"]).tolist()
    assert rows[1:].codes.tolist() == rows.codes[1:].tolist() and rows[1:] == PAIRS[1:]
    plain = _rows()
    assert plain.codes.tolist() == rows.codes.tolist()  # made on first use
    with pytest.raises(ValueError, match="3 ids but 2 codes"):
        ScoredRows(["a", "b", "c"], array("d", [1.0, 2.0, 3.0]), rows.codes[:2])


def test_the_embedded_backend_keeps_tables_as_coded_rows() -> None:
    backend = LocalBackend()
    backend.replace_table("i2i", {"x": PAIRS, "y": []})
    got = DataClient(backend).execute([Read("table", ("x", "y", "z"), "i2i", 2)])[0]
    assert got == [PAIRS[:2], [], []] and all(isinstance(r, ScoredRows) for r in got)
    assert got[0].ids[0] is backend.tables["i2i"]["x"].ids[0]  # interned, shared
    from_table = Candidates.from_rows(got[0], "i2i")
    from_list = Candidates.from_rows(PAIRS[:2], "i2i")
    assert from_table.codes.tolist() == from_list.codes.tolist()
    assert from_table.scores.tolist() == from_list.scores.tolist() == [0.9, 0.5]
    summed = Candidates.from_rows_summed(got, [1.0, 2.0, 3.0], "i2i")
    assert summed.ids == ["a", "b"] and summed.scores.tolist() == [0.9, 0.5]
