"""The platform's feature log: the request path only queues; a full queue drops and
counts instead of waiting; the background thread stores the returned items' rows."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from prism_platform.errors import Invalid
from prism_platform.feature_log import FeatureLogWriter, open_feature_log
from prism_platform.feature_log.sqlite_store import SqliteFeatureStore
from prism_platform.metrics.registry import Metrics
from prism_platform.settings import Settings
from prism_sdk import Item
from prism_sdk.ranking import ScoredBatch, ServedFeatures


def served(rid: str) -> ServedFeatures:
    items = tuple(Item(f"i{k}") for k in range(4))
    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    batch = ScoredBatch("ctr", "v1", "h", items, x)
    return ServedFeatures(rid, "home_feed", "u1", time.time(), ("i2", "i0"), (batch,))


def wait_for(cond: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_only_the_returned_rows_are_stored(tmp_path: Path) -> None:
    store = SqliteFeatureStore(tmp_path / "features.db")
    metrics = Metrics()
    writer = FeatureLogWriter(store, 1.0, flush_s=0.01, metrics=metrics)
    assert writer.submit(served("r1"))
    wait_for(lambda: writer.stored_rows == 2)
    writer.close()
    (rec,) = [r for _, r in SqliteFeatureStore(tmp_path / "features.db").read("", 10)]
    assert (rec.request_id, rec.item_ids, rec.model, rec.version) == (
        "r1",
        ["i2", "i0"],
        "ctr",
        "v1",
    )
    assert rec.matrix().tolist() == [[4.0, 5.0], [0.0, 1.0]]
    assert 'prism_feature_log_rows_total{model="ctr"} 2' in metrics.render()


def test_a_full_buffer_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "features.db"
    store = SqliteFeatureStore(path)
    appenders: list[threading.Thread] = []  # the thread of every call to the store
    append = store.append

    def recorded(records: Any) -> None:
        appenders.append(threading.current_thread())
        append(records)

    store.append = recorded  # type: ignore[method-assign]
    metrics = Metrics()
    writer = FeatureLogWriter(store, 1.0, capacity=5, flush_s=0.01, metrics=metrics)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # holds the write lock: the writer's flush waits
    try:
        assert writer.submit(served("first"))
        wait_for(lambda: bool(appenders))  # taken by the thread, stuck storing it
        assert len(writer._queue) == 0
        results = [writer.submit(served(f"r{i}")) for i in range(8)]
        # all returned while the store is locked: submitting never waits for it (and
        # never calls it: only the writer's thread does)
        assert results == [True] * 5 + [False] * 3
        assert writer.dropped == 3 and writer.stored_rows == 0
        assert appenders and threading.current_thread() not in appenders
        assert 'prism_feature_log_dropped_total{reason="buffer_full"} 3' in metrics.render()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    wait_for(lambda: writer.stored_rows == 12)  # "first" and the five queued, 2 rows each
    writer.close()
    ids = [r.request_id for _, r in SqliteFeatureStore(path).read("", 100)]
    assert ids == ["first"] + [f"r{i}" for i in range(5)]


def test_a_failing_store_drops_and_counts(tmp_path: Path) -> None:
    store = SqliteFeatureStore(tmp_path / "features.db")
    metrics = Metrics()
    writer = FeatureLogWriter(store, 1.0, metrics=metrics)
    store.close()  # every append now raises
    writer.submit(served("r1"))
    writer.submit(served("r2"))
    assert writer.flush() == 0 and writer.dropped == 2
    assert 'prism_feature_log_dropped_total{reason="store_error"} 2' in metrics.render()
    writer.close()


def test_the_rate_comes_from_the_environment_and_is_checked(tmp_path: Path) -> None:
    writer = open_feature_log(Settings(var_dir=tmp_path, feature_log_rate=0.25))
    assert writer.rate == 0.25 and (tmp_path / "features.db").exists()
    writer.close()
    with pytest.raises(Invalid, match="PRISM_FEATURE_LOG_RATE must be a fraction") as info:
        open_feature_log(Settings(var_dir=tmp_path, feature_log_rate=2.0))
    assert info.value.field == "PRISM_FEATURE_LOG_RATE"


def test_a_non_number_rate_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRISM_FEATURE_LOG_RATE", "lots")
    with pytest.raises(ValueError, match="PRISM_FEATURE_LOG_RATE must be a number, got 'lots'"):
        Settings()
