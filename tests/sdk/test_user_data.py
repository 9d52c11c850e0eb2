"""Forgetting a user and the age limit of the users' realtime events, on the embedded
backend (in memory, and read from its file) and on a real Redis (plain and a one-node
Cluster): the user's events, user-namespace features, ``u2i_`` rows and vectors go, and
nothing of anyone else's."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from prism_sdk import Event, LocalBackend, Read, RedisBackend
from prism_sdk.data.erase import UserData
from prism_sdk.data.vectors import Vectors, VectorTable

KINDS = ("local", "local-file", "redis", "redis-cluster")
Make = Callable[[], UserData]


def fill(b: LocalBackend | RedisBackend, now: float) -> None:
    for user in ("alice", "bob"):
        b.append_events(user, [Event(now - 3600 * k, f"i{k}", "click") for k in range(5)])
    b.upsert_features("user", {"alice": {"age": 30}, "bob": {"age": 40}})
    b.upsert_features("item", {"alice": {"colour": "red"}})  # an item called alice: kept
    b.replace_table("u2i_usercf", {"alice": [("i1", 1.0)], "bob": [("i2", 1.0)]})
    b.replace_table("i2i", {"alice": [("i3", 1.0)]})  # keyed by item: kept
    users = np.eye(3, 4, dtype=np.float32)[:2]
    items = np.eye(3, 4, dtype=np.float32)
    table = VectorTable(Vectors.of(["alice", "bob"], users), Vectors.of(["a", "b", "c"], items))
    b.replace_vectors("emb", table)


@pytest.fixture(params=KINDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Make]:
    """``make()``: a backend holding :func:`fill`'s data; ``local-file`` is saved and
    loaded again (and the test may load the file once more)."""
    made: list[LocalBackend | RedisBackend] = []
    now = time.time()

    def make() -> UserData:
        b: LocalBackend | RedisBackend
        if request.param.startswith("redis"):
            fixture = "redis_url" if request.param == "redis" else "redis_cluster_url"
            url = request.getfixturevalue(fixture)
            b = RedisBackend.from_url(url, prefix=f"t-{uuid.uuid4().hex[:8]}:")
        else:
            b = LocalBackend()
        fill(b, now)
        if request.param == "local-file":
            b.save(tmp_path / "data.msgpack")
            b = LocalBackend.load(tmp_path / "data.msgpack")
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


def reads(b: UserData, user: str) -> list[object]:
    assert isinstance(b, LocalBackend | RedisBackend)
    events, features, items, u2i, i2i, vectors = b.read(
        [
            Read("events", [user]),
            Read("features", [user], "user"),
            Read("features", [user], "item"),
            Read("table", [user], "u2i_usercf"),
            Read("table", [user], "i2i"),
            Read("user_vectors", [user], "emb"),
        ]
    )
    return [
        len(events[0]),
        features[0],
        items[0],
        [i for i, _ in u2i[0]],
        [i for i, _ in i2i[0]],
        vectors[0] is not None,
    ]


def test_forget_deletes_the_users_rows_and_nothing_else(
    make: Make, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    b = make()
    assert reads(b, "alice") == [5, {"age": 30}, {"colour": "red"}, ["i1"], ["i3"], True]
    gone = b.forget_user("alice")
    assert gone == {"events": 5, "features": 1, "tables": 1, "vectors": 1}
    assert reads(b, "alice") == [0, None, {"colour": "red"}, [], ["i3"], False]
    assert reads(b, "bob") == [5, {"age": 40}, None, ["i2"], [], True]
    assert b.forget_user("alice") == {"events": 0, "features": 0, "tables": 0, "vectors": 0}
    if request.node.callspec.params["make"] == "local-file":  # a restart finds no alice
        again = LocalBackend.load(tmp_path / "data.msgpack")
        assert reads(again, "alice") == [0, None, {"colour": "red"}, [], ["i3"], False]
        assert reads(again, "bob") == [5, {"age": 40}, None, ["i2"], [], True]


def test_a_forgotten_user_is_gone_from_the_nearest_items_query(make: Make) -> None:
    b = make()
    assert isinstance(b, LocalBackend | RedisBackend)
    near = Read("nearest", ["alice", "bob"], "emb", limit=2)
    before = b.read([near])[0]
    assert before[0] and before[1]
    b.forget_user("alice")
    after = b.read([near])[0]
    assert after[0] == [] and [i for i, _ in after[1]] == [i for i, _ in before[1]]


def test_trim_events_deletes_every_users_old_events_only(make: Make) -> None:
    b = make()
    now = time.time()
    assert b.trim_events(now - 2.5 * 3600) == 4  # the two oldest of alice and of bob
    assert reads(b, "alice")[0] == reads(b, "bob")[0] == 3
    assert b.trim_events(now - 2.5 * 3600) == 0
    assert b.trim_events(now + 60) == 6
    assert reads(b, "alice")[0] == 0
    if isinstance(b, LocalBackend):
        assert b.events == {}  # users left with none are dropped


def test_redis_appends_keep_the_age_limit_and_idle_users_expire(redis_url: str) -> None:
    b = RedisBackend.from_url(redis_url, prefix=f"t-{uuid.uuid4().hex[:8]}:", events_max_age_s=60)
    try:
        now = time.time()
        b.append_events("u", [Event(now - 120, "old", "click"), Event(now - 5, "new", "click")])
        got = b.read([Read("events", ["u"])])[0][0]
        assert [e.item_id for e in got] == ["new"]  # the old one went with the append
        ttl = b.client.ttl(f"{b.prefix}e:u")
        assert 0 < ttl <= 60  # the key goes 60 s after the user's last append
    finally:
        b.close()
