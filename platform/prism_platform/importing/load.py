"""Write validated rows to the configured backend.

:func:`open_writer` is the one path to the data ``PRISM_DATA_BACKEND`` names: the
local backend is loaded from its file and saved back (atomically) only when every
write succeeded, so a failure leaves the previous version serving.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from prism_platform.data.backend import local_data_path, open_backend
from prism_platform.importing.rows import OPS, Update
from prism_platform.settings import Settings
from prism_sdk import DataBackend, Event, LocalBackend
from prism_sdk.data import DataWriter


class WriteFailed(Exception):
    """The backend refused or failed a write; the message says what was done."""


@contextmanager
def open_writer(settings: Settings, *, fresh: bool = False) -> Iterator[DataWriter]:
    """The configured backend as a writer (never the generated demo world).

    With ``fresh`` a local backend starts empty instead of from its file.
    """
    backend: DataBackend
    if fresh and settings.data_backend == "local":
        backend = LocalBackend()
    else:
        backend = open_backend(dataclasses.replace(settings, demo=False))
    try:
        if not isinstance(backend, DataWriter):
            raise WriteFailed(f"data backend {backend.name!r} is read-only")
        yield backend
        if isinstance(backend, LocalBackend):
            backend.save(local_data_path(settings))
    finally:
        backend.close()


def where(settings: Settings) -> str:
    """Where writes land, for messages."""
    if settings.data_backend == "local":
        return f"local file {local_data_path(settings)}"
    return f"{settings.data_backend} backend"


def apply_updates(writer: DataWriter, updates: Sequence[Update]) -> dict[str, int]:
    """Apply forward-index updates in order, runs of upserts in one write each."""
    counts: dict[str, int] = dict.fromkeys(OPS, 0)
    applied = 0
    batch: dict[str, dict[str, Any]] = {}
    try:
        for u in updates:
            if u.op == "delete" or u.id in batch:
                applied += _flush(writer, batch)
            if u.op == "delete":
                writer.delete_items([u.id])
                applied += 1
            else:
                batch[u.id] = dict(u.fields) if u.op == "upsert" else {"status": "off"}
            counts[u.op] += 1
        applied += _flush(writer, batch)
    except Exception as exc:
        raise WriteFailed(f"failed after {applied} of {len(updates)} updates: {exc}") from exc
    return counts


def _flush(writer: DataWriter, batch: dict[str, dict[str, Any]]) -> int:
    n = len(batch)
    if n:
        writer.upsert_items(batch)
        batch.clear()
    return n


def append_events(writer: DataWriter, events: Mapping[str, Sequence[Event]]) -> int:
    """Append each user's events; returns how many were written."""
    done = 0
    try:
        for user, evs in events.items():
            writer.append_events(user, evs)
            done += len(evs)
    except Exception as exc:
        raise WriteFailed(f"failed after {done} events: {exc}") from exc
    return done
