"""``ctx.data.nearest`` and vector reads on every backend, and how a new or broken
vector table version is served."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import msgspec
import numpy as np
import pytest
import redis

from prism_sdk import DataClient, LocalBackend, RedisBackend
from prism_sdk.data import DataSnapshot, DataWriter, RecordingBackend, SnapshotBackend
from prism_sdk.data.vectors import Vectors, VectorTable, VectorTableError

from ..conftest import BACKEND_KINDS, MakeBackend

ITEMS = [f"i{i}" for i in range(300)]


def vectors(seed: int = 0, users: tuple[str, ...] = ("u1", "u2")) -> VectorTable:
    rng = np.random.default_rng(seed)
    return VectorTable(
        Vectors.of(list(users), rng.normal(size=(len(users), 8))),
        Vectors.of(ITEMS, rng.normal(size=(len(ITEMS), 8))),
        {"method": "als"},
    )


def exact(t: VectorTable, q: np.ndarray) -> list[str]:
    return [t.items.ids[i] for i in np.argsort(-(t.items.matrix @ q), kind="stable")]


def fill(writer: DataWriter) -> None:
    writer.upsert_items({i: {"title": i} for i in ITEMS})
    writer.replace_vectors("emb", vectors())


@pytest.mark.parametrize("kind", BACKEND_KINDS)
def test_every_backend_answers_nearest(make_backend: MakeBackend, kind: str) -> None:
    t = vectors()
    best = exact(t, t.users.matrix[0])
    off = best[2]

    def filled(writer: DataWriter) -> None:
        fill(writer)
        writer.upsert_items({off: {"status": "off"}})

    data = DataClient(make_backend(kind, filled))
    hits = data.nearest("emb", "u1", 10, exclude={best[0]})
    expected = [i for i in best if i not in (best[0], off)][:10]
    assert [i for i, _ in hits] == expected
    assert np.allclose(
        [s for _, s in hits],
        t.items.matrix[[ITEMS.index(i) for i in expected]] @ t.users.matrix[0],
        rtol=1e-5,
    )
    by_vector = data.nearest("emb", t.users.matrix[1], 5)
    assert [i for i, _ in by_vector] == [i for i in exact(t, t.users.matrix[1]) if i != off][:5]
    assert data.nearest("emb", "nobody", 5) == []
    assert data.nearest("no-such-table", "u1", 5) == []
    with data.batch() as b:
        many = b.nearest("emb", ["u1", "nobody", "u2"], 3)
        users = b.vectors("emb", ["u2", "nobody"])
        items = b.vectors("emb", [ITEMS[7]], side="item")
        rows = b.tables("i2i", ["x"])
    assert [len(h) for h in many.value] == [3, 0, 3]
    assert np.array_equal(users.value[0], t.users.matrix[1]) and users.value[1] is None
    assert np.array_equal(items.value[0], t.items.matrix[7])
    assert [list(r) for r in rows.value] == [[]]
    assert data.errors == []


def test_local_replace_keeps_serving_the_old_version_when_the_new_one_is_bad() -> None:
    backend = LocalBackend()
    fill(backend)
    before = DataClient(backend).nearest("emb", "u1", 5)
    bad = VectorTable(vectors().users, Vectors.of(ITEMS, np.full((len(ITEMS), 8), np.inf)))
    with pytest.raises(VectorTableError, match="infinite"):
        backend.replace_vectors("emb", bad)
    assert DataClient(backend).nearest("emb", "u1", 5) == before


def test_local_vectors_survive_save_and_load(tmp_path: Path) -> None:
    backend = LocalBackend()
    fill(backend)
    path = f"{tmp_path}/data.msgpack"
    backend.save(path)
    loaded = LocalBackend.load(path)
    assert DataClient(loaded).nearest("emb", "u2", 7) == DataClient(backend).nearest("emb", "u2", 7)


def test_an_item_back_on_shelf_is_found_again(tmp_path: Path) -> None:
    backend = LocalBackend()
    fill(backend)
    data = DataClient(backend)
    best = [i for i, _ in data.nearest("emb", "u1", 3)]
    backend.upsert_items({best[0]: {"status": "off"}})
    assert best[0] not in [i for i, _ in data.nearest("emb", "u1", 3)]
    backend.save(tmp_path / "data.msgpack")  # a loaded copy knows what is off shelf
    loaded = DataClient(LocalBackend.load(tmp_path / "data.msgpack"))
    assert best[0] not in [i for i, _ in loaded.nearest("emb", "u1", 3)]
    backend.upsert_items({best[0]: {"price": 3}})  # a partial update keeps it off
    assert best[0] not in [i for i, _ in data.nearest("emb", "u1", 3)]
    backend.upsert_items({best[0]: {"status": "on"}})
    assert [i for i, _ in data.nearest("emb", "u1", 3)] == best


def test_item_vectors_come_gathered_as_one_matrix() -> None:
    backend = LocalBackend()
    fill(backend)
    t = vectors()
    rows = DataClient(backend).vectors("emb", [ITEMS[5], "nobody", ITEMS[0]], side="item")
    assert rows[1] is None and np.array_equal(rows[0], t.items.matrix[5])
    assert np.array_equal(rows.matrix[[0, 2]], t.items.matrix[[5, 0]])
    assert rows.present.tolist() == [True, False, True]
    assert not rows.matrix[1].any()


def test_a_loaded_local_backend_builds_its_indexes_when_warmed(tmp_path: Path) -> None:
    backend = LocalBackend()
    fill(backend)
    backend.save(tmp_path / "data.msgpack")
    loaded = LocalBackend.load(tmp_path / "data.msgpack")
    assert loaded.vector_status()["emb"]["index"] == "built on first read"
    loaded.warm()
    assert loaded.vector_status()["emb"]["items"] == len(ITEMS)


def test_a_new_redis_node_builds_every_published_index_when_warmed(
    redis_backend: RedisBackend, redis_url: str
) -> None:
    fill(redis_backend)
    redis_backend.replace_vectors("other", vectors(seed=2))
    redis_backend.replace_vectors("other", vectors(seed=3))  # version 2 is current
    fresh = RedisBackend.from_url(redis_url, prefix=redis_backend.prefix)
    try:
        assert fresh.vector_status() == {}
        fresh.warm()
        status = fresh.vector_status()
        assert sorted(status) == ["emb", "other"]
        assert status["other"]["version"] == current(fresh, "other")
        assert current(fresh, "other").startswith("2.")  # the counter, then a random part
        t = vectors(seed=3)
        hits = DataClient(fresh).nearest("other", "u1", 5)
        assert [i for i, _ in hits] == exact(t, t.users.matrix[0])[:5]
    finally:
        fresh.close()


def current(backend: RedisBackend, name: str = "emb") -> str:
    """The version vector table ``name`` serves (its pointer)."""
    return backend.client.get(backend.vectors.head(name) + "p").decode()  # type: ignore[union-attr]


def test_a_table_published_after_the_counter_went_back_is_served(
    redis_backend: RedisBackend, redis_url: str
) -> None:
    """A flushed database, or a failover to a replica that lagged, counts versions again
    from where it stands: a node's index is never taken for the new table's."""
    fill(redis_backend)
    data = DataClient(redis_backend)
    data.nearest("emb", "u1", 5)  # this node builds version 1
    raw = redis.Redis.from_url(redis_url)
    raw.delete(*raw.keys(redis_backend.prefix + "*"))
    new = vectors(seed=4)
    redis_backend.replace_vectors("emb", new)  # counter 1 again
    data.nearest("emb", "u1", 5)  # notices the version, builds it
    redis_backend.vectors.wait(30)
    assert [i for i, _ in data.nearest("emb", "u1", 5)] == exact(new, new.users.matrix[0])[:5]


@pytest.fixture
def redis_backend(redis_url: str) -> RedisBackend:
    backend = RedisBackend.from_url(redis_url, prefix=f"test-{uuid.uuid4().hex}:")
    yield backend  # type: ignore[misc]
    backend.close()


def test_redis_builds_a_new_version_while_the_old_one_serves(redis_backend: RedisBackend) -> None:
    fill(redis_backend)
    data = DataClient(redis_backend)
    old = vectors()
    assert [i for i, _ in data.nearest("emb", "u1", 5)] == exact(old, old.users.matrix[0])[:5]
    new = vectors(seed=1, users=("u1", "u3"))
    redis_backend.replace_vectors("emb", new)
    # this read sees the new pointer: it starts the build and is served by the old index
    first = data.nearest("emb", "u1", 5)
    assert [i for i, _ in first] == exact(old, old.users.matrix[0])[:5]
    redis_backend.vectors.wait(30)
    assert [i for i, _ in data.nearest("emb", "u1", 5)] == exact(new, new.users.matrix[0])[:5]
    assert len(data.nearest("emb", "u3", 5)) == 5 and data.nearest("emb", "u2", 5) == []
    status = redis_backend.vectors.status()["emb"]
    assert status["version"] == current(redis_backend) and status["items"] == len(ITEMS)
    assert "error" not in status


def test_redis_corrupt_version_leaves_the_previous_one_serving(
    redis_backend: RedisBackend, redis_url: str
) -> None:
    fill(redis_backend)
    data = DataClient(redis_backend)
    before, old = data.nearest("emb", "u1", 5), current(redis_backend)
    redis_backend.replace_vectors("emb", vectors(seed=1))
    raw = redis.Redis.from_url(redis_url)
    raw.set(f"{redis_backend.vectors.head('emb')}{current(redis_backend)}:i:0", b"\x93garbage")
    data.nearest("emb", "u1", 5)  # notices version 2, whose build fails
    redis_backend.vectors.wait(30)
    assert data.nearest("emb", "u1", 5) == before
    status = redis_backend.vectors.status()["emb"]
    assert status["version"] == old and f"version {current(redis_backend)}" in status["error"]
    assert "corrupt" in status["error"]
    assert data.errors == []


def test_redis_first_read_of_a_broken_table_is_a_clear_error(
    redis_backend: RedisBackend, redis_url: str
) -> None:
    fill(redis_backend)
    head = redis_backend.vectors.head("emb")
    redis.Redis.from_url(redis_url).delete(f"{head}{current(redis_backend)}:meta")
    fresh = RedisBackend.from_url(redis_url, prefix=redis_backend.prefix)
    try:
        data = DataClient(fresh)
        assert data.nearest("emb", "u1", 5) == []
        assert len(data.errors) == 1 and "no meta key" in data.errors[0]
    finally:
        fresh.close()


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_new_versions_swap_under_load_without_a_failed_read(
    make_backend: MakeBackend, kind: str
) -> None:
    tables = [vectors(seed=0), vectors(seed=1)]
    answers = [exact(t, t.users.matrix[0])[:10] for t in tables]
    backend = make_backend(kind, fill)
    stop = threading.Event()
    seen: list[list[str]] = []
    failures: list[str] = []

    def reader() -> None:
        data = DataClient(backend)
        while not stop.is_set():
            got = [i for i, _ in data.nearest("emb", "u1", 10)]
            if got not in answers or data.errors:
                failures.append(f"{got} {data.errors}")
            seen.append(got)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for n in range(1, 5):
            backend.replace_vectors("emb", tables[n % 2])
            if isinstance(backend, RedisBackend):
                time.sleep(0.05)  # a read notices the version and starts its build
                backend.vectors.wait(30)
            time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert failures == []
    assert answers[0] in seen and answers[1] in seen


def test_local_files_written_before_vector_tables_still_load(tmp_path: Path) -> None:
    old = (1, {}, {"t": {"k": [("i", 1.0)]}}, {"i": {"title": "x"}}, {})
    (tmp_path / "v1.msgpack").write_bytes(msgspec.msgpack.encode(old))
    loaded = LocalBackend.load(tmp_path / "v1.msgpack")
    assert loaded.tables == {"t": {"k": [("i", 1.0)]}} and loaded.vector_tables == {}
    assert DataClient(loaded).nearest("emb", "u1", 3) == []


def test_data_snapshots_record_and_serve_vector_reads(tmp_path: Path) -> None:
    backend = LocalBackend()
    fill(backend)
    t = vectors()
    recorder = RecordingBackend(backend)
    recording = DataClient(recorder)
    live = recording.nearest("emb", "u1", 10, exclude={"i5"})
    by_vector = recording.nearest("emb", t.users.matrix[1], 4)
    user_vectors = recording.vectors("emb", ["u2", "nobody"])
    assert recording.errors == []
    saved = recorder.snapshot.save(tmp_path / "snap.json")
    served = SnapshotBackend(DataSnapshot.load(saved))
    replay = DataClient(served)
    assert replay.nearest("emb", "u1", 10, exclude={"i5"}) == live
    assert replay.nearest("emb", "u1", 3, exclude={"i5"}) == live[:3]  # a shorter list
    assert replay.nearest("emb", t.users.matrix[1], 4) == by_vector
    got = replay.vectors("emb", ["u2", "nobody"])
    assert np.array_equal(got[0], user_vectors[0]) and got[1] is None
    assert replay.errors == []
    assert replay.nearest("emb", "u1", 10) == [] and served.misses == 1  # another exclude
