"""Forgetting a user in both feature stores (SQLite file, Redis Stream): the records of
the user's requests go, across pages, and nobody else's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from prism_platform.events import redis_sink, sqlite_sink
from prism_platform.events.sink import read_all
from prism_platform.feature_log import LoggedRows
from prism_platform.feature_log.redis_store import RedisFeatureStore
from prism_platform.feature_log.sqlite_store import SqliteFeatureStore

from ...conftest import sqlite_or_redis
from .test_store_contract import StoreFactory


@pytest.fixture(params=["sqlite", "redis"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    yield from sqlite_or_redis(
        request, lambda: SqliteFeatureStore(tmp_path / "features.db"), RedisFeatureStore.from_url
    )


def record(rid: str, user: str) -> LoggedRows:
    return LoggedRows(rid, time.time(), "home_feed", user, "ctr", "v1", "h", ["a"], b"\0" * 16)


def test_forget_deletes_the_records_of_the_users_requests(
    open_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_sink, "SCAN_PAGE", 4)  # several pages
    monkeypatch.setattr(redis_sink, "SCAN_PAGE", 4)
    store = open_store()
    store.append([record(f"r{i}", ("u1", "u2", "u10")[i % 3]) for i in range(30)])
    assert store.forget_user("u1") == 10
    left = [r.user_id for r in read_all(open_store().read)]
    assert len(left) == 20 and set(left) == {"u2", "u10"}
    assert store.forget_user("u1") == 0
    assert store.forget_user("nobody") == 0
