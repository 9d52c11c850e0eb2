"""Trimming the event log after aggregation: only counted events older than the
retention go, and ingestion stays idempotent (a trimmed event's copy is stale)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson
import sqlalchemy as sa

from prism_platform.db import MetadataStore
from prism_platform.db.event_schema import EventCount, EventRejection
from prism_platform.events.aggregate import aggregate_all, aggregate_once, trim_log
from prism_platform.events.event import EventRules, StoredEvent
from prism_platform.events.ingest import EventIngest
from prism_platform.events.sink import retention_s
from prism_platform.events.sqlite_sink import SqliteSink
from prism_sdk import Acm, AcmKeyring, AcmSigner

KEY = b"k"
WINDOW = 3600.0


def _token(eid: str, issued: float) -> str:
    """A token of its own per event (each exposure counts once per token)."""
    acm = Acm("feed", "a", "s", "v", ("c",), 1, eid, layers=(("rank", "b"),))
    return acm._replace(issued=int(issued)).sign(KEY, "u", "i")


def _wire(eid: str, ts: float) -> dict[str, object]:
    acm = _token(eid, ts)
    return dict(event_id=eid, type="exposure", acm=acm, user_id="u", item_id="i", ts=ts)


def _post(ingest: EventIngest, *events: dict[str, object]) -> dict[str, int]:
    status, body = asyncio.run(ingest.handle(orjson.dumps({"events": list(events)})))
    assert status == 200
    reply = orjson.loads(body)
    return {k: reply[k] for k in ("accepted", "duplicates", "rejected")}


def _exposures(store: MetadataStore) -> dict[str, int]:
    stmt = sa.select(EventCount.layer, sa.func.sum(EventCount.exposures))
    with store.engine.connect() as conn:
        return {la: int(n) for la, n in conn.execute(stmt.group_by(EventCount.layer))}


def _rejections(store: MetadataStore) -> dict[tuple[str, str, str], int]:
    t = EventRejection
    stmt = sa.select(t.layer, t.bucket, t.reason, sa.func.sum(t.events))
    with store.engine.connect() as conn:
        rows = conn.execute(stmt.group_by(t.layer, t.bucket, t.reason))
        return {(la, b, r): int(n) for la, b, r, n in rows}


def test_trim_keeps_idempotency_and_never_drops_uncounted_events(tmp_path: Path) -> None:
    store = MetadataStore(f"sqlite:///{tmp_path / 'meta.db'}")
    store.upgrade()
    sink = SqliteSink(tmp_path / "events.db")
    rules = EventRules(max_age_s=WINDOW, token_max_age_s=WINDOW)
    ingest = EventIngest(sink, AcmKeyring(AcmSigner(KEY)), None, rules)
    keep = retention_s(WINDOW, WINDOW)
    old = time.time() - keep - 60  # accepted long ago, beyond the window and the skew
    sink.append(
        [StoredEvent(f"o{i}", "exposure", _token(f"o{i}", old), "u", "i", old, None, old)
         for i in range(3)]
    )  # fmt: skip
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
        assert aggregate_all(sink, store.engine) == 2  # what did not count, counted per bucket
        assert _exposures(store) == {"main": 5, "rank": 5}  # each event once per layer
        assert _rejections(store) == {
            ("main", "a", "duplicate"): 2, ("rank", "b", "duplicate"): 2,
            ("main", "a", "stale"): 1, ("rank", "b", "stale"): 1,
        }  # fmt: skip
        assert trim_log(sink, store.engine, keep, now=now + keep + 1) == 4
        assert _post(ingest, _wire("y2", time.time()))["accepted"] == 1
        assert aggregate_all(sink, store.engine) == 1  # the offset still pages on
    finally:
        ingest.close()
        store.dispose()
