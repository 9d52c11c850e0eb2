"""The embedded in-memory backend (the default), optionally persisted to a file."""

from __future__ import annotations

import os
import tempfile
from bisect import insort
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from ._base import Event, Read, Scored, unclicked

_FORMAT = 1
_State = tuple[
    int,
    dict[str, dict[str, dict[str, Any]]],
    dict[str, dict[str, list[tuple[str, float]]]],
    dict[str, dict[str, Any]],
    dict[str, list[tuple[float, str, str]]],
]


class LocalBackend:
    """Plain dicts in this process. Tables are swapped by one assignment when replaced.

    Events per user are kept sorted by time (oldest first) and read newest first.
    """

    name = "local"

    def __init__(self) -> None:
        self.features: dict[str, dict[str, dict[str, Any]]] = {}
        self.tables: dict[str, dict[str, list[Scored]]] = {}
        self.items: dict[str, dict[str, Any]] = {}
        self.events: dict[str, list[Event]] = {}

    # -- reads -----------------------------------------------------------------
    def read(self, reads: Sequence[Read]) -> list[list[Any]]:
        return [self._read_one(r) for r in reads]

    def _read_one(self, r: Read) -> list[Any]:
        if r.kind == "table":
            table = self.tables.get(r.name, {})
            empty: list[Scored] = []
            if r.limit is None:
                return [table.get(k, empty) for k in r.keys]
            lim = r.limit
            return [table.get(k, empty)[:lim] for k in r.keys]
        if r.kind == "items":
            items = self.items
            return [items.get(k) for k in r.keys]
        if r.kind == "features":
            ns = self.features.get(r.name, {})
            return [ns.get(k) for k in r.keys]
        if r.kind == "events":
            return [self._events(k, r) for k in r.keys]
        if r.kind == "unclicked":
            window = r._replace(limit=None, types=None)
            return [unclicked(self._events(k, window)) for k in r.keys]
        raise ValueError(f"unknown read kind {r.kind!r}")

    def _events(self, user_id: str, r: Read) -> list[Event]:
        out: list[Event] = []
        limit = r.limit if r.limit is not None else 1 << 30
        since = r.since
        types = r.types
        for ev in reversed(self.events.get(user_id, ())):
            if since is not None and ev.ts < since:
                break
            if types is None or ev.type in types:
                out.append(ev)
                if len(out) >= limit:
                    break
        return out

    def close(self) -> None:
        return None

    # -- writes ----------------------------------------------------------------
    def replace_table(self, name: str, rows: Mapping[str, Sequence[Scored]]) -> None:
        self.tables[name] = {k: list(v) for k, v in rows.items()}

    def upsert_items(self, rows: Mapping[str, Mapping[str, Any]]) -> None:
        for k, v in rows.items():
            self.items[k] = {**self.items.get(k, {}), **v}

    def delete_items(self, ids: Iterable[str]) -> None:
        for k in ids:
            self.items.pop(k, None)

    def upsert_features(self, namespace: str, rows: Mapping[str, Mapping[str, Any]]) -> None:
        ns = self.features.setdefault(namespace, {})
        for k, v in rows.items():
            ns[k] = {**ns.get(k, {}), **v}

    def append_events(self, user_id: str, events: Iterable[Event]) -> None:
        bucket = self.events.setdefault(user_id, [])
        for ev in events:
            if not bucket or ev.ts >= bucket[-1].ts:
                bucket.append(ev)
            else:
                insort(bucket, ev)

    # -- persistence -----------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write a snapshot atomically (temp file + rename)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        state = (_FORMAT, self.features, self.tables, self.items, self.events)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(msgspec.msgpack.encode(state))
        os.replace(tmp, target)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LocalBackend:
        """Load a snapshot written by :meth:`save` (msgpack, schema-checked while decoding)."""
        with open(path, "rb") as f:
            fmt, features, tables, items, events = msgspec.msgpack.decode(f.read(), type=_State)
        if fmt != _FORMAT:
            raise ValueError(f"{path}: unsupported local data format {fmt}")
        backend = cls()
        backend.features, backend.tables, backend.items = features, tables, items
        backend.events = {k: [Event(*e) for e in v] for k, v in events.items()}
        return backend
