"""``prism events``: the durable event log behind POST /v1/events."""

from __future__ import annotations

import click


@click.group()
def events() -> None:
    """The durable event log behind POST /v1/events."""


@events.command("aggregate")
def events_aggregate() -> None:
    """Fold every event not yet counted into the hourly counts, then drop counted events
    older than the retention from the log (one-shot; a running node does the same in
    the background)."""
    from prism_platform.db import MetadataStore
    from prism_platform.events.aggregate import aggregate_all, trim_log
    from prism_platform.events.sink import open_sink, retention_s
    from prism_platform.settings import Settings

    settings = Settings()
    store = MetadataStore(settings.db_url)
    sink = open_sink(settings)
    try:
        store.upgrade()
        n = aggregate_all(sink, store.engine)
        gone = trim_log(sink, store.engine, retention_s(settings.events_max_age_s))
    finally:
        sink.close()
        store.dispose()
    click.echo(f"aggregated {n} events from {sink.name}; trimmed {gone} old ones")
