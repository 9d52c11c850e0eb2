"""Data snapshots: every read recorded once, served back the same through a file; a read
the snapshot lacks fails that round trip (counted), it is never a silent empty."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from prism_sdk import DataClient, Event, LocalBackend
from prism_sdk.data import DataSnapshot, RecordingBackend, SnapshotBackend, SnapshotError


@pytest.fixture
def live() -> LocalBackend:
    b = LocalBackend()
    b.replace_table("i2i", {"1": [("2", 0.9), ("3", 0.5), ("4", 0.1)], "9": [("8", 1.0)]})
    b.upsert_items({"2": {"category": "shoes", "price": 10.5}, "3": {"category": "bags"}})
    b.upsert_features("user", {"u1": {"top_categories": ["shoes"], "age": 30}})
    now = time.time()
    b.append_events("u1", [Event(now - 50, "2", "click"), Event(now - 10, "3", "exposure")])
    return b


def read_everything(data: DataClient) -> list[object]:
    with data.batch() as b:
        i2i = b.tables("i2i", ["1", "9"], 2)
        items = b.items(["2", "3", "404"])
    return [
        i2i.value,
        items.value,
        data.features("user", "u1"),
        data.features("user", "nobody"),
        data.events("u1", ("click",), 3600, 5),
        data.unclicked("u1", 3600),
        data.table("i2i", "1", 1),  # a smaller limit: served from the limit-2 read
    ]


def test_recorded_reads_serve_back_the_same_through_the_file(
    live: LocalBackend, tmp_path: Path
) -> None:
    recording = RecordingBackend(live)
    recorded = read_everything(DataClient(recording))
    path = recording.snapshot.save(tmp_path / "snap.json")
    # the live data moves on; the snapshot does not
    live.replace_table("i2i", {})
    live.append_events("u1", [Event(time.time(), "4", "click")])
    assert read_everything(DataClient(live)) != recorded
    served = SnapshotBackend(DataSnapshot.load(path))
    data = DataClient(served)
    assert read_everything(data) == recorded
    assert data.ok and served.misses == 0
    assert recorded[0] == [[("2", 0.9), ("3", 0.5)], [("8", 1.0)]]
    assert recorded[4] == [Event(pytest.approx(recorded[4][0].ts), "2", "click")]  # type: ignore[index]


def test_a_read_the_snapshot_lacks_fails_its_round_trip_and_is_counted(
    live: LocalBackend, tmp_path: Path
) -> None:
    recording = RecordingBackend(live)
    DataClient(recording).tables("i2i", ["1"], 2)
    served = SnapshotBackend(recording.snapshot)
    data = DataClient(served)
    assert data.tables("i2i", ["1"], 1) == [[("2", 0.9)]]
    assert data.tables("i2i", ["1"], 3) == [[]]  # cut at 2 when recorded: 3 is unknown
    assert data.features("user", "u1") is None  # never read: not in the snapshot
    assert served.misses == 2 and len(data.errors) == 2
    assert "not in the data snapshot: features user 'u1'" in data.errors[1]
    assert not data.ok  # the request is degraded, as for any data failure


def test_a_whole_list_serves_any_limit_and_a_bad_file_is_refused(
    live: LocalBackend, tmp_path: Path
) -> None:
    recording = RecordingBackend(live)
    DataClient(recording).tables("i2i", ["9"], 5)  # one row came back: the whole list
    data = DataClient(SnapshotBackend(recording.snapshot))
    assert data.tables("i2i", ["9"], 50) == [[("8", 1.0)]] and data.ok
    (tmp_path / "bad.json").write_text('{"format": "other", "v": 1, "reads": []}')
    with pytest.raises(SnapshotError, match="format 'other'"):
        DataSnapshot.load(tmp_path / "bad.json")
    with pytest.raises(SnapshotError, match="cannot read"):
        DataSnapshot.load(tmp_path / "missing.json")
