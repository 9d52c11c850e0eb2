"""The node's background aggregator: the event log into hourly counts, the explore/
exploit pools fed from them, and the log trimmed to its retention."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine

from prism_platform.events.aggregate import (
    CLAIM_IDLE_S,
    PAGE,
    aggregate_all,
    consumer_name,
    join,
    trim_log,
)
from prism_platform.events.bandit_feed import feed_bandits
from prism_platform.events.sink import EventSink
from prism_sdk.data import DataWriter

log = logging.getLogger("prism.events")


async def run_forever(
    sink: EventSink,
    engine: Engine,
    interval_s: float,
    keep_s: float | None = None,
    writer: DataWriter | None = None,
    claim_idle_s: float = CLAIM_IDLE_S,
) -> None:
    """The app's background aggregator: catch up every ``interval_s`` (a consumer of the
    log's aggregator group, taking over entries others left unacknowledged for
    ``claim_idle_s``), feed the scenes' explore/exploit pools through ``writer``, then
    trim the log to ``keep_s`` (``None``: never); errors are logged."""
    consumer, started = consumer_name(), False
    while True:
        try:
            if not started:  # the counts may be older than the log (a restore)
                await asyncio.to_thread(join, sink, engine, True)
                started = True
            n = await asyncio.to_thread(aggregate_all, sink, engine, PAGE, consumer, claim_idle_s)
            if n:
                log.info("event=aggregated events=%d sink=%s", n, sink.name)
                if writer is not None:
                    await asyncio.to_thread(feed_bandits, engine, writer)
            gone = 0 if keep_s is None else await asyncio.to_thread(trim_log, sink, engine, keep_s)
            if gone:
                log.info("event=trimmed events=%d sink=%s", gone, sink.name)
        except Exception:
            log.exception("event=aggregation_failed sink=%s", sink.name)
        await asyncio.sleep(interval_s)
