"""One contract, both feature stores (SQLite file, Redis Stream): records come back in
order, bit for bit, across connections and pages; trimming drops only old records."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from prism_platform.events.sink import read_all
from prism_platform.feature_log import FeatureStore, LoggedRows
from prism_platform.feature_log.redis_store import RedisFeatureStore
from prism_platform.feature_log.sqlite_store import SqliteFeatureStore

from ...conftest import sqlite_or_redis

StoreFactory = Callable[[], FeatureStore]


@pytest.fixture(params=["sqlite", "redis"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens (and re-opens) one store: each call is a fresh connection to the same data."""
    yield from sqlite_or_redis(
        request, lambda: SqliteFeatureStore(tmp_path / "features.db"), RedisFeatureStore.from_url
    )


def record(rid: str, ts: float | None = None, n: int = 3) -> LoggedRows:
    x = np.arange(n * 4, dtype=np.float32).reshape(n, 4) / 7
    x[0, 1] = np.nan
    ids = [f"{rid}-i{k}" for k in range(n)]
    when = time.time() if ts is None else ts
    return LoggedRows(rid, when, "home_feed", "u1", "ctr", "v2", "abc123", ids, x.tobytes())


def test_records_come_back_in_order_and_bit_equal(open_store: StoreFactory) -> None:
    store = open_store()
    sent = [record(f"r{i}") for i in range(5)]
    store.append(sent[:2])
    store.append(sent[2:])
    store.append([])
    got = [r for _, r in store.read("", 100)]
    assert got == sent
    assert got[0].matrix().tobytes() == sent[0].matrix().tobytes()
    assert np.isnan(got[0].matrix()[0, 1]) and got[0].matrix().shape == (3, 4)


def test_pages_follow_offsets_across_connections(open_store: StoreFactory) -> None:
    first = open_store()
    first.append([record(f"r{i}") for i in range(25)])
    first.close()
    store = open_store()
    page = store.read("", 10)
    assert len(page) == 10 and all(isinstance(o, str) for o, _ in page)
    assert [r.request_id for _, r in store.read(page[-1][0], 3)] == ["r10", "r11", "r12"]
    assert [r.request_id for r in read_all(store.read, page=4)] == [f"r{i}" for i in range(25)]
    assert store.name


def test_trim_drops_only_records_older_than_the_cutoff(open_store: StoreFactory) -> None:
    store = open_store()
    store.append([record("old", ts=time.time() - 3600)])
    time.sleep(0.01)  # Redis trims by the time it stored an entry
    cutoff = time.time()
    time.sleep(0.01)
    store.append([record("new")])
    assert store.trim(cutoff) == 1  # SQLite: by serving time; Redis: by storing time
    assert [r.request_id for _, r in store.read("", 10)] == ["new"]
    assert store.trim(cutoff) == 0


def test_a_record_whose_bytes_do_not_make_its_rows_says_so() -> None:
    bad = LoggedRows("r9", 0.0, "s", "u", "m", "v", "h", ["a", "b"], b"\x00" * 12)
    with pytest.raises(ValueError, match="request r9: 3 values do not make 2 rows"):
        bad.matrix()
