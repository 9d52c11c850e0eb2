"""A request's ``DataClient`` hands out the forward-index rows its reads answered again
(``remember_items``), so the platform's completion of the response's items costs no
round trip for items the strategy read; a read that failed is not remembered."""

from __future__ import annotations

from prism_sdk import DataClient, LocalBackend, RedisBackend
from prism_testkit.services import RedisServer

ROWS = {"a": {"title": "A"}, "b": {"title": "B", "status": "off"}, "c": {"title": "C"}}


def test_rows_the_request_read_are_handed_out_without_a_round_trip() -> None:
    backend = LocalBackend()
    backend.upsert_items(ROWS)
    data = DataClient(backend, remember_items=True)
    with data.batch() as b:
        b.items(["a", "b", "gone"])
    trips = data.round_trips
    backend.upsert_items({"a": {"title": "changed since"}})
    assert data.items_of_request(["b", "gone", "a"]) == [ROWS["b"], None, ROWS["a"]]
    assert data.round_trips == trips  # the rows as this request read them
    assert data.items_of_request(["c", "a"]) == [ROWS["c"], ROWS["a"]]
    assert data.round_trips == trips + 1  # "c" only
    assert data.items_of_request(["c"]) == [ROWS["c"]] and data.round_trips == trips + 1


def test_a_client_that_does_not_remember_reads_every_time() -> None:
    backend = LocalBackend()
    backend.upsert_items(ROWS)
    data = DataClient(backend)
    data.items(["a"])
    backend.upsert_items({"a": {"title": "new"}})
    assert data.items_of_request(["a"]) == [{"title": "new"}]
    assert data.round_trips == 2


def test_a_failed_read_is_not_remembered(private_redis: RedisServer) -> None:
    backend = RedisBackend.from_url(private_redis.url, timeout_ms=2000, breaker_s=0)
    try:
        backend.upsert_items(ROWS)
        data = DataClient(backend, remember_items=True)
        private_redis.stop(keep_data=True)
        assert data.items(["a"]) == [None] and data.errors  # degraded: empty values
        private_redis.restart()
        assert data.items_of_request(["a", "c"]) == [ROWS["a"], ROWS["c"]]  # read again
        assert data.round_trips == 2
    finally:
        backend.close()
