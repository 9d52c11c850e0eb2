"""One contract, every event log: durable, idempotent by id, counting once per token
(orders once per order id, up to the cap), read in order by offset, trimmed only where
counted, acknowledged and old; read by consumer groups, at least once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import msgspec

from prism_platform.events.event import MAX_ORDERS_PER_TOKEN, REJECTED, StoredEvent
from prism_platform.events.offset import offset_order

from .conftest import SinkFactory


def ev(
    eid: str,
    kind: str = "click",
    value: float | None = None,
    token: str | None = None,
    order_id: str | None = None,
) -> StoredEvent:
    """An event; its token is its own (request id ``eid``) unless ``token`` names one."""
    now = time.time()
    acm = f"2.s.b.st@v.c.1.{token or eid}.-.tag"
    return StoredEvent(eid, kind, acm, "u1", "i1", now, value, now, order_id)


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
    assert (first.type, first.value, first.acm) == ("click", 0.0, "2.s.b.st@v.c.1.e0.-.tag")


def test_a_token_counts_once_per_event_type(open_sink: SinkFactory) -> None:
    sink = open_sink()
    kinds = ("exposure", "click", "cart")
    assert sink.append([ev(f"a-{k}", k, token="t") for k in kinds]) == [True] * 3
    replays = [ev(f"b-{k}-{n}", k, token="t") for k in kinds for n in range(2)]
    assert sink.append(replays) == [False] * 6  # new event ids, same token: no count
    assert sink.append([ev("c-exposure", "exposure", token="other")]) == [True]
    again = open_sink()  # what a token claimed is durable too
    assert again.append([ev("d-exposure", "exposure", token="t")]) == [False]
    stored = [e.event_id for _, e in again.read("", 100)]
    assert stored == ["a-exposure", "a-click", "a-cart", "c-exposure"]


def test_orders_count_once_per_order_id_up_to_the_cap(open_sink: SinkFactory) -> None:
    sink = open_sink()
    orders = [ev(f"o{n}", "order", 10.0, token="t", order_id=f"ord-{n}") for n in range(5)]
    got = sink.append([orders[0], orders[1], ev("o0-again", "order", token="t", order_id="ord-0")])
    assert got == [True, True, False]  # a second report of order ord-0
    assert MAX_ORDERS_PER_TOKEN == 3
    assert sink.append(orders[2:]) == [True, False, False]  # the cap: 3 orders per token
    no_id = [ev(f"n{n}", "order", token="u") for n in range(2)]
    assert sink.append(no_id) == [True, False]  # without order ids: one order


def test_concurrent_replays_count_once(open_sink: SinkFactory) -> None:
    """Writers on their own connections (two workers, two nodes on one Redis) race to
    report one token's exposure under different event ids: it counts once."""
    open_sink().append([])  # the schema exists before the race

    def report(n: int) -> list[bool]:
        return open_sink().append([ev(f"w{n}-{i}", "exposure", token="t") for i in range(5)])

    with ThreadPoolExecutor(4) as pool:
        flags = [f for batch in pool.map(report, range(8)) for f in batch]
    assert flags.count(True) == 1


def test_count_records_claim_nothing(open_sink: SinkFactory) -> None:
    sink = open_sink()
    now = time.time()
    rec = [StoredEvent("~1", REJECTED, "1.s.b.-@-.-.1.-", "", "", now, 3.0, now, None, "stale")]
    assert sink.append(rec) + sink.append([ev("x", token="-")]) == [True, True]
    assert sink.read("", 10)[0][1].reason == "stale"


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
    assert sink.append([ev("again", token="new2")]) == [False]  # and untrimmed tokens
    assert sink.trim(sink.read("", 10)[-1][0], time.time() + 1) == 3  # all counted and old
    assert sink.read("", 10) == []
    sink.append([ev("later")])
    assert [e.event_id for _, e in sink.read(offsets[-1], 10)] == ["later"]  # offsets grow


# -- consumer groups: delivered until acknowledged, taken over once idle -----------------

GROUP = "g"


def _ids(page: list[tuple[str, StoredEvent]]) -> list[str]:
    return [e.event_id for _, e in page]


def _between(offset: str, low: str, high: str) -> bool:
    """``low <= offset < high`` (an acknowledged offset need not be an entry's)."""
    return offset_order(low) <= offset_order(offset) < offset_order(high)


def test_a_group_delivers_each_entry_until_acknowledged(open_sink: SinkFactory) -> None:
    sink = open_sink()
    sink.join(GROUP, "")
    sink.join(GROUP, "")  # joining again changes nothing
    sink.append([ev(f"e{i}") for i in range(5)])
    assert sink.acked(GROUP) == ""
    first = sink.consume(GROUP, "a", 3, 60.0)
    assert _ids(first) == ["e0", "e1", "e2"]
    sink.ack(GROUP, [o for o, _ in first])
    assert sink.acked(GROUP) == first[-1][0]
    rest = open_sink().consume(GROUP, "a", 10, 60.0)  # the group is the log's, not the client's
    assert _ids(rest) == ["e3", "e4"]
    sink.ack(GROUP, [o for o, _ in rest])
    assert sink.consume(GROUP, "a", 10, 60.0) == []
    assert sink.acked(GROUP) == rest[-1][0]
    sink.append([ev("e5")])
    assert _ids(sink.consume(GROUP, "b", 10, 60.0)) == ["e5"]
    assert open_sink().acked("another") == ""  # no such group: nothing acknowledged


def test_what_a_consumer_left_unacknowledged_is_delivered_again_once_idle(
    open_sink: SinkFactory,
) -> None:
    sink = open_sink()
    sink.join(GROUP, "")
    sink.append([ev(f"e{i}") for i in range(4)])
    taken = sink.consume(GROUP, "a", 4, 60.0)  # a acknowledges two, then crashes
    sink.ack(GROUP, [o for o, _ in taken[:2]])
    assert _between(sink.acked(GROUP), taken[1][0], taken[2][0])
    again = open_sink().consume(GROUP, "b", 10, 0.0)
    assert _ids(again) == ["e2", "e3"]
    sink.ack(GROUP, [o for o, _ in again])
    assert sink.acked(GROUP) == taken[-1][0]
    assert open_sink().consume(GROUP, "c", 10, 0.0) == []


def test_a_group_joined_at_an_offset_delivers_what_follows(open_sink: SinkFactory) -> None:
    sink = open_sink()
    sink.append([ev(f"e{i}") for i in range(3)])
    offsets = [o for o, _ in sink.read("", 10)]
    sink.join(GROUP, offsets[1])  # e0 and e1 were consumed before the group existed
    assert sink.acked(GROUP) == offsets[1]
    sink.join(GROUP, "")  # it exists: unchanged
    assert sink.acked(GROUP) == offsets[1]
    assert _ids(sink.consume(GROUP, "a", 10, 60.0)) == ["e2"]


def test_a_rewound_group_delivers_again_what_follows_the_offset(open_sink: SinkFactory) -> None:
    sink = open_sink()
    sink.join(GROUP, "")
    sink.append([ev(f"e{i}") for i in range(3)])
    taken = sink.consume(GROUP, "a", 10, 60.0)
    sink.ack(GROUP, [o for o, _ in taken])
    sink.join(GROUP, taken[0][0], rewind=True)  # the counts stop after e0 (a restore)
    again = open_sink().consume(GROUP, "b", 10, 60.0)
    assert _ids(again) == ["e1", "e2"]
    sink.ack(GROUP, [o for o, _ in again])
    assert sink.acked(GROUP) == taken[-1][0]


def test_entries_deleted_while_taken_are_not_delivered_again(open_sink: SinkFactory) -> None:
    sink = open_sink()
    sink.join(GROUP, "")
    gone = msgspec.structs.replace(ev("b1"), user_id="u2")
    sink.append([ev("a1"), gone, ev("a2")])
    assert len(sink.consume(GROUP, "a", 10, 60.0)) == 3  # a crashes
    assert sink.forget_user("u2") == 1
    again = open_sink().consume(GROUP, "b", 10, 0.0)
    assert _ids(again) == ["a1", "a2"]
    sink.ack(GROUP, [o for o, _ in again])
    assert sink.acked(GROUP) == again[-1][0]
    assert sink.consume(GROUP, "b", 10, 0.0) == []


def test_present_names_the_entries_still_in_the_log(open_sink: SinkFactory) -> None:
    sink = open_sink()
    gone = msgspec.structs.replace(ev("b1"), user_id="u2")
    sink.append([ev("a1"), gone, ev("a2")])
    offsets = [o for o, _ in sink.read("", 10)]
    assert open_sink().present(offsets) == set(offsets)
    sink.forget_user("u2")
    assert sink.present(offsets) == {offsets[0], offsets[2]}
    assert sink.present([]) == set()


def test_trim_keeps_what_a_group_has_not_acknowledged(open_sink: SinkFactory) -> None:
    sink = open_sink()
    sink.append([ev(f"e{i}") for i in range(4)])
    last = sink.read("", 10)[-1][0]
    sink.join(GROUP, "")
    later = time.time() + 1  # every entry is old enough
    assert sink.trim(last, later) == 0  # counted (the offset), but nothing acknowledged
    taken = sink.consume(GROUP, "a", 4, 60.0)
    sink.ack(GROUP, [o for o, _ in taken[:2]])
    assert sink.trim(last, later) == 2
    assert _ids(sink.read("", 10)) == ["e2", "e3"]
    assert _ids(open_sink().consume(GROUP, "b", 10, 0.0)) == ["e2", "e3"]
