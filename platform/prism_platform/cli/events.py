"""``prism events``: the durable event log behind POST /v1/events."""

from __future__ import annotations

from pathlib import Path

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


WHEN = "a duration back from now (30s, 15m, 1h, 2d) or an ISO-8601 time with a timezone"


@events.command("export")
@click.option("--since", default=None, help=f"only events at or after: {WHEN} [default: all kept]")
@click.option("--until", default=None, help=f"only events before: {WHEN} [default: no end]")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="the file to write: .parquet, or .csv",
)
def events_export(since: str | None, until: str | None, out: Path) -> None:
    """Write the accepted events of the log (by their time ts) to --out, one row each:
    ids, type, times and where they were served (scene, buckets, strategy@version,
    channel, position); the columns are in docs/frontend/events.md. Needs pyarrow
    (pip install 'prism-rec[export]')."""
    from prism_platform.control.local import export_events
    from prism_platform.settings import Settings

    done = export_events(Settings(), out, since, until)
    click.echo(f"exported {done.events} events from {done.sink} to {done.out}")
