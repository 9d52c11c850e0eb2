"""Each log keeps the newest samples of a scene within its cap: rotated files deleted
oldest first, a Redis Stream trimmed by ``MAXLEN ~``, a bounded deque."""

from __future__ import annotations

import threading
from pathlib import Path

from prism_platform.samples import MemorySampleLog
from prism_platform.samples.files import FileSampleLog
from prism_platform.samples.record import encode
from prism_platform.samples.redis_log import RedisSampleLog
from prism_testkit.services import RedisServer

from .conftest import sample

TS = 1_800_000_000.25
LINE = len(encode(sample("r000", ts=TS))) + 1  # each sample of TS encodes to as many bytes


def test_files_rotate_at_their_size_and_the_oldest_go_past_the_cap(tmp_path: Path) -> None:
    log = FileSampleLog(tmp_path, file_bytes=10 * LINE, max_bytes=35 * LINE)
    for batch in range(40):  # 4 samples a batch: 160 samples, ~4.6 times the cap
        log.append([sample(f"r{batch * 4 + k:03d}", ts=TS) for k in range(4)])
    files = log.files("home_feed")
    numbers = [n for n, _ in files]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))) and numbers[0] > 1
    sizes = [p.stat().st_size for _, p in files]
    assert sum(sizes) <= 35 * LINE
    assert all(10 * LINE <= s <= 13 * LINE for s in sizes[:-1])  # rotated once full
    kept = [s.request_id for s in log.read("home_feed")]
    assert kept == [f"r{i:03d}" for i in range(160 - len(kept), 160)]  # the newest, in order
    assert len(kept) * LINE == sum(sizes)


def test_workers_appending_to_the_same_files_lose_nothing(tmp_path: Path) -> None:
    logs = [FileSampleLog(tmp_path, file_bytes=50 * LINE, max_bytes=10_000 * LINE) for _ in "ab"]

    def work(w: int) -> None:
        for batch in range(50):
            logs[w].append([sample(f"w{w}-{batch}-{k}") for k in range(5)])

    threads = [threading.Thread(target=work, args=(w,)) for w in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = [s.request_id for s in logs[0].read("home_feed")]
    assert sorted(got) == sorted(
        f"w{w}-{b}-{k}" for w in (0, 1) for b in range(50) for k in range(5)
    )
    for w in (0, 1):  # each writer's samples stay in its order
        mine = [r for r in got if r.startswith(f"w{w}-")]
        assert mine == [f"w{w}-{b}-{k}" for b in range(50) for k in range(5)]


def test_a_reader_skips_a_line_still_being_written_and_a_broken_one(tmp_path: Path) -> None:
    log = FileSampleLog(tmp_path, file_bytes=1 << 20, max_bytes=1 << 20)
    log.append([sample("r1")])
    ((_, path),) = log.files("home_feed")
    with open(path, "ab") as f:
        f.write(b'{"v": 1, "garbage"\n')  # e.g. a process killed mid-write, long ago
        f.write(encode(sample("r2")) + b"\n")
        f.write(encode(sample("r3"))[:40])  # being written right now
    assert [s.request_id for s in log.read("home_feed")] == ["r1", "r2"]


def test_a_redis_stream_keeps_about_its_cap(redis_server: RedisServer) -> None:
    log = RedisSampleLog.from_url(redis_server.url, "capped:", max_len=50)
    try:
        for batch in range(10):
            log.append([sample(f"r{batch * 100 + k:04d}") for k in range(100)])
        length = log.client.xlen(log.key("home_feed"))
        assert 50 <= length <= 150  # MAXLEN ~ trims whole stream nodes (100 entries)
        kept = [s.request_id for s in log.read("home_feed")]
        assert kept == [f"r{i:04d}" for i in range(1000 - length, 1000)]
    finally:
        log.client.delete(log.key("home_feed"))
        log.close()


def test_memory_keeps_the_newest_per_scene() -> None:
    log = MemorySampleLog(max_per_scene=3)
    log.append([sample(f"r{i}") for i in range(5)] + [sample("c1", scene="cart")])
    assert [s.request_id for s in log.read("home_feed")] == ["r2", "r3", "r4"]
    assert [s.request_id for s in log.read("cart")] == ["c1"]
