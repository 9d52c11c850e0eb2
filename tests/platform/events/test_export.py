"""``prism events export``: the log's accepted events, read back from Parquet (and CSV)
with pyarrow as written, one row group per page of the log, selected by event time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from prism_platform.cli.main import main
from prism_platform.errors import Invalid
from prism_platform.events.event import REJECTED, StoredEvent
from prism_platform.events.export import COLUMNS, write_events
from prism_platform.events.sqlite_sink import SqliteSink
from prism_sdk import Acm

T0 = 1_790_000_000.25  # the events' times: T0, T0 + 60, …


def _event(n: int, kind: str, value: float | None = None, order: str | None = None) -> StoredEvent:
    acm = Acm("home_feed", "treat", "home_feed", "v7", ("i2i", "popular"), n + 1, f"r{n}")
    token = acm._replace(layers=(("rank", "b"),)).sign(b"k", f"u{n}", f"i{n}")
    ts = T0 + 60 * n
    return StoredEvent(f"e{n}", kind, token, f"u{n}", f"i{n}", ts, value, ts + 1.5, order)


EVENTS = [
    _event(0, "exposure"),
    _event(1, "click"),
    _event(2, "cart"),
    _event(3, "order", 12.5, "o-1"),
    _event(4, "exposure"),
]
RECORD = StoredEvent("~1", REJECTED, "1.s.b.-@-.-.1.-", "", "", T0, 3.0, T0, None, "stale")


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@pytest.fixture
def sink(tmp_path: Path) -> SqliteSink:
    s = SqliteSink(tmp_path / "var" / "events.db")
    s.append([*EVENTS[:2], RECORD, *EVENTS[2:]])  # a count record: not an event
    return s


def test_events_round_trip_through_parquet_a_page_at_a_time(
    sink: SqliteSink, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "events.parquet"
    assert write_events(sink, out, page=2) == 5
    assert pq.ParquetFile(out).metadata.num_row_groups == 3  # a group per page of the log
    table = pq.read_table(out)
    assert table.column_names == [name for name, _, _ in COLUMNS]
    rows = table.to_pylist()
    assert [r["event_id"] for r in rows] == ["e0", "e1", "e2", "e3", "e4"]
    assert rows[3] == {
        "event_id": "e3", "type": "order", "user_id": "u3", "item_id": "i3",
        "ts": _at(T0 + 180), "received": _at(T0 + 181.5), "value": 12.5, "order_id": "o-1",
        "scene": "home_feed", "bucket": "treat", "layers": "rank:b", "strategy": "home_feed",
        "version": "v7", "channel": "i2i", "position": 4, "request_id": "r3",
    }  # fmt: skip
    assert (rows[0]["value"], rows[0]["order_id"]) == (None, None)
    assert str(table.schema.field("ts").type) == "timestamp[us, tz=UTC]"
    assert not list(out.parent.glob(".*.part"))


def test_since_and_until_select_by_event_time_and_csv_reads_back(
    sink: SqliteSink, tmp_path: Path
) -> None:
    out = tmp_path / "events.csv"
    assert write_events(sink, out, since=T0 + 60, until=T0 + 180) == 2
    table = pa_csv.read_csv(out)
    assert table.column("event_id").to_pylist() == ["e1", "e2"]
    assert table.column("type").to_pylist() == ["click", "cart"]
    assert write_events(sink, out, since=T0 + 1000) == 0
    assert pa_csv.read_csv(out).num_rows == 0  # the header alone


def test_a_file_of_another_kind_is_refused(sink: SqliteSink, tmp_path: Path) -> None:
    with pytest.raises(Invalid) as err:
        write_events(sink, tmp_path / "events.json")
    assert err.value.field == "out"
    assert not list(tmp_path.glob("*events*"))


def test_the_command_exports_the_configured_log(
    sink: SqliteSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRISM_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PRISM_EVENTS_BACKEND", "sqlite")
    out = tmp_path / "events.parquet"
    since = datetime.fromtimestamp(T0 + 120, UTC).isoformat()
    r = CliRunner().invoke(main, ["events", "export", "--since", since, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "exported 3 events" in r.output
    assert pq.read_table(out).column("event_id").to_pylist() == ["e2", "e3", "e4"]
    r = CliRunner().invoke(main, ["events", "export", "--until", "yesterday", "--out", str(out)])
    assert r.exit_code != 0 and "(until)" in r.output, r.output
