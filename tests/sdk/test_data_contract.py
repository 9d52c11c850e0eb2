"""One contract suite for every data backend."""

import time
from typing import Any, TypeVar

import pytest

from prism_sdk import DataBackend, DataClient, Event, MockBackend, Read
from prism_sdk.data import DataWriter

from .conftest import BACKEND_KINDS, MakeBackend

NOW = 1_700_000_000.0
REAL = time.time()
U3 = [  # (seconds ago, item, type): the unclicked read's user
    (7200, "a", "exposure"),
    (7100, "b", "click"),
    (3000, "a", "exposure"),
    (2900, "b", "exposure"),
    (2000, "c", "exposure"),
    (1000, "a", "exposure"),
    (900, "c", "click"),
    (500, "d", "exposure"),
    (400, "e", "cart"),
    (100, "d", "view"),
]
W = TypeVar("W", bound=DataWriter)


def _fill(b: W) -> W:
    b.replace_table("i2i", {"1": [("2", 0.9), ("3", 0.5), ("4", 0.1)], "2": [("1", 0.9)]})
    b.upsert_items({"1": {"title": "one", "status": "on"}, "2": {"title": "two", "status": "off"}})
    b.upsert_features("user", {"u1": {"age": 30}})
    b.append_events("u1", [Event(NOW - 100, "1", "click"), Event(NOW - 10, "2", "order")])
    b.append_events("u1", [Event(NOW - 50, "3", "view")])  # out of order: kept sorted
    written = time.time()  # not REAL: a slow session must not move "now" out of the windows
    b.append_events("u3", [Event(written - ago, i, t) for ago, i, t in U3])
    return b


@pytest.fixture(params=BACKEND_KINDS)
def backend(request: pytest.FixtureRequest, make_backend: MakeBackend) -> DataBackend:
    return make_backend(request.param, _fill)


def test_tables_read_many_keys_with_limit(backend: DataBackend) -> None:
    [rows] = backend.read([Read("table", ["1", "missing", "2"], "i2i", limit=2)])
    assert [list(r) for r in rows] == [[("2", 0.9), ("3", 0.5)], [], [("1", 0.9)]]


def test_items_and_features_align_with_keys(backend: DataBackend) -> None:
    items, feats = backend.read(
        [Read("items", ["2", "nope", "1"]), Read("features", ["u1", "u2"], "user")]
    )
    assert [i and i["title"] for i in items] == ["two", None, "one"]
    assert feats == [{"age": 30}, None]


def test_events_newest_first_filtered_by_type_time_and_limit(backend: DataBackend) -> None:
    [[all_ev]] = backend.read([Read("events", ["u1"])])
    assert [e.item_id for e in all_ev] == ["2", "3", "1"]
    [[recent]] = backend.read([Read("events", ["u1"], since=NOW - 60, types=("order", "click"))])
    assert [(e.item_id, e.type) for e in recent] == [("2", "order")]
    [[one, none]] = backend.read([Read("events", ["u1", "u9"], limit=1)])
    assert [e.item_id for e in one] == ["2"] and list(none) == []


def test_unclicked_counts_exposures_without_a_click_in_the_window(backend: DataBackend) -> None:
    [hour, none] = backend.read([Read("unclicked", ["u3", "u9"], since=REAL - 3600)])[0]
    assert list(hour.items()) == [("d", 1), ("a", 2), ("b", 1)]  # most recently exposed first
    assert none == {}
    [[longer]] = backend.read([Read("unclicked", ["u3"], since=REAL - 8000, limit=1)])
    assert longer == {"d": 1, "a": 3}  # b was clicked in this window; limit is ignored


def test_client_unclicked_stays_in_the_batch_round_trip(backend: DataBackend) -> None:
    client = DataClient(backend)
    with client.batch() as b:
        t = b.tables("i2i", ["1"], 1)
        seen = b.unclicked(["u3"], within_s=3600)
    assert client.round_trips == 1 and t.value == [[("2", 0.9)]]
    assert seen.value == [{"d": 1, "a": 2, "b": 1}]
    assert client.unclicked("u3", within_s=1200) == {"d": 1, "a": 1}


def test_client_batches_reads_into_one_round_trip(backend: DataBackend) -> None:
    client = DataClient(backend)
    with client.batch() as b:
        t = b.tables("i2i", ["1"], 1)
        i = b.items(["1"])
    assert client.round_trips == 1
    assert t.value == [[("2", 0.9)]] and i.value[0]["title"] == "one"  # type: ignore[index]


class _Broken:
    name = "broken"

    def read(self, reads: Any) -> Any:
        raise ConnectionError("down")

    def close(self) -> None:
        return None


def test_a_failing_backend_degrades_to_empty_values_and_flags_it() -> None:
    client = DataClient(_Broken())
    assert client.table("i2i", "1") == []
    assert client.items(["1", "2"]) == [None, None]
    assert client.unclicked("u1", 3600) == {}
    assert not client.ok and "ConnectionError" in client.errors[0]


def test_mock_backend_records_each_round_trip() -> None:
    mock = MockBackend(lambda r: [None] * len(r.keys))
    DataClient(mock).items(["a", "b"])
    assert len(mock.calls) == 1 and mock.calls[0][0].keys == ["a", "b"]
