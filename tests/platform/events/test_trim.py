"""Trimming the event log after aggregation: only counted events older than the
retention go, and ingestion stays idempotent (a trimmed event's copy is stale)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson
import sqlalchemy as sa

from prism_platform.db import MetadataStore
from prism_platform.db.event_schema import EventCount
from prism_platform.events.aggregate import aggregate_all, aggregate_once, trim_log
from prism_platform.events.event import StoredEvent
from prism_platform.events.ingest import EventIngest
from prism_platform.events.sink import retention_s
from prism_platform.events.sqlite_sink import SqliteSink
from prism_sdk import Acm, AcmSigner

KEY = b"k"
WINDOW = 3600.0
ACM = Acm("feed", "a", "s", "v", ("c",), 1, "r1", layers=(("rank", "b"),)).sign(KEY)


def _wire(eid: str, ts: float) -> dict[str, object]:
    return dict(event_id=eid, type="exposure", acm=ACM, user_id="u", item_id="i", ts=ts)


def _post(ingest: EventIngest, *events: dict[str, object]) -> dict[str, int]:
    status, body = asyncio.run(ingest.handle(orjson.dumps({"events": list(events)})))
    assert status == 200
    reply = orjson.loads(body)
    return {k: reply[k] for k in ("accepted", "duplicates", "rejected")}


def _exposures(store: MetadataStore) -> dict[str, int]:
    stmt = sa.select(EventCount.layer, sa.func.sum(EventCount.exposures))
    with store.engine.connect() as conn:
        return {la: int(n) for la, n in conn.execute(stmt.group_by(EventCount.layer))}


def test_trim_keeps_idempotency_and_never_drops_uncounted_events(tmp_path: Path) -> None:
    store = MetadataStore(f"sqlite:///{tmp_path / 'meta.db'}")
    store.upgrade()
    sink = SqliteSink(tmp_path / "events.db")
    ingest = EventIngest(sink, AcmSigner(KEY), None, WINDOW)
    keep = retention_s(WINDOW)
    old = time.time() - keep - 60  # accepted long ago, beyond the window and the skew
    sink.append([StoredEvent(f"o{i}", "exposure", ACM, "u", "i", old, None, old) for i in range(3)])
    now = time.time()
    assert _post(ingest, _wire("y0", now), _wire("y1", now))["accepted"] == 2
    try:
        assert aggregate_once(sink, store.engine, limit=2) == 2  # o0, o1
        assert trim_log(sink, store.engine, keep) == 2
        assert [e.event_id for _, e in sink.read("", 10)] == ["o2", "y0", "y1"]
        assert aggregate_all(sink, store.engine) == 3
        assert trim_log(sink, store.engine, keep) == 1  # o2; y* are within the window
        assert [e.event_id for _, e in sink.read("", 10)] == ["y0", "y1"]

        # within the window a copy is a duplicate; a trimmed event's copy is stale
        assert _post(ingest, _wire("y0", now), _wire("y1", now)) == {
            "accepted": 0, "duplicates": 2, "rejected": 0
        }  # fmt: skip
        assert _post(ingest, _wire("o0", old))["rejected"] == 1
        assert aggregate_all(sink, store.engine) == 0
        assert _exposures(store) == {"main": 5, "rank": 5}  # each event once per layer
        assert trim_log(sink, store.engine, keep, now=now + keep + 1) == 2
        assert _post(ingest, _wire("y2", time.time()))["accepted"] == 1
        assert aggregate_all(sink, store.engine) == 1  # the offset still pages on
    finally:
        ingest.close()
        store.dispose()
