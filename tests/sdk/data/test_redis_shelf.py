"""The off-shelf check of ``nearest`` hits on Redis: a node's copy of the off-shelf set,
the per-search question above its cap, and rows read one by one for data written before
the set existed; every way answers as the rows say, as soon as a write lands."""

from __future__ import annotations

import pytest
import redis

from prism_sdk import DataClient, RedisBackend

from .test_nearest import fill

CAPS = {"copy": 20_000, "asked": 0}


def found(node: RedisBackend, k: int = 5) -> list[str]:
    return [i for i, _ in DataClient(node).nearest("emb", "u1", k)]


def calls(client: redis.Redis, command: str) -> int:
    stats = client.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


@pytest.mark.parametrize("way", CAPS)
def test_a_node_sees_an_item_leave_and_come_back_at_its_next_read(
    writer: RedisBackend, node: RedisBackend, way: str
) -> None:
    node.shelf.cap = CAPS[way]
    fill(writer)
    best = found(node, 6)
    writer.upsert_items({best[0]: {"status": "off"}})
    assert found(node) == best[1:6]
    writer.upsert_items({best[0]: {"price": 3}})  # a partial update keeps it off
    assert found(node) == best[1:6]
    writer.upsert_items({best[0]: {"status": "on"}})
    assert found(node) == best[:5]
    writer.upsert_items({best[1]: {"status": "sold out"}})  # anything but "on" is off
    writer.delete_items([best[2]])  # a deleted item has no row: it counts as on
    assert found(node) == [best[0], *best[2:6]]


def test_a_node_fetches_the_set_once_per_change(
    writer: RedisBackend, node: RedisBackend, admin: redis.Redis
) -> None:
    fill(writer)
    writer.upsert_items({found(node)[0]: {"status": "off"}})
    before = calls(admin, "smembers")
    for _ in range(3):
        found(node)
    assert calls(admin, "smembers") == before + 1
    version = admin.get(writer.shelf.version_key)
    writer.upsert_items({"i7": {"price": 1}, "i8": {"title": "new"}})  # nobody moved
    assert admin.get(writer.shelf.version_key) == version
    found(node)
    assert calls(admin, "smembers") == before + 1
    writer.upsert_items({"i7": {"status": "off"}})
    found(node)
    assert calls(admin, "smembers") == before + 2


def test_data_from_before_the_set_is_read_row_by_row_until_a_writer_builds_it(
    writer: RedisBackend, admin: redis.Redis, url: str, prefix: str
) -> None:
    fill(writer)
    best = found(writer, 7)
    writer.upsert_items({best[0]: {"status": "off"}, best[3]: {"status": "off"}})
    expected = [best[1], best[2], *best[4:7]]
    admin.delete(writer.shelf.off_key, writer.shelf.version_key)  # as an older writer left it
    node = RedisBackend.from_url(url, prefix=prefix)
    try:
        rows_read = calls(admin, "mget")
        assert found(node) == expected
        assert calls(admin, "mget") > rows_read + 1  # the user vectors', and the hits' rows
        later = RedisBackend.from_url(url, prefix=prefix)  # a writer of this version
        later.upsert_items({"i9": {"price": 2}})  # builds the set from every item first
        later.close()
        assert {m.decode() for m in admin.smembers(writer.shelf.off_key)} == {best[0], best[3]}
        rows_read = calls(admin, "mget")
        assert found(node) == expected
        assert calls(admin, "mget") == rows_read + 1  # the user vectors' only: no row reads
    finally:
        node.close()


def test_a_counter_that_went_back_never_names_a_nodes_copy(
    writer: RedisBackend, node: RedisBackend, admin: redis.Redis
) -> None:
    """A flushed database, or a failover to a replica that lagged, loses the counter: it
    starts again from a random value, not through values a node's copy was filed under."""
    fill(writer)
    best = found(node, 7)
    writer.upsert_items({best[0]: {"status": "off"}})
    assert found(node) == best[1:6]  # the node's copy: best[0] is off
    for key in admin.keys(writer.prefix + "*"):  # one by one: a cluster's keys have slots
        admin.delete(key)
    fill(writer)  # the same items and vectors, all on
    found(node)  # notices the vectors' new version
    node.vectors.wait(30)
    writer.upsert_items({best[1]: {"status": "off"}})
    writer.upsert_items({best[2]: {"status": "off"}})
    assert found(node) == [best[0], *best[3:7]]
