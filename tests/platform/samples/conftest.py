"""Samples made up for the log and export tests, and the logs to keep them in."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from prism_platform.samples import MemorySampleLog, Sample, SampleLog
from prism_platform.samples.files import FileSampleLog
from prism_platform.samples.redis_log import RedisSampleLog


def sample(
    rid: str, *, scene: str = "home_feed", user: str = "u1", ts: float | None = None
) -> Sample:
    return Sample(
        ts=time.time() if ts is None else ts,
        request_id=rid,
        scene=scene,
        user_id=user,
        size=3,
        context={"page": "home", "n": [1, 2]},
        exclude=["x9"],
        experiment="default",
        bucket="base",
        layers={"ranking": "b"},
        strategy="home_feed@v1",
        config="default",
        items=[f"{rid}-a", f"{rid}-b"],
        scores=[0.5, 0.25],
        latency_ms=1.25,
        degraded=False,
    )


LogFactory = Callable[[], SampleLog]


@pytest.fixture(params=["memory", "files", "redis"])
def open_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LogFactory]:
    """Opens (and re-opens) one sample log: each call a fresh connection to the same data
    (the in-memory log has no other connection: the same object)."""
    opened: list[SampleLog] = []
    memory = MemorySampleLog()
    prefix = f"t{uuid.uuid4().hex[:8]}:"

    def make() -> SampleLog:
        log: SampleLog
        if request.param == "memory":
            log = memory
        elif request.param == "files":
            log = FileSampleLog(tmp_path / "samples", file_bytes=4096, max_bytes=1 << 20)
        else:
            url = request.getfixturevalue("redis_server").url
            log = RedisSampleLog.from_url(url, prefix, max_len=10_000)
        opened.append(log)
        return log

    yield make
    for log in opened:
        log.close()
