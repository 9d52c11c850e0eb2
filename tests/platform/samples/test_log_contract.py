"""One contract, every sample log (in memory, rotated JSONL files, Redis Streams): a
scene's samples come back whole and in order, across connections, filtered by time and
cut at a limit; scenes never mix."""

from __future__ import annotations

import time

from prism_platform.samples import Sample

from .conftest import LogFactory, sample


def test_samples_come_back_whole_and_in_order(open_log: LogFactory) -> None:
    log = open_log()
    sent = [sample(f"r{i}") for i in range(7)]
    log.append(sent[:3])
    log.append([])
    log.append(sent[3:])
    got = list(open_log().read("home_feed"))
    assert got == sent
    assert isinstance(got[0], Sample) and got[0].context == {"page": "home", "n": [1, 2]}
    assert log.name


def test_scenes_do_not_mix(open_log: LogFactory) -> None:
    log = open_log()
    log.append([sample("h1"), sample("c1", scene="cart"), sample("h2"), sample("c2", scene="cart")])
    assert [s.request_id for s in log.read("cart")] == ["c1", "c2"]
    assert [s.request_id for s in log.read("home_feed")] == ["h1", "h2"]
    assert list(log.read("item_detail")) == []


def test_since_keeps_the_samples_served_from_then_on(open_log: LogFactory) -> None:
    log = open_log()
    now = time.time()
    log.append([sample("old", ts=now - 7200), sample("edge", ts=now - 60), sample("new", ts=now)])
    assert [s.request_id for s in log.read("home_feed", since=now - 60)] == ["edge", "new"]
    assert list(log.read("home_feed", since=now + 10)) == []


def test_limit_cuts_after_the_oldest_n(open_log: LogFactory) -> None:
    log = open_log()
    log.append([sample(f"r{i}") for i in range(2500)])  # more than a Redis page
    assert [s.request_id for s in log.read("home_feed", limit=3)] == ["r0", "r1", "r2"]
    everything = [s.request_id for s in open_log().read("home_feed")]
    assert everything == [f"r{i}" for i in range(2500)]
    since = time.time() - 3600
    assert len(list(log.read("home_feed", since=since, limit=1001))) == 1001
