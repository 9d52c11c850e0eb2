"""Every sample log (in memory, rotated JSONL files, Redis Streams) forgets one user's
samples in every scene, and deletes the samples past the age limit."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from prism_platform.samples.files import FileSampleLog
from prism_platform.samples.record import Sample, decode

from .conftest import LogFactory, sample


def test_forget_deletes_the_users_samples_of_every_scene(open_log: LogFactory) -> None:
    log = open_log()
    odd = 'u"1\\é'  # escaped in JSON: still found
    log.append([sample(f"h{i}", user=(odd, "u2")[i % 2]) for i in range(9)])
    log.append([sample(f"c{i}", scene="cart", user=(odd, "u12")[i % 2]) for i in range(4)])
    assert log.forget_user(odd) == 7
    again = open_log()
    assert [s.request_id for s in again.read("home_feed")] == ["h1", "h3", "h5", "h7"]
    assert [s.user_id for s in again.read("cart")] == ["u12", "u12"]
    assert again.forget_user(odd) == 0


def test_trim_deletes_the_samples_served_before_the_cutoff(open_log: LogFactory) -> None:
    log = open_log()
    now = time.time()
    log.append([sample("old", ts=now - 7200), sample("old2", ts=now - 3600)])
    time.sleep(0.01)  # Redis trims by the time an entry was stored
    cutoff = time.time()
    time.sleep(0.01)
    log.append([sample("new", ts=time.time()), sample("c", scene="cart", ts=time.time())])
    assert log.trim(cutoff) == 2
    assert [s.request_id for s in open_log().read("home_feed")] == ["new"]
    assert [s.request_id for s in open_log().read("cart")] == ["c"]
    assert log.trim(cutoff) == 0


def test_files_past_the_age_limit_go_whole_and_forget_keeps_modification_times(
    tmp_path: Path,
) -> None:
    log = FileSampleLog(tmp_path, file_bytes=1, max_bytes=1 << 20)  # a file per batch
    now = time.time()
    for k, age in enumerate((9000, 8000, 10)):
        log.append([sample(f"r{k}a", ts=now - age), sample(f"r{k}b", ts=now - age, user="x")])
        path = log.files("home_feed")[-1][1]
        os.utime(path, (now - age, now - age))
    mtimes = [p.stat().st_mtime for _, p in log.files("home_feed")]
    assert log.forget_user("x") == 3
    assert [p.stat().st_mtime for _, p in log.files("home_feed")] == mtimes
    assert log.trim(now - 8500) == 1  # the first file, last written 9000 s ago
    assert [n for n, _ in log.files("home_feed")] == [2, 3]
    assert [s.request_id for s in log.read("home_feed")] == ["r1a", "r2a"]
    assert not list(tmp_path.glob("home_feed/.*.tmp"))


def test_a_trim_with_nothing_to_delete_reads_one_line_of_the_oldest_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = FileSampleLog(tmp_path, file_bytes=1 << 20, max_bytes=1 << 22)
    now = time.time()
    log.append([sample(f"r{i}", ts=now - 60 + i / 10) for i in range(200)])
    decoded: list[bytes] = []

    def counting(line: bytes) -> Sample:
        decoded.append(line)
        return decode(line)

    monkeypatch.setattr("prism_platform.samples.files.decode", counting)
    assert log.trim(now - 3600) == 0
    assert len(decoded) == 1  # the first line, not 200
    decoded.clear()
    assert log.trim(now - 50) == 100  # the first is older: read through
    assert len(decoded) == 1 + 200  # its first line, then every line
    assert [s.request_id for s in log.read("home_feed")][:1] == ["r100"]
