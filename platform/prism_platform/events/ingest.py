"""Accepting a batch of events: validate each, store the good ones durably, answer.

The reply is sent only after the sink has made the batch durable. Newly accepted
events then feed the data layer's realtime behaviour (``DataWriter.append_events``),
so strategies see a click in the user's recent events at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from prism_platform.errors import error_body
from prism_platform.events.event import BatchError, StoredEvent, check_event, decode_batch
from prism_platform.events.sink import EventSink
from prism_sdk import AcmSigner, DataBackend, Event
from prism_sdk.data import DataWriter

log = logging.getLogger("prism.events")


class EventIngest:
    def __init__(
        self, sink: EventSink, signer: AcmSigner, backend: DataBackend | None, max_age_s: float
    ) -> None:
        self.sink = sink
        self.signer = signer
        self.writer = backend if isinstance(backend, DataWriter) else None
        self.max_age_s = max_age_s
        # one thread: the sink's writes (and their fsyncs) never block the event loop
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="prism-events")

    async def handle(self, body: bytes) -> tuple[int, bytes]:
        """Answer one request body: ``(status, JSON bytes)``; never raises for bad input."""
        try:
            raws = decode_batch(body)
        except BatchError as exc:
            return error_body(exc.status, exc.error, str(exc), field=exc.field)
        now = time.time()
        results: list[dict[str, Any]] = []
        fresh: list[StoredEvent] = []
        slots: list[int] = []  # index in results of each event in ``fresh``
        seen: set[str] = set()
        for i, raw in enumerate(raws):
            ev, eid, why = check_event(raw, i, self.signer, now, self.max_age_s)
            if ev is None:
                assert why is not None
                results.append(why.as_json(eid))
            elif ev.event_id in seen:  # repeated within the batch: stored once
                results.append({"event_id": ev.event_id, "status": "accepted", "duplicate": True})
            else:
                seen.add(ev.event_id)
                slots.append(len(results))
                results.append({"event_id": ev.event_id, "status": "accepted"})
                fresh.append(ev)
        if fresh:
            loop = asyncio.get_running_loop()
            try:
                new = await loop.run_in_executor(self._pool, self._store, fresh)
            except Exception as exc:
                log.exception("event=events_store_failed sink=%s", self.sink.name)
                msg = f"events could not be stored durably ({type(exc).__name__}); retry"
                return error_body(503, "unavailable", msg)
            for slot, is_new in zip(slots, new, strict=True):
                if not is_new:
                    results[slot]["duplicate"] = True
        return 200, orjson.dumps(_summary(results))

    def _store(self, events: Sequence[StoredEvent]) -> list[bool]:
        new = self.sink.append(events)
        if self.writer is not None:
            by_user: dict[str, list[Event]] = defaultdict(list)
            for ev, is_new in zip(events, new, strict=True):
                if is_new:
                    by_user[ev.user_id].append(Event(ev.ts, ev.item_id, ev.type))
            try:
                for user, evs in by_user.items():
                    self.writer.append_events(user, evs)
            except Exception:  # durable already: realtime behaviour is best effort
                log.exception("event=realtime_feed_failed")
        return new

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.sink.close()


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    rejected = sum(r["status"] == "rejected" for r in results)
    duplicates = sum(bool(r.get("duplicate")) for r in results)
    return {
        "accepted": len(results) - rejected - duplicates,
        "duplicates": duplicates,
        "rejected": rejected,
        "results": results,
    }
