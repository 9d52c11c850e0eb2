"""``prism events export``: the event log as a Parquet (or CSV) file, for Spark jobs.

One row per accepted event in log order (the log's count records of rejected events
are left out), with what its acm token says about where it was served: the columns of
:data:`COLUMNS`, documented in docs/frontend/events.md. The log is read a page at a
time and each page written as it comes (a Parquet row group, a CSV batch), so memory
stays bounded by a page whatever the log holds. ``since``/``until`` select by ``ts``, the
client's time of the event. The file is written beside ``out`` and renamed into place
when complete. The writer is pyarrow, an optional dependency (``prism-rec[export]``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prism_platform.errors import Invalid, Unavailable
from prism_platform.events.event import EVENT_TYPES, StoredEvent
from prism_platform.events.sink import PAGE, EventSink
from prism_sdk import AcmError, parse_acm

log = logging.getLogger("prism.events")

COLUMNS = (
    ("event_id", "string", "the client's id of the event"),
    ("type", "string", "exposure, click, cart or order"),
    ("user_id", "string", "the user"),
    ("item_id", "string", "the item"),
    ("ts", "timestamp", "when it happened (the client's time), UTC, microseconds"),
    ("received", "timestamp", "when the node accepted it, UTC, microseconds"),
    ("value", "float64", "an order's amount (null for other events and orders without)"),
    ("order_id", "string", "an order's id (null when none)"),
    ("scene", "string", "the scene that served the item"),
    ("bucket", "string", "its bucket in the main layer"),
    ("layers", "string", "the other layers' buckets, `layer:bucket` joined by `,`"),
    ("strategy", "string", "the strategy script"),
    ("version", "string", "its version"),
    ("channel", "string", "the item's primary recall channel (`-`: none)"),
    ("position", "int32", "the item's position in the response, from 1"),
    ("request_id", "string", "the recommendation request"),
)
SERVING = ("scene", "bucket", "layers", "strategy", "version", "channel", "position", "request_id")
FORMATS = (".parquet", ".csv")


def write_events(
    sink: EventSink,
    out: Path,
    since: float | None = None,
    until: float | None = None,
    page: int = PAGE,
) -> int:
    """Write the log's events with ``since <= ts < until`` to ``out`` (``.parquet`` or
    ``.csv``); how many."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise Invalid(f"the file must end in .parquet or .csv, got {out.name!r}", field="out")
    pa = _pyarrow()
    schema = pa.schema([(name, _type(pa, kind)) for name, kind, _ in COLUMNS])
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.part")
    written = 0
    try:
        with _writer(suffix, partial, schema) as writer:
            offset = ""
            while entries := sink.read(offset, page):
                rows = [ev for _, ev in entries if _selected(ev, since, until)]
                if rows:
                    writer.write_batch(pa.RecordBatch.from_pydict(_columns(rows), schema=schema))
                    written += len(rows)
                if len(entries) < page:
                    break
                offset = entries[-1][0]
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return written


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError:
        raise Unavailable(
            "prism events export writes with pyarrow, which is not installed: "
            "pip install 'prism-rec[export]' (or 'pyarrow>=15')",
            field="pyarrow",
        ) from None
    return pyarrow


def _type(pa: Any, kind: str) -> Any:
    if kind == "timestamp":
        return pa.timestamp("us", tz="UTC")
    return getattr(pa, kind)()


def _writer(suffix: str, path: Path, schema: Any) -> Any:
    if suffix == ".csv":
        from pyarrow import csv

        return csv.CSVWriter(str(path), schema)
    from pyarrow import parquet

    return parquet.ParquetWriter(str(path), schema)


def _selected(ev: StoredEvent, since: float | None, until: float | None) -> bool:
    return (
        ev.type in EVENT_TYPES
        and (since is None or ev.ts >= since)
        and (until is None or ev.ts < until)
    )


def _columns(events: Iterable[StoredEvent]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {name: [] for name, _, _ in COLUMNS}
    for ev in events:
        for name in ("event_id", "type", "user_id", "item_id", "value", "order_id"):
            cols[name].append(getattr(ev, name))
        cols["ts"].append(round(ev.ts * 1_000_000))
        cols["received"].append(round(ev.received * 1_000_000))
        for name, value in zip(SERVING, _serving(ev), strict=True):
            cols[name].append(value)
    return cols


def _serving(ev: StoredEvent) -> tuple[Any, ...]:
    """The :data:`SERVING` columns of the event's token (nulls if it no longer parses)."""
    try:
        acm = parse_acm(ev.acm)
    except AcmError:  # verified on accept; only a format change could get here
        log.warning("event=unparsable_acm event_id=%s", ev.event_id)
        return (None,) * len(SERVING)
    layers = ",".join(f"{layer}:{bucket}" for layer, bucket in acm.layers)
    channel = acm.channels[0] if acm.channels else "-"
    return (acm.scene, acm.bucket, layers, acm.strategy, acm.version, channel, acm.position,
            acm.request_id)  # fmt: skip
