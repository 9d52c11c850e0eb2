"""The sample writer: the request path only queues references; a full queue drops and
counts instead of waiting; the thread builds the records; a clean stop stores them all."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from prism_platform.metrics.registry import Metrics
from prism_platform.samples import MemorySampleLog, Sample, SampleWriter, open_sample_log
from prism_platform.samples.files import FileSampleLog
from prism_platform.samples.redis_log import RedisSampleLog
from prism_platform.serving.sampling import ServedSample
from prism_platform.settings import Settings, SettingsError
from prism_sdk import Request
from prism_testkit.services import RedisServer


def served(rid: str, user: str = "u1") -> ServedSample:
    req = Request(scene="home_feed", user_id=user, size=2, context={"page": "p"})
    body = {
        "request_id": rid,
        "scene": "home_feed",
        "items": [{"item_id": "i1", "score": 2.0, "acm": "x"}, {"item_id": "i2", "score": 1}],
        "experiment": {"name": "default", "bucket": "base", "layers": {"ui": "b"}},
        "strategy": {"name": "home_feed", "version": "v3", "config": "default"},
        "degraded": True,
    }
    return req, body, 1_800_000_000.5, 0.0123456, "deadline"


def wait_for(cond: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


class BlockedLog(MemorySampleLog):
    """Appends wait until ``release`` is set (a store that hangs)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.entered = threading.Event()
        self.threads: list[threading.Thread] = []

    def append(self, samples: Sequence[Sample]) -> None:
        self.threads.append(threading.current_thread())
        self.entered.set()
        assert self.release.wait(30)
        super().append(samples)


def test_the_thread_builds_what_the_request_returned(tmp_path: Path) -> None:
    metrics = Metrics()
    writer = SampleWriter(MemorySampleLog(), flush_s=0.01, metrics=metrics)
    assert writer.submit(served("r1"))
    wait_for(lambda: writer.stored == 1)
    (s,) = writer.log.read("home_feed")
    assert (s.request_id, s.user_id, s.size, s.context) == ("r1", "u1", 2, {"page": "p"})
    assert (s.experiment, s.bucket, s.layers) == ("default", "base", {"ui": "b"})
    assert (s.strategy, s.config, s.items, s.scores) == (
        "home_feed@v3",
        "default",
        ["i1", "i2"],
        [2.0, 1.0],
    )
    assert (s.latency_ms, s.degraded, s.error, s.ts, s.v) == (
        12.346,
        True,
        "deadline",
        1_800_000_000.5,
        1,
    )
    assert 'prism_samples_stored_total{scene="home_feed"} 1' in metrics.render()
    writer.close()


def test_a_full_queue_drops_and_counts_without_waiting() -> None:
    log = BlockedLog()
    metrics = Metrics()
    writer = SampleWriter(log, capacity=3, flush_s=0.01, metrics=metrics)
    try:
        assert writer.submit(served("first"))
        assert log.entered.wait(30)  # the thread took it and hangs storing it
        results = [writer.submit(served(f"r{i}")) for i in range(8)]
        # every call returned while the store hangs: submitting never waits for it, and
        # only the writer's thread ever calls it
        assert results == [True] * 3 + [False] * 5
        assert writer.dropped == 5 and writer.queued == 3
        assert threading.current_thread() not in log.threads
        assert writer.status()["dropped"] == 5
        assert 'prism_samples_dropped_total{reason="buffer_full"} 5' in metrics.render()
    finally:
        log.release.set()
    writer.close()
    assert [s.request_id for s in log.read("home_feed")] == ["first", "r0", "r1", "r2"]


def test_a_clean_stop_stores_everything_accepted(tmp_path: Path) -> None:
    log = FileSampleLog(tmp_path, file_bytes=1 << 20, max_bytes=1 << 20)
    writer = SampleWriter(log, flush_s=3600)  # the thread would not flush on its own
    for i in range(1000):
        assert writer.submit(served(f"r{i}"))
    writer.close()
    again = FileSampleLog(tmp_path, file_bytes=1 << 20, max_bytes=1 << 20)
    assert [s.request_id for s in again.read("home_feed")] == [f"r{i}" for i in range(1000)]
    assert writer.stored == 1000 and writer.dropped == 0


def test_a_failing_store_drops_and_counts() -> None:
    class Broken(MemorySampleLog):
        def append(self, samples: Sequence[Sample]) -> None:
            raise OSError("disk full")

    metrics = Metrics()
    writer = SampleWriter(Broken(), metrics=metrics)
    writer.submit(served("r1"))
    writer.submit(served("r2"))
    assert writer.flush() == 0 and writer.dropped == 2
    assert 'prism_samples_dropped_total{reason="store_error"} 2' in metrics.render()
    writer.close()


def test_the_log_sits_beside_the_event_log(tmp_path: Path, redis_server: RedisServer) -> None:
    files = open_sample_log(Settings(var_dir=tmp_path, samples_file_mb=1, samples_max_mb=3))
    assert isinstance(files, FileSampleLog) and files.root == tmp_path / "samples"
    assert (files.file_bytes, files.max_bytes) == (1 << 20, 3 << 20)
    redis = open_sample_log(
        Settings(
            var_dir=tmp_path,
            events_backend="redis",
            redis_url=redis_server.url,
            redis_prefix="beside:",
            samples_stream_max=77,
        )
    )
    try:
        assert isinstance(redis, RedisSampleLog) and redis.max_len == 77
        assert redis.key("cart") == "beside:samples:cart"
    finally:
        redis.close()


def test_the_cap_must_hold_a_file() -> None:
    with pytest.raises(SettingsError, match="PRISM_SAMPLES_MAX_MB .2. must be at least") as info:
        Settings(samples_file_mb=8, samples_max_mb=2)
    assert info.value.name == "PRISM_SAMPLES_MAX_MB"
