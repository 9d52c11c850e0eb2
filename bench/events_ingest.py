"""Event ingestion throughput: batches of 100 signed events through ``EventIngest``.

In one run, the same batches go to (a) an in-memory log (validation, signature checks
and bookkeeping only: the baseline), (b) the embedded SQLite log (WAL, fsync per batch)
and (c) a Redis Stream (a private redis-server). Every event is new (no duplicates).
Prints events/s and each durable path as a ratio of the baseline.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import orjson

from prism_platform.events.event import EventRules, StoredEvent, claims
from prism_platform.events.ingest import EventIngest
from prism_platform.events.redis_sink import RedisSink
from prism_platform.events.sink import EventSink
from prism_platform.events.sqlite_sink import SqliteSink
from prism_sdk import AcmKeyring, AcmSigner, acm_prefix_for
from prism_testkit.services import start_redis

BATCH = 100
BATCHES = 300
KEY = b"bench-events-key"


class MemorySink:
    name = "memory"

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.keys: set[str] = set()

    def append(self, events: Sequence[StoredEvent]) -> list[bool]:
        out = []
        for ev in events:
            key, _ = claims(ev)  # one of each type per token (no orders here)
            new = ev.event_id not in self.ids and key not in self.keys
            out.append(new)
            if new:
                self.ids.add(ev.event_id)
                self.keys.add(key)
        return out

    def read(self, after: str, limit: int) -> list[tuple[str, StoredEvent]]:
        return []

    def trim(self, before: str, older_than: float) -> int:
        return 0

    def close(self) -> None:
        return None


def bodies(run: str) -> list[bytes]:
    signer = AcmSigner(KEY)
    prefix = acm_prefix_for("home_feed", "base", "home_feed", "wt-1")
    now = time.time()
    out = []
    for b in range(BATCHES):
        events = []
        for i in range(BATCH):  # tokens bound to their user and item, one per event
            user, item = str(i % 500), str(i)
            token = signer.for_request(prefix, f"{run}{b}", user, int(now))
            events.append(
                {
                    "event_id": f"{run}-{b}-{i}",
                    "type": "click" if i % 10 == 0 else "exposure",
                    "acm": token(item, "i2i", i % 20 + 1, "-"),
                    "user_id": user,
                    "item_id": item,
                    "ts": now,
                }
            )
        out.append(orjson.dumps({"events": events}))
    return out


async def measure(sink: EventSink, run: str) -> float:
    ingest = EventIngest(sink, AcmKeyring(AcmSigner(KEY)), None, EventRules(max_age_s=3600))
    batches = bodies(run)
    status, body = await ingest.handle(batches[0])
    assert status == 200 and orjson.loads(body)["accepted"] == BATCH, body
    t0 = time.perf_counter()
    for b in batches[1:]:
        status, _ = await ingest.handle(b)
        assert status == 200
    elapsed = time.perf_counter() - t0
    ingest.close()
    return (len(batches) - 1) * BATCH / elapsed


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="prism-bench-events-"))
    redis = start_redis()
    try:
        rates = {
            "(a) in-memory log (baseline)": asyncio.run(measure(MemorySink(), "m")),
            "(b) SQLite WAL, fsync per batch": asyncio.run(
                measure(SqliteSink(work / "events.db"), "s")
            ),
            "(c) Redis Stream": asyncio.run(measure(RedisSink.from_url(redis.url), "r")),
        }
    finally:
        redis.stop()
    base = rates["(a) in-memory log (baseline)"]
    print(f"batches of {BATCH}, {BATCHES} batches per path")
    for name, rate in rates.items():
        print(f"{name:34s} {rate:10,.0f} events/s   ratio to (a): {rate / base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
