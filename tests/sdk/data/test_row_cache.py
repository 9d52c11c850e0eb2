"""A Redis node keeps the table rows it decoded (``RowCache``): it fetches only the keys
it does not hold, answers exactly as Redis holds the table now (a replacement, a counter
that went back, a forgotten user), and stays within its bound."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from prism_sdk import Read, RedisBackend
from prism_sdk.data.row_cache import RowCache
from prism_sdk.data.scored import ScoredRows

from .test_redis_shelf import calls


def rows(*ids: str) -> ScoredRows:
    return ScoredRows.coded([(i, 1.0) for i in ids])


def table(node: RedisBackend, keys: list[str], name: str = "i2i", limit: int | None = None) -> Any:
    [answer] = node.read([Read("table", keys, name, limit=limit)])
    return [[i for i, _ in r] for r in answer]


def test_the_least_recently_read_keys_go_first_and_a_key_without_rows_counts_one() -> None:
    cache = RowCache(max_rows=5)
    cache.put_many([("a", rows("1", "2")), ("b", rows("3", "4")), ("empty", rows())])
    assert cache.status()["rows"] == 5
    cache.get_many(["a"])  # "b" is now the least recently read
    cache.put_many([("c", rows("5"))])
    assert [r is not None for r in cache.get_many(["a", "b", "empty", "c"])] == [
        True, False, True, True,
    ]  # fmt: skip
    cache.put_many([("huge", rows(*"123456"))])  # larger than the whole cache: not kept
    status = cache.status()
    assert status["rows"] == 4 and status["keys"] == 3 and status["evicted"] == 1
    assert cache.get_many(["huge"]) == [None]
    assert (status["hits"], status["misses"]) == (4, 1)
    with pytest.raises(ValueError, match="max_rows"):
        RowCache(0)


def test_a_second_read_fetches_only_the_keys_the_node_does_not_hold(
    writer: RedisBackend, node: RedisBackend, admin: redis.Redis
) -> None:
    writer.replace_table("i2i", {"1": [("a", 2.0), ("b", 1.0)], "2": [("c", 1.0)]})
    assert table(node, ["1", "2", "3"], limit=1) == [["a"], ["c"], []]
    mgets, trips = calls(admin, "mget"), node.round_trips
    assert table(node, ["1", "2", "3"]) == [["a", "b"], ["c"], []]  # the limit kept no slice
    assert calls(admin, "mget") == mgets and node.round_trips == trips + 1  # the pointer GET
    assert table(node, ["2", "4"]) == [["c"], []]
    assert calls(admin, "mget") == mgets + 1  # for "4" alone
    assert node.row_cache is not None and node.row_cache.status()["keys"] == 4


def test_a_replaced_table_is_read_again(writer: RedisBackend, node: RedisBackend) -> None:
    writer.replace_table("i2i", {"1": [("old", 1.0)]})
    assert table(node, ["1"]) == [["old"]]
    writer.replace_table("i2i", {"1": [("new", 1.0)]})
    assert table(node, ["1"]) == [["new"]]


def test_a_version_counter_that_went_back_never_names_rows_the_node_holds(
    writer: RedisBackend, node: RedisBackend, admin: redis.Redis
) -> None:
    """A flushed database or a failover to a replica that lagged starts the counter over."""
    writer.replace_table("i2i", {"1": [("before", 1.0)]})
    assert table(node, ["1"]) == [["before"]]
    admin.delete(*admin.keys(writer.prefix.replace("*", "\\*") + "*"))
    writer.replace_table("i2i", {"1": [("after", 1.0)]})  # counter 1 again
    assert table(node, ["1"]) == [["after"]]


def test_a_forgotten_users_row_is_gone_on_every_node(
    writer: RedisBackend, node: RedisBackend
) -> None:
    writer.replace_table("u2i_usercf", {"u1": [("a", 1.0)], "u2": [("b", 1.0)]})
    assert table(node, ["u1", "u2"], "u2i_usercf") == [["a"], ["b"]]
    writer.forget_user("u1")  # deletes the row from the current version, in place
    assert table(node, ["u1", "u2"], "u2i_usercf") == [[], ["b"]]


def test_a_node_holds_at_most_its_bound(url: str, prefix: str, writer: RedisBackend) -> None:
    writer.replace_table("i2i", {str(k): [(f"i{k}", 1.0), ("x", 0.5)] for k in range(100)})
    small = RedisBackend.from_url(url, prefix=prefix, row_cache_rows=50)
    off = RedisBackend.from_url(url, prefix=prefix, row_cache_rows=0)
    try:
        keys = [str(k) for k in range(100)]
        expected = [[f"i{k}", "x"] for k in range(100)]
        assert table(small, keys) == table(off, keys) == expected
        assert table(small, keys) == expected  # the first half was forgotten: fetched again
        assert small.row_cache is not None and small.row_cache.status()["rows"] <= 50
        assert off.row_cache is None
    finally:
        small.close()
        off.close()
