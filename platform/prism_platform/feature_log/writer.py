"""The platform's feature log: a bounded in-memory queue the request path appends to,
drained into the feature store by a background thread.

:meth:`FeatureLogWriter.submit` is all a request pays: a length check and a
``deque.append`` of references (the rows of the returned items are picked, encoded and
stored by the thread). When the queue is full the record is dropped and counted
(``prism_feature_log_dropped_total{reason="buffer_full"}``); a request never waits. A
batch the store refuses is dropped and counted too (``reason="store_error"``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from prism_platform.errors import Invalid
from prism_platform.events.sink import retention_s
from prism_platform.feature_log.record import LoggedRows, records_of
from prism_platform.feature_log.store import FeatureStore, open_feature_store
from prism_platform.metrics.registry import Metrics
from prism_platform.settings import Settings
from prism_sdk.ranking import ServedFeatures, check_rate

log = logging.getLogger("prism.features")

CAPACITY = 4096  # queued requests; each holds references to its scored matrices
FLUSH_S = 0.5
BATCH = 256  # a flush starts early once this many requests are queued
TRIM_EVERY_S = 300.0


class FeatureLogWriter:
    """Implements :class:`prism_sdk.ranking.FeatureLog` over a :class:`FeatureStore`."""

    def __init__(
        self,
        store: FeatureStore,
        rate: float,
        *,
        capacity: int = CAPACITY,
        flush_s: float = FLUSH_S,
        keep_s: float | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.rate = check_rate(rate)
        self.capacity = capacity
        self.flush_s = flush_s
        self.keep_s = keep_s
        self.metrics = metrics
        self.dropped = 0
        self.stored_rows = 0
        self._queue: deque[ServedFeatures] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._trimmed_at = 0.0

    # -- the request path ----------------------------------------------------------
    def submit(self, served: ServedFeatures) -> bool:
        queue = self._queue
        if len(queue) >= self.capacity:
            self._drop("buffer_full", 1)
            return False
        queue.append(served)
        if self._thread is None:
            self._start()
        elif len(queue) >= BATCH:
            self._wake.set()
        return True

    # -- the background side -------------------------------------------------------
    def flush(self) -> int:
        """Store everything queued now; how many rows were stored."""
        stored = 0
        with self._flush_lock:
            while self._queue:
                records: list[LoggedRows] = []
                taken = 0
                while self._queue and taken < BATCH:
                    records += records_of(self._queue.popleft())
                    taken += 1
                try:
                    self.store.append(records)
                except Exception:
                    log.exception("event=feature_log_store_failed store=%s", self.store.name)
                    self._drop("store_error", taken)
                    continue
                for r in records:
                    stored += len(r.item_ids)
                    if self.metrics is not None:
                        self.metrics.feature_rows_logged.inc((r.model,), len(r.item_ids))
        self.stored_rows += stored
        return stored

    def close(self) -> None:
        """Stop the thread and store what is still queued."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
        self.store.close()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="prism-feature-log", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_s)
            self._wake.clear()
            try:
                self.flush()
                self._trim()
            except Exception:  # never let the writer die
                log.exception("event=feature_log_flush_failed")

    def _trim(self) -> None:
        now = time.time()
        if self.keep_s is None or now - self._trimmed_at < TRIM_EVERY_S:
            return
        self._trimmed_at = now
        gone = self.store.trim(now - self.keep_s)
        if gone:
            log.info("event=feature_log_trimmed records=%d store=%s", gone, self.store.name)

    def _drop(self, reason: str, n: int) -> None:
        self.dropped += n
        if self.metrics is not None:
            self.metrics.feature_log_dropped.inc((reason,), n)


def open_feature_log(settings: Settings, metrics: Metrics | None = None) -> FeatureLogWriter:
    """The node's feature log: ``PRISM_FEATURE_LOG_RATE`` of the requests, stored beside
    the event log and kept as long as events are."""
    try:
        rate = check_rate(settings.feature_log_rate, "PRISM_FEATURE_LOG_RATE")
    except ValueError as exc:
        raise Invalid(str(exc), field="PRISM_FEATURE_LOG_RATE") from None
    return FeatureLogWriter(
        open_feature_store(settings),
        rate,
        keep_s=retention_s(settings.events_max_age_s),
        metrics=metrics,
    )
