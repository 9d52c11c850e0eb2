"""The platform's feature log: a bounded in-memory queue the request path appends to,
drained into the feature store by a background thread (:mod:`prism_platform.background`).

:meth:`FeatureLogWriter.submit` is all a request pays: a length check and a
``deque.append`` of references (the rows of the returned items are picked, encoded and
stored by the thread). When the queue is full the record is dropped and counted
(``prism_feature_log_dropped_total{reason="buffer_full"}``); a request never waits. A
batch the store refuses is dropped and counted too (``reason="store_error"``).
"""

from __future__ import annotations

import logging
import time

from prism_platform.background import BackgroundQueue
from prism_platform.errors import Invalid
from prism_platform.events.sink import retention_s
from prism_platform.feature_log.record import records_of
from prism_platform.feature_log.store import FeatureStore, open_feature_store
from prism_platform.metrics.registry import Metrics
from prism_platform.settings import Settings
from prism_sdk.ranking import ServedFeatures, check_rate

log = logging.getLogger("prism.features")

CAPACITY = 4096  # queued requests; each holds references to its scored matrices
FLUSH_S = 0.5
BATCH = 256  # a flush starts early once this many requests are queued
TRIM_EVERY_S = 300.0


class FeatureLogWriter(BackgroundQueue[ServedFeatures]):
    """Implements :class:`prism_sdk.ranking.FeatureLog` over a :class:`FeatureStore`."""

    label = "feature_log"

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
        super().__init__(capacity=capacity, flush_s=flush_s, batch=BATCH)
        self.store = store
        self.rate = check_rate(rate)
        self.keep_s = keep_s
        self.metrics = metrics
        self.stored_rows = 0
        self._trimmed_at = 0.0

    def write(self, items: list[ServedFeatures]) -> int:
        """Store the returned items' rows of a batch of requests; how many rows."""
        records = [r for served in items for r in records_of(served)]
        self.store.append(records)
        stored = 0
        for r in records:
            stored += len(r.item_ids)
            if self.metrics is not None:
                self.metrics.feature_rows_logged.inc((r.model,), len(r.item_ids))
        self.stored_rows += stored
        return stored

    def housekeeping(self) -> None:
        now = time.time()
        if self.keep_s is None or now - self._trimmed_at < TRIM_EVERY_S:
            return
        self._trimmed_at = now
        gone = self.store.trim(now - self.keep_s)
        if gone:
            log.info("event=feature_log_trimmed records=%d store=%s", gone, self.store.name)

    def release(self) -> None:
        self.store.close()

    def count_drop(self, reason: str, n: int) -> None:
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
