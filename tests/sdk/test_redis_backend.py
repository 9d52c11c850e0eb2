"""Redis-specific behaviour of RedisBackend (the shared contract is in test_data_contract)."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import redis.utils

from prism_platform.data.backend import open_backend
from prism_platform.settings import Settings
from prism_sdk import DataClient, Event, LocalBackend, Read, RedisBackend
from prism_sdk.data.redis_io import encode

Make = Callable[..., RedisBackend]


@pytest.fixture(params=["single", "cluster"])
def make(request: pytest.FixtureRequest) -> Iterator[Make]:
    """Build backends on one server (a plain Redis, then a one-node Redis Cluster).

    Backends made in one test share a fresh prefix unless given their own.
    """
    url = request.getfixturevalue("redis_url" if request.param == "single" else "redis_cluster_url")
    shared = f"t-{uuid.uuid4().hex}:"
    made: list[RedisBackend] = []

    def make(prefix: str | None = None, **kwargs: Any) -> RedisBackend:
        made.append(RedisBackend.from_url(url, prefix=prefix or shared, **kwargs))
        return made[-1]

    yield make
    for b in made:
        b.close()


def _keys(b: RedisBackend, pattern: str = "*") -> set[str]:
    return {k.decode() for k in b.client.scan_iter(match=b.prefix + pattern, count=1000)}


def test_speaks_resp2_through_hiredis(redis_url: str) -> None:
    b = RedisBackend.from_url(redis_url)
    try:
        assert b.client.client_info()["resp"] == "2"
        assert redis.utils.HIREDIS_AVAILABLE
        conn = b.client.connection_pool.get_connection()
        assert type(conn._parser).__name__ == "_HiredisParser"
        b.client.connection_pool.release(conn)
    finally:
        b.close()


def test_the_platform_opens_it_from_settings(redis_url: str) -> None:
    settings = Settings(data_backend="redis", redis_url=redis_url, redis_prefix="platform:")
    b = open_backend(settings)
    try:
        assert isinstance(b, RedisBackend) and b.prefix == "platform:"
        assert b.read([Read("items", ["x"])]) == [[None]]
    finally:
        b.close()


def test_a_whole_batch_is_one_round_trip(make: Make) -> None:
    b = make()
    b.replace_table("i2i", {"1": [("2", 0.5)]})
    b.upsert_items({"1": {"t": 1}})
    b.upsert_features("user", {"u": {"age": 3}})
    b.append_events("u", [Event(1.0, "1", "click")])
    client = DataClient(b)
    with client.batch() as batch:
        t = batch.tables("i2i", ["1", "9"])
        i = batch.items(["1"])
        f = batch.features_many("user", ["u"])
        e = batch.events(["u", "v"])
    assert b.round_trips == 1 and client.round_trips == 1
    assert t.value == [[("2", 0.5)], []] and i.value == [{"t": 1}] and f.value == [{"age": 3}]
    assert e.value == [[Event(1.0, "1", "click")], []]
    assert b.read([Read("items", [])]) == [[]] and b.round_trips == 1  # nothing to send


def test_a_new_reader_resolves_a_table_version_once(make: Make) -> None:
    make().replace_table("i2i", {"1": [("2", 0.5)]})
    reader = make()
    for expected_trips in (2, 3, 4):
        assert reader.read([Read("table", ["1"], "i2i")]) == [[[("2", 0.5)]]]
        assert reader.round_trips == expected_trips
    assert reader.read([Read("table", ["1"], "absent")]) == [[[]]]


def test_a_replacement_is_seen_whole_and_the_old_version_is_deleted(make: Make) -> None:
    writer, reader = make(), make()
    writer.replace_table("i2i", {str(k): [("old", 1.0)] for k in range(3000)})
    assert reader.read([Read("table", ["1"], "i2i")]) == [[[("old", 1.0)]]]
    writer.replace_table("i2i", {"1": [("new", 2.0)], "2": [("new", 2.0)]})
    trips = reader.round_trips
    assert reader.read([Read("table", ["1", "2", "3"], "i2i")]) == [
        [[("new", 2.0)], [("new", 2.0)], []]
    ]
    assert reader.round_trips == trips + 2  # stale cached version: read again
    assert len(_keys(reader, "{t:i2i}:*")) == 2 + 2  # two rows, the pointer, the counter


def test_readers_during_replacements_see_one_whole_version(make: Make) -> None:
    writer, reader = make(), make()
    keys = [str(k) for k in range(2000)]
    writer.replace_table("i2i", {k: [("v", 0.0)] for k in keys})
    done = threading.Event()
    seen: list[set[tuple[str, float]]] = []

    def read_loop() -> None:
        rng = random.Random(1)
        while not done.is_set():
            [rows] = reader.read([Read("table", rng.sample(keys, 300), "i2i")])
            seen.append(
                {r for row in rows for r in row} | ({("empty", -1.0)} if [] in rows else set())
            )

    thread = threading.Thread(target=read_loop)
    thread.start()
    try:
        for version in range(1, 15):
            writer.replace_table("i2i", {k: [("v", float(version))] for k in keys})
    finally:
        done.set()
        thread.join()
    assert len(seen) > 10
    assert all(len(s) == 1 and ("empty", -1.0) not in s for s in seen), seen
    assert len(_keys(writer, "{t:i2i}:*")) == len(keys) + 2


def test_each_user_keeps_the_newest_events_up_to_the_cap(make: Make) -> None:
    b = make(events_cap=5)
    b.append_events("u", [Event(float(t), str(t), "click") for t in range(8)])
    b.append_events("u", [Event(float(t), str(t), "view") for t in (3.5, 20.0)])
    [[events]] = b.read([Read("events", ["u"])])
    assert [e.item_id for e in events] == ["20.0", "7", "6", "5", "4"]
    assert b.client.zcard(b.prefix + "e:u") == 5


def test_prefixes_isolate_backends_on_one_server(make: Make) -> None:
    a, c = make(prefix=f"a-{uuid.uuid4().hex}:"), make(prefix=f"c-{uuid.uuid4().hex}:")
    for backend, tag in ((a, "a"), (c, "c")):
        backend.replace_table("i2i", {"1": [(tag, 1.0)]})
        backend.upsert_items({"1": {"owner": tag}})
    a.replace_table("i2i", {"1": [("a2", 1.0)]})  # deletes a's old version only
    reads = [Read("table", ["1"], "i2i"), Read("items", ["1"])]
    assert a.read(reads) == [[[("a2", 1.0)]], [{"owner": "a"}]]
    assert c.read(reads) == [[[("c", 1.0)]], [{"owner": "c"}]]
    assert _keys(a) and all(k.startswith(a.prefix) for k in _keys(a))


def test_numpy_scores_and_timestamps_are_stored_as_floats(make: Make) -> None:
    b = make()
    b.replace_table("i2i", {"1": [("2", np.float32(0.5)), ("3", np.float64(0.25))]})
    b.append_events("u", [Event(np.float64(5.0), "1", "click")])  # type: ignore[arg-type]
    assert b.read([Read("table", ["1"], "i2i"), Read("events", ["u"])]) == [
        [[("2", 0.5), ("3", 0.25)]],
        [[Event(5.0, "1", "click")]],
    ]


def test_rows_and_events_no_read_could_decode_are_refused_when_written(make: Make) -> None:
    """A non-string item id used to be written, and then every read of a batch holding
    its key failed; now the write fails, and the table in place serves on."""
    b = make()
    b.replace_table("i2i", {"1": [("2", 0.5)]})
    with pytest.raises(TypeError, match="item ids are strings"):
        b.replace_table("i2i", {"1": [(np.int64(7), 1.0)]})  # type: ignore[list-item]
    with pytest.raises(TypeError, match="are strings"):
        b.append_events("u", [Event(1.0, "1", "click"), Event(2.0, 7, "click")])  # type: ignore[arg-type]
    assert b.read([Read("table", ["1"], "i2i"), Read("events", ["u"])]) == [[[("2", 0.5)]], [[]]]


def _random_world(rng: random.Random, writers: list[Any]) -> None:
    """The same random writes to every writer (ties in time only among in-order appends)."""
    for _ in range(2):
        table = {
            str(k): [(str(rng.randrange(99)), rng.random()) for _ in range(rng.randrange(8))]
            for k in range(40)
        }
        for w in writers:
            w.replace_table("t", table)
    for _ in range(3):
        items = {str(rng.randrange(30)): {f"f{rng.randrange(4)}": rng.random()} for _ in range(20)}
        for w in writers:
            w.upsert_items(items)
            w.upsert_features("user", {k: {"n": len(v)} for k, v in items.items()})
    for w in writers:
        w.delete_items([str(k) for k in range(0, 30, 7)])
    clock = 0.0
    for n in range(30):
        user = f"u{rng.randrange(4)}"
        batch = []
        for _ in range(rng.randrange(1, 5)):
            clock += rng.choice((0.0, 1.0))
            batch.append(Event(clock, str(rng.randrange(20)), rng.choice(("click", "view", "buy"))))
        if n % 7 == 3:
            batch = [Event(n + 0.5, "late", "click")]  # out of order, a unique time
        for w in writers:
            w.append_events(user, batch)


def test_answers_random_reads_exactly_like_the_local_backend(make: Make) -> None:
    rng = random.Random(7)
    redis_b, local = make(), LocalBackend()
    _random_world(rng, [redis_b, local])
    limits = (None, -1, 0, 1, 3, 100)
    for _ in range(40):
        keys = [str(rng.randrange(45)) for _ in range(rng.randrange(0, 6))]
        users = [f"u{rng.randrange(6)}" for _ in range(rng.randrange(0, 4))]
        reads = [
            Read("table", keys, "t", rng.choice(limits)),
            Read("table", keys, "missing"),
            Read("items", keys),
            Read("features", keys, "user"),
            Read(
                "events",
                users,
                limit=rng.choice(limits),
                since=rng.choice((None, 5.0, 20.5)),
                types=rng.choice((None, ("click",), ("view", "buy"))),
            ),
        ]
        assert redis_b.read(reads) == local.read(reads)


def test_a_table_loaded_in_the_first_format_still_reads(make: Make) -> None:
    """Values written before the columnar format (``[[item, score], ...]``) keep serving;
    a reload writes the current format."""
    b = make()
    head = f"{b.prefix}{{t:i2i}}:"
    b.client.set(head + "1:1", encode([["2", 0.5], ["3", 0.25]]))
    b.client.set(head + "n", "1")
    b.client.set(head + "p", "1")
    assert b.read([Read("table", ["1", "2"], "i2i", limit=1)]) == [[[("2", 0.5)], []]]
    b.replace_table("i2i", {"1": [("4", 1.0)]})
    version = b.client.get(head + "p").decode()  # type: ignore[union-attr]
    assert version.startswith("2.")  # the counter, then the random part
    assert b.client.get(f"{head}{version}:1")[:1] == b"\xc1"  # type: ignore[index]
    assert b.read([Read("table", ["1"], "i2i")]) == [[[("4", 1.0)]]]


def test_a_read_budget_applies_on_plain_and_cluster_clients(make: Make) -> None:
    b = make(timeout_ms=1000)  # a live read on a busy machine may take more than 30 ms
    b.replace_table("i2i", {"1": [("2", 0.5)]})
    assert b.read_within([Read("table", ["1"], "i2i")], 1.0) == [[[("2", 0.5)]]]
    refused = (redis.exceptions.TimeoutError, redis.exceptions.RedisClusterException)
    with pytest.raises(refused, match="read budget spent"):
        b.read_within([Read("items", ["1"])], 0.0)  # nothing left: never sent
    assert b.read([Read("table", ["1"], "i2i")]) == [[[("2", 0.5)]]]  # a larger budget tries
    assert b.read_within([Read("table", ["1"], "i2i")], 1.0) == [[[("2", 0.5)]]]


def _idle_connections(client: Any) -> int:
    from redis.cluster import RedisCluster

    pools = (
        [n.redis_connection.connection_pool for n in client.get_nodes()]
        if isinstance(client, RedisCluster)
        else [client.connection_pool]
    )
    return sum(len(p._available_connections) for p in pools)


def test_warming_connects_the_reader_to_every_server(make: Make) -> None:
    """A node's first read would otherwise connect inside its request's read budget (a
    cluster client connects to its nodes when it is made, to learn the slots)."""
    b = make(timeout_ms=200)
    assert b._reader is not b.client
    b.warm()
    assert _idle_connections(b._reader) >= 1


def test_a_plain_reader_connects_when_warmed_not_when_made(redis_url: str) -> None:
    b = RedisBackend.from_url(redis_url, timeout_ms=200)
    try:
        assert _idle_connections(b._reader) == 0
        b.warm()
        assert _idle_connections(b._reader) == 1
    finally:
        b.close()
