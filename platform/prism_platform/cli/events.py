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
    from prism_platform.control.local import aggregate_events
    from prism_platform.settings import Settings

    done = aggregate_events(Settings())
    click.echo(
        f"aggregated {done.aggregated} events from {done.sink}; trimmed {done.trimmed} old ones"
    )
