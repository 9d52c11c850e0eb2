"""Accepting a batch of events: validate each, store the good ones durably, answer.

The reply is sent only after the sink has made the batch durable. Newly accepted
events then feed the data layer's realtime behaviour (``DataWriter.append_events``),
so strategies see a click in the user's recent events at once.

Every event is counted in ``prism_events_total{outcome, reason}`` (accepted, duplicate,
rejected by reason): the figure to alert on. Rejected and duplicate events whose token
verified are also counted per token route into the log (one :data:`~.event.REJECTED`
record per route and reason and batch), so the experiment report shows them per bucket.
Events whose token does not verify name no bucket anyone can trust: metric only.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from prism_platform.errors import error_body
from prism_platform.events.event import (
    REJECTED,
    BatchError,
    EventRules,
    StoredEvent,
    check_event,
    decode_batch,
)
from prism_platform.events.sink import EventSink, open_sink
from prism_platform.metrics.registry import Counter as MetricCounter
from prism_platform.serving.signing import acm_keyring, v2_until
from prism_platform.settings import Settings
from prism_sdk import Acm, AcmKeyring, AcmSigner, DataBackend, Event
from prism_sdk.data import DataWriter

log = logging.getLogger("prism.events")
DUPLICATE = "duplicate"


class EventIngest:
    def __init__(
        self,
        sink: EventSink,
        keys: AcmKeyring,
        backend: DataBackend | None,
        rules: EventRules,
        counter: MetricCounter | None = None,
    ) -> None:
        self.sink = sink
        self.keys = keys
        self.writer = backend if isinstance(backend, DataWriter) else None
        self.rules = rules
        self.counter = counter
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
        tokens: list[Acm] = []  # the verified token of each event in ``fresh``
        slots: list[int] = []  # index in results of each event in ``fresh``
        seen: set[str] = set()
        tally = Tally()
        for i, raw in enumerate(raws):
            ev, eid, why, acm = check_event(raw, i, self.keys, now, self.rules)
            if ev is None:
                assert why is not None
                results.append(why.as_json(eid))
                tally.add(acm, why.reason)
            elif ev.event_id in seen:  # repeated within the batch: stored once
                results.append({"event_id": ev.event_id, "status": "accepted", "duplicate": True})
                tally.add(acm, DUPLICATE)
            else:
                seen.add(ev.event_id)
                slots.append(len(results))
                results.append({"event_id": ev.event_id, "status": "accepted"})
                fresh.append(ev)
                assert acm is not None
                tokens.append(acm)
        if fresh or tally:
            loop = asyncio.get_running_loop()
            try:
                new = await loop.run_in_executor(self._pool, self._store, fresh, tokens, tally, now)
            except Exception as exc:
                log.exception("event=events_store_failed sink=%s", self.sink.name)
                msg = f"events could not be stored durably ({type(exc).__name__}); retry"
                return error_body(503, "unavailable", msg)
            for slot, is_new in zip(slots, new, strict=True):
                if not is_new:
                    results[slot]["duplicate"] = True
        out = _summary(results)
        self._count(results)
        return 200, orjson.dumps(out)

    def _store(
        self, events: Sequence[StoredEvent], tokens: Sequence[Acm], tally: Tally, now: float
    ) -> list[bool]:
        new: list[bool] = []
        if events:  # what did not count rides along (one write, one fsync)
            new = self.sink.append([*events, *tally.records(now)])[: len(events)]
            tally = Tally()
        for acm, is_new in zip(tokens, new, strict=True):
            if not is_new:  # known only now
                tally.add(acm, DUPLICATE)
        if tally:  # a second, small write; the counts are best effort, unlike events
            try:
                self.sink.append(tally.records(now))
            except Exception:
                log.exception("event=rejections_not_recorded sink=%s", self.sink.name)
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

    def _count(self, results: list[dict[str, Any]]) -> None:
        if self.counter is None:
            return
        for r in results:
            if r["status"] == "rejected":
                self.counter.inc(("rejected", r["reason"]))
            elif r.get("duplicate"):
                self.counter.inc((DUPLICATE, "-"))
            else:
                self.counter.inc(("accepted", "-"))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.sink.close()


def open_ingest(
    settings: Settings,
    signer: AcmSigner,
    backend: DataBackend | None,
    counter: MetricCounter | None = None,
) -> EventIngest:
    """The node's ingestion: its event log, ``signer``'s key and the previous ones, and
    the configured windows and cap."""
    rules = EventRules(
        max_age_s=settings.events_max_age_s,
        token_max_age_s=settings.acm_max_age_s,
        value_cap=settings.event_value_cap,
        v2_until=v2_until(settings),
    )
    keys = acm_keyring(settings, signer)
    return EventIngest(open_sink(settings), keys, backend, rules, counter)


class Tally:
    """Rejected (or duplicate) events of verified tokens, per route and reason."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def __bool__(self) -> bool:
        return bool(self.counts)

    def add(self, acm: Acm | None, reason: str) -> None:
        if acm is not None:
            route = Acm(acm.scene, acm.bucket, "-", "-", (), 1, "-", layers=acm.layers)
            self.counts[(route.encode(), reason)] += 1  # a version-1 text: only the buckets

    def records(self, now: float) -> list[StoredEvent]:
        return [
            StoredEvent(
                f"~{uuid.uuid4().hex}", REJECTED, route, "", "", now, float(n), now, None, reason
            )
            for (route, reason), n in self.counts.items()
        ]


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    rejected = sum(r["status"] == "rejected" for r in results)
    duplicates = sum(bool(r.get("duplicate")) for r in results)
    return {
        "accepted": len(results) - rejected - duplicates,
        "duplicates": duplicates,
        "rejected": rejected,
        "results": results,
    }
