"""The Redis backend's value codecs (``prism_sdk.data.redis_io``) as properties over
generated values (hypothesis, derandomized: the same examples every run): what a writer
may store comes back as it went in (any unicode, every number msgpack holds, nested
lists and maps, numpy values); what it cannot store is refused when written, with an
error naming it, not stored as a value that breaks every later read; and any bytes
read back decode to rows or fail with a decode error."""

from __future__ import annotations

import math
import struct
from typing import Any

import msgspec
import numpy as np
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prism_sdk import Event
from prism_sdk.data.redis_io import (
    _pack,
    decode_any,
    decode_event,
    decode_rows,
    encode,
    encode_event,
    encode_rows,
)

SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)
TEXT = st.text(max_size=30)  # any unicode but lone surrogates, which UTF-8 cannot hold
FLOAT = st.floats(allow_nan=True, allow_infinity=True)
SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | FLOAT
    | TEXT
    | st.binary(max_size=30)
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=5),
    max_leaves=30,
)
ROW = st.tuples(TEXT, FLOAT | st.integers(-(2**53), 2**53))


def same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to itself and a tuple to the list it is read back as."""
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<d", a) == struct.pack("<d", b) or a == b
    if isinstance(a, list | tuple) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@SETTINGS
@given(value=VALUE)
def test_any_value_a_writer_stores_reads_back_the_same(value: Any) -> None:
    assert same(value, decode_any(encode(value)))


@SETTINGS
@given(row=st.dictionaries(TEXT, VALUE, max_size=6), more=st.dictionaries(TEXT, VALUE, max_size=3))
def test_a_merged_feature_row_reads_back_field_by_field(
    row: dict[str, Any], more: dict[str, Any]
) -> None:
    """What ``upsert_features`` does to a stored row: decode, merge, encode."""
    assert same(row | more, decode_any(encode({**decode_any(encode(row)), **more})))


@SETTINGS
@given(
    values=st.lists(st.floats(width=32, allow_nan=False), min_size=1, max_size=8),
    ints=st.lists(st.integers(-(2**31), 2**31 - 1), min_size=1, max_size=8),
)
def test_numpy_values_are_stored_as_the_python_values_they_hold(
    values: list[float], ints: list[int]
) -> None:
    vector = np.array(values, dtype=np.float32)
    row = {
        "vec": vector,
        "one": vector[:1],
        "f": vector[0],
        "ids": np.array(ints),
        "i": np.int64(ints[0]),
    }
    assert decode_any(encode(row)) == {
        "vec": vector.tolist(),
        "one": vector[:1].tolist(),  # a list of one, not a scalar
        "f": float(vector[0]),
        "ids": ints,
        "i": ints[0],
    }


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (2**64, OverflowError),
        (-(2**63) - 1, OverflowError),
        ({"n": [1, 2**70]}, OverflowError),
        ("a\ud800b", UnicodeEncodeError),
        ({"\udc00": 1}, UnicodeEncodeError),
        (object(), TypeError),
        ({"x": 1j}, TypeError),
        ({"x": Ellipsis}, TypeError),
    ],
    ids=["2**64", "-2**63-1", "nested big int", "lone surrogate", "surrogate key", "object",
         "complex", "ellipsis"],
)  # fmt: skip
def test_what_redis_cannot_hold_is_refused_when_written(value: Any, error: type) -> None:
    with pytest.raises(error):
        encode(value)


@SETTINGS
@given(rows=st.lists(ROW, max_size=40))
def test_table_rows_read_back_as_written(rows: list[tuple[str, float]]) -> None:
    back = decode_rows(encode_rows(rows))
    assert back.ids == [item for item, _ in rows]
    assert [struct.pack("<d", s) for s in back.scores] == [
        struct.pack("<d", float(s)) for _, s in rows
    ]


@SETTINGS
@given(
    rows=st.lists(ROW, min_size=1, max_size=10),
    at=st.integers(0, 9),
    bad=st.integers() | st.none() | st.binary() | st.floats() | st.tuples(TEXT),
)
def test_a_row_whose_id_is_not_a_string_is_refused_when_written(
    rows: list[tuple[Any, float]], at: int, bad: Any
) -> None:
    """It used to be written, and then every read of its key failed (and with it every
    read of its batch): msgspec's typed decoder refuses a non-string id."""
    rows[at % len(rows)] = (bad, 1.0)
    with pytest.raises(TypeError, match="item ids are strings"):
        encode_rows(rows)


@pytest.mark.parametrize("score", ["1.0", None, [1.0], {"s": 1}])
def test_a_row_whose_score_is_not_a_number_is_refused_naming_it(score: Any) -> None:
    with pytest.raises(TypeError, match="item 'b': a score is a number"):
        encode_rows([("a", 1.0), ("b", score)])


def test_numpy_scores_are_numbers() -> None:
    rows = [("a", np.float32(0.5)), ("b", np.int64(3)), ("c", np.float64(math.inf))]
    assert list(decode_rows(encode_rows(rows))) == [("a", 0.5), ("b", 3.0), ("c", math.inf)]


@SETTINGS
@given(
    raw=st.binary(max_size=64)
    | st.builds(
        lambda ids, packed, head: head + encode((ids, packed)),
        st.lists(TEXT, max_size=4),
        st.binary(max_size=40),
        st.sampled_from([b"\xc1", b""]),
    )
)
def test_any_stored_bytes_decode_to_aligned_rows_or_a_decode_error(raw: bytes) -> None:
    """A value written by something else (or damaged) is a ``ValueError`` (msgspec's
    ``DecodeError`` is one) that the read reports, never rows whose columns disagree."""
    try:
        rows = decode_rows(raw)
    except ValueError:
        return
    assert len(rows.ids) == len(rows.scores) == len(list(rows))
    assert all(isinstance(i, str) for i in rows.ids)


@SETTINGS
@given(ts=FLOAT | st.integers(0, 2**40), item=TEXT, kind=TEXT)
def test_events_read_back_as_written(ts: float, item: str, kind: str) -> None:
    back = decode_event(encode_event(Event(ts, item, kind)))
    assert same(float(ts), back.ts) and (back.item_id, back.type) == (item, kind)


@pytest.mark.parametrize(
    "event",
    [Event(1.0, 42, "click"), Event(1.0, "i", None), Event(1.0, b"i", "click")],  # type: ignore[arg-type]
)
def test_an_event_whose_item_or_type_is_not_a_string_is_refused(event: Event) -> None:
    with pytest.raises(TypeError, match="are strings"):
        encode_event(event)


@SETTINGS
@given(raw=st.binary(max_size=40))
def test_any_event_bytes_decode_to_an_event_or_a_decode_error(raw: bytes) -> None:
    try:
        event = decode_event(raw)
    except msgspec.DecodeError:
        return
    assert isinstance(event.item_id, str) and isinstance(event.type, str)


COMMAND_ARG = st.one_of(TEXT, st.integers(-(2**63), 2**64 - 1), FLOAT)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["MGET", "GET", "ZREVRANGEBYSCORE"]),
                          st.lists(COMMAND_ARG, max_size=5)), min_size=1, max_size=4))  # fmt: skip
def test_commands_are_sent_as_redis_py_would_send_them(
    commands: list[tuple[str, list[Any]]],
) -> None:
    """A read's commands (names, keys, counts, score bounds) packed by hiredis alone are
    the bytes redis-py's own packing writes."""
    assert _pack is not None  # hiredis is installed with the SDK
    cmds = [(name, *args) for name, args in commands]
    ours = _pack(cmds)
    conn = redis.Connection()  # packs without connecting
    assert b"".join(ours) == b"".join(conn.pack_commands(cmds))
