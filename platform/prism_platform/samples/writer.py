"""The node's sample writer: the dispatcher hands each sampled request over (references only,
:meth:`SampleWriter.submit`); a background thread builds the records and appends them to
the node's :class:`~.log.SampleLog` (:mod:`prism_platform.background`). A full queue
drops and counts (``prism_samples_dropped_total{reason="buffer_full"}``), never waits.
"""

from __future__ import annotations

from typing import Any

from prism_platform.background import BackgroundQueue
from prism_platform.events.sink import events_backend
from prism_platform.metrics.registry import Metrics
from prism_platform.samples.log import SampleLog
from prism_platform.samples.record import sample_of
from prism_platform.serving.sampling import ServedSample
from prism_platform.settings import Settings

CAPACITY = 8192  # queued requests; each holds its request and response body
FLUSH_S = 0.5
BATCH = 512
MB = 1 << 20


class SampleWriter(BackgroundQueue[ServedSample]):
    """Implements :class:`prism_platform.serving.sampling.SampleSink`."""

    label = "samples"

    def __init__(
        self,
        log: SampleLog,
        *,
        capacity: int = CAPACITY,
        flush_s: float = FLUSH_S,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__(capacity=capacity, flush_s=flush_s, batch=BATCH)
        self.log = log
        self.metrics = metrics
        self.stored = 0

    def write(self, items: list[ServedSample]) -> int:
        samples = [sample_of(served) for served in items]
        self.log.append(samples)
        self.stored += len(samples)
        if self.metrics is not None:
            for s in samples:
                self.metrics.samples_stored.inc((s.scene,))
        return len(samples)

    def release(self) -> None:
        self.log.close()

    def count_drop(self, reason: str, n: int) -> None:
        if self.metrics is not None:
            self.metrics.samples_dropped.inc((reason,), n)

    def status(self) -> dict[str, Any]:
        """For the node's status: where samples go and how many were kept or dropped."""
        return {
            "log": self.log.name,
            "stored": self.stored,
            "dropped": self.dropped,
            "queued": self.queued,
        }


def open_sample_log(settings: Settings) -> SampleLog:
    """Beside the event log: a capped Redis Stream per scene when that is on Redis,
    else rotated JSONL files under ``var/samples/``."""
    if events_backend(settings) == "redis":
        from prism_platform.samples.redis_log import RedisSampleLog

        return RedisSampleLog.from_url(
            settings.redis_url, settings.redis_prefix, max_len=settings.samples_stream_max
        )
    from prism_platform.samples.files import FileSampleLog

    return FileSampleLog(
        settings.var_dir / "samples",
        file_bytes=int(settings.samples_file_mb * MB),
        max_bytes=int(settings.samples_max_mb * MB),
    )


def open_sample_writer(settings: Settings, metrics: Metrics | None = None) -> SampleWriter:
    return SampleWriter(open_sample_log(settings), metrics=metrics)
