"""A bounded in-memory queue drained by a background thread: how the request path hands
records to a log (the feature log, the replay samples) without ever waiting for its store.

:meth:`BackgroundQueue.submit` is a length check and a ``deque.append``: when the queue
is full the item is dropped and counted (reason ``buffer_full``), never waited on. The
thread, started by the first item, wakes every ``flush_s`` (or early, once ``batch``
items are queued) and hands the items to :meth:`BackgroundQueue.write` in batches; a
batch the store refuses is dropped and counted too (reason ``store_error``).
:meth:`BackgroundQueue.close` stops the thread and stores what is still queued, so a
clean stop loses nothing that was accepted.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Generic, TypeVar

log = logging.getLogger("prism.background")

T = TypeVar("T")


class BackgroundQueue(Generic[T]):
    label = "queue"
    """Names the log lines of a failed batch (``event=<label>_store_failed``) and the
    thread (``prism-<label>``, dashed)."""

    def __init__(self, *, capacity: int, flush_s: float, batch: int) -> None:
        self.capacity = capacity
        self.flush_s = flush_s
        self.batch = batch
        self.dropped = 0
        self._queue: deque[T] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    # -- what subclasses provide ---------------------------------------------------
    def write(self, items: list[T]) -> int:
        """Store one batch (raise to refuse it); how many units were stored."""
        raise NotImplementedError

    def housekeeping(self) -> None:
        """Run by the thread after each flush (e.g. trimming old records)."""

    def release(self) -> None:
        """Close the store, after the last flush."""

    def count_drop(self, reason: str, n: int) -> None:
        """Also count ``n`` dropped items elsewhere (a metric)."""

    # -- the request path ----------------------------------------------------------
    def submit(self, item: T) -> bool:
        queue = self._queue
        if len(queue) >= self.capacity:
            self._drop("buffer_full", 1)
            return False
        queue.append(item)
        if self._thread is None:
            self._start()
        elif len(queue) >= self.batch:
            self._wake.set()
        return True

    @property
    def queued(self) -> int:
        return len(self._queue)

    # -- the background side -------------------------------------------------------
    def flush(self) -> int:
        """Store everything queued now; what :meth:`write` counted."""
        stored = 0
        with self._flush_lock:
            while self._queue:
                items: list[T] = []
                while self._queue and len(items) < self.batch:
                    items.append(self._queue.popleft())
                try:
                    stored += self.write(items)
                except Exception:
                    log.exception("event=%s_store_failed items=%d", self.label, len(items))
                    self._drop("store_error", len(items))
        return stored

    def close(self) -> None:
        """Stop the thread and store what is still queued."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
        self.release()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name=f"prism-{self.label.replace('_', '-')}", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_s)
            self._wake.clear()
            try:
                self.flush()
                self.housekeeping()
            except Exception:  # never let the writer die
                log.exception("event=%s_flush_failed", self.label)

    def _drop(self, reason: str, n: int) -> None:
        self.dropped += n
        self.count_drop(reason, n)
