"""One contract, every event log: durable, idempotent by id, read in order by offset,
trimmed only where counted and old."""

from __future__ import annotations

import time

from prism_platform.events.event import StoredEvent

from .conftest import SinkFactory


def ev(eid: str, kind: str = "click", value: float | None = None) -> StoredEvent:
    now = time.time()
    return StoredEvent(eid, kind, "2.s.b.st@v.c.1.r.-.tag", "u1", "i1", now, value, now)


def test_append_reports_new_and_duplicate_ids(open_sink: SinkFactory) -> None:
    sink = open_sink()
    assert sink.append([ev("a"), ev("b")]) == [True, True]
    assert sink.append([ev("b"), ev("c"), ev("a")]) == [False, True, False]
    assert sink.append([]) == []
    assert [e.event_id for _, e in sink.read("", 100)] == ["a", "b", "c"]


def test_read_pages_in_order_from_an_offset(open_sink: SinkFactory) -> None:
    sink = open_sink()
    sink.append([ev(f"e{i}", value=float(i)) for i in range(25)])
    seen: list[str] = []
    offset = ""
    while page := sink.read(offset, 10):
        assert len(page) <= 10
        seen += [e.event_id for _, e in page]
        offset = page[-1][0]
    assert seen == [f"e{i}" for i in range(25)]
    assert sink.read(offset, 10) == []
    first = sink.read("", 1)[0][1]
    assert (first.type, first.value, first.acm) == ("click", 0.0, "2.s.b.st@v.c.1.r.-.tag")


def test_what_was_appended_survives_a_new_connection(open_sink: SinkFactory) -> None:
    first = open_sink()
    first.append([ev("x"), ev("y")])
    first.close()
    again = open_sink()
    assert [e.event_id for _, e in again.read("", 10)] == ["x", "y"]
    assert again.append([ev("x"), ev("z")]) == [False, True]


def test_offsets_grow(open_sink: SinkFactory) -> None:
    sink = open_sink()
    sink.append([ev("1")])
    sink.append([ev("2")])
    (o1, _), (o2, _) = sink.read("", 10)
    assert sink.read(o1, 10)[0][0] == o2 and sink.read(o2, 10) == []
    assert sink.name and isinstance(o1, str)


def test_trim_drops_only_old_entries_up_to_the_offset(open_sink: SinkFactory) -> None:
    sink = open_sink()
    sink.append([ev(f"old{i}") for i in range(3)])
    time.sleep(0.02)
    cut = time.time()  # old* were received before, new* after
    time.sleep(0.02)
    sink.append([ev("new0"), ev("new1")])
    offsets = [o for o, _ in sink.read("", 10)]
    assert sink.trim("", cut) == 0  # nothing aggregated yet
    assert sink.trim(offsets[1], cut) == 2  # old2 not aggregated: kept
    assert [e.event_id for _, e in sink.read("", 10)] == ["old2", "new0", "new1"]
    assert sink.trim(offsets[-1], cut) == 1  # new* are too young
    assert sink.trim(offsets[-1], cut) == 0
    assert [e.event_id for _, e in sink.read("", 10)] == ["new0", "new1"]
    assert sink.read(offsets[1], 10)[0][0] == offsets[3]  # old offsets still page on
    assert sink.append([ev("new1"), ev("new2")]) == [False, True]  # untrimmed ids: duplicates
    assert sink.trim(sink.read("", 10)[-1][0], time.time() + 1) == 3  # all counted and old
    assert sink.read("", 10) == []
    sink.append([ev("later")])
    assert [e.event_id for _, e in sink.read(offsets[-1], 10)] == ["later"]  # offsets grow
