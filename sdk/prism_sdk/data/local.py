"""The embedded in-memory backend (the default), optionally persisted to a file."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import threading
from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from .._native import kernels
from ._base import Event, Read, Scored, off_shelf, unclicked
from .ann import VECTOR_READS, VectorIndex, answer
from .columns import MISSING, ColumnView, Gathered, IdKeys, Keys, Row, Table
from .erase import USER_NAMESPACES, counts, user_tables
from .scored import ScoredRows
from .vectors import StoredTable, Vectors, VectorTable, decode_table, encode_table

_FORMAT = 2  # 1: without vector tables (still read)
_PARTS = (
    int,
    dict[str, dict[str, dict[str, Any]]],
    dict[str, dict[str, list[tuple[str, float]]]],
    dict[str, dict[str, Any]],
    dict[str, list[tuple[float, str, str]]],
    dict[str, StoredTable],
)


class LocalBackend:
    """Plain dicts in this process. Tables are swapped by one assignment when replaced.

    Events per user are kept sorted by time (oldest first) and read newest first.
    :meth:`columns` serves the forward index and feature namespaces as columns (for
    feature assembly); once a table has a view, every write to it publishes a new view,
    copying the columns built so far: write in batches, and only through the writer
    methods. Vector tables are served by a :class:`VectorIndex` each, built by
    :meth:`warm` (a node calls it before it is ready) or else by a table's first read,
    and for a new version of a served table before it is swapped in whole.

    A backend read from a file (:meth:`load`) or written to one (:meth:`save`) remembers
    it as :attr:`path`: :meth:`forget_user` writes the file again, so a forgotten user
    does not come back with the next start.
    """

    name = "local"

    def __init__(self) -> None:
        self.features: dict[str, dict[str, dict[str, Any]]] = {}
        self.tables: dict[str, dict[str, ScoredRows]] = {}
        self.items: dict[str, dict[str, Any]] = {}
        self._off_shelf: frozenset[str] = frozenset()  # kept by the item writers
        self.events: dict[str, list[Event]] = {}
        self._keys = IdKeys()
        self._code_keys: Keys = np.zeros(0, np.intp)  # vocabulary code -> key (MISSING)
        self._views: dict[Table, ColumnView] = {}
        self._write_lock = threading.Lock()
        self.vector_tables: dict[str, VectorTable] = {}
        self._indexes: dict[str, VectorIndex] = {}
        self._index_lock = threading.Lock()
        self._vector_versions = 0
        self.path: Path | None = None
        """The file this backend was loaded from or last saved to."""

    # -- reads -----------------------------------------------------------------
    def read(self, reads: Sequence[Read]) -> list[list[Any]]:
        return [self._read_one(r) for r in reads]

    def _read_one(self, r: Read) -> list[Any]:
        if r.kind == "table":
            table = self.tables.get(r.name, {})
            if r.limit is None:
                return [table.get(k, _EMPTY) for k in r.keys]
            lim = r.limit
            return [table.get(k, _EMPTY).head(lim) for k in r.keys]
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
        if r.kind in VECTOR_READS:
            return answer(self.index(r.name), r, allowed=self._on_shelf)
        raise ValueError(f"unknown read kind {r.kind!r}")

    def index(self, name: str) -> VectorIndex | None:
        """The index serving vector table ``name`` (None: no such table)."""
        index = self._indexes.get(name)
        if index is not None or name not in self.vector_tables:
            return index
        with self._index_lock:  # loaded from a file: built by the first read
            table = self.vector_tables.get(name)
            index = self._indexes.get(name)
            if index is None and table is not None:
                index = self._indexes[name] = VectorIndex(table, self._next_version())
        return index

    def warm(self) -> None:
        """Build every vector table's index now (loading Faiss), not in a first read."""
        for name in list(self.vector_tables):
            self.index(name)

    def vector_status(self) -> dict[str, dict[str, Any]]:
        """Per vector table: the serving index (version, kind, sizes, how trained)."""
        out: dict[str, dict[str, Any]] = {}
        for name, table in self.vector_tables.items():
            index = self._indexes.get(name)
            out[name] = (
                index.describe() if index else {"index": "built on first read", **table.meta}
            )
        return out

    def _next_version(self) -> str:
        self._vector_versions += 1
        return str(self._vector_versions)

    def _on_shelf(self, ids: list[str]) -> list[bool]:
        """Items not off shelf (an id missing from the forward index passes: serving
        drops it later as ``not_in_index``)."""
        off = self._off_shelf
        return [i not in off for i in ids]

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

    def columns(
        self, tables: Sequence[Table], ids: Sequence[str], codes: Keys | None = None
    ) -> list[Gathered]:
        views = [self._views.get(t) or self._view(t) for t in tables]
        # after building views: they add their ids
        if codes is None:
            keys, top = self._keys.of(ids), None
        else:
            keys, top = self._keys_by_code(ids, codes)
        return [(view, view.at(keys, top)) for view in views]

    def _keys_by_code(self, ids: Sequence[str], codes: Keys) -> tuple[Keys, int | None]:
        """The keys of ``ids``, remembered by their vocabulary ``codes`` (a key never
        changes; an id without one yet is looked up again next time), and the largest
        of them when known."""
        got = kernels.keys_by_code(codes, self._code_keys) if kernels is not None else None
        if got is not None:
            keys, unknown, top = got
        else:
            known = self._code_keys
            if len(codes) and int(codes.max()) >= len(known):
                grown = np.full(max(1024, 2 * int(codes.max()) + 2), MISSING, np.intp)
                grown[: len(known)] = known
                self._code_keys = grown
            keys, top = self._code_keys[codes], None
            unknown = (keys == MISSING).nonzero()[0]
        if len(unknown):
            found = self._keys.of([ids[i] for i in unknown.tolist()])
            keys[unknown] = found
            self._code_keys[codes[unknown]] = found
            top = None
        return keys, top

    def _view(self, table: Table) -> ColumnView:
        with self._write_lock:
            view = self._views.get(table)
            if view is None:
                rows = self.items if table[0] == "items" else self.features.get(table[1], {})
                self._keys.add(rows)
                view = self._views[table] = ColumnView.of(self._keys, rows)
        return view

    def close(self) -> None:
        return None

    # -- writes ----------------------------------------------------------------
    def replace_table(self, name: str, rows: Mapping[str, Sequence[Scored]]) -> None:
        self.tables[name] = _interned(rows)

    def replace_vectors(self, name: str, table: VectorTable) -> None:
        """Check ``table`` (a failure changes nothing), then serve it: a table already
        served gets its new index built before it replaces the old one; otherwise the
        index is built by the first read (a job that only writes never builds one)."""
        table.checked(name)
        with self._index_lock:
            if name in self._indexes:
                self._indexes[name] = VectorIndex(table, self._next_version())
            self.vector_tables[name] = table

    def upsert_items(self, rows: Mapping[str, Mapping[str, Any]]) -> None:
        with self._write_lock:
            self._publish(("items", ""), _merge(self.items, rows))
            self._shelve(rows)

    def delete_items(self, ids: Iterable[str]) -> None:
        with self._write_lock:
            gone: dict[str, Row] = {k: None for k in ids if self.items.pop(k, None) is not None}
            self._publish(("items", ""), gone)
            self._shelve(gone)

    def _shelve(self, ids: Iterable[str]) -> None:
        """Recompute the off-shelf status of ``ids`` (swapped in by one assignment)."""
        items = self.items
        off = set(self._off_shelf)
        for k in ids:
            if off_shelf(items.get(k)):
                off.add(k)
            else:
                off.discard(k)
        self._off_shelf = frozenset(off)

    def upsert_features(self, namespace: str, rows: Mapping[str, Mapping[str, Any]]) -> None:
        with self._write_lock:
            ns = self.features.setdefault(namespace, {})
            self._publish(("features", namespace), _merge(ns, rows))

    def _publish(self, table: Table, changed: Mapping[str, Row]) -> None:
        view = self._views.get(table)
        if view is not None and changed:
            self._keys.add(changed)
            self._views[table] = view.updated({self._keys[k]: r for k, r in changed.items()})

    def append_events(self, user_id: str, events: Iterable[Event]) -> None:
        with self._write_lock:  # not into a list forget_user or trim_events just dropped
            bucket = self.events.setdefault(user_id, [])
            for ev in events:
                if not bucket or ev.ts >= bucket[-1].ts:
                    bucket.append(ev)
                else:
                    insort(bucket, ev)

    # -- forgetting ------------------------------------------------------------
    def forget_user(self, user_id: str) -> dict[str, int]:
        """Delete the user's events, rows in the user feature namespaces and ``u2i_``
        tables, and vectors (see :mod:`.erase`); then, when this backend has a file,
        write it again. Readers see the data with or without the user, never half."""
        with self._write_lock:
            events = len(self.events.pop(user_id, ()))
            features = 0
            for ns in USER_NAMESPACES:
                rows = self.features.get(ns)
                if rows is not None and rows.pop(user_id, None) is not None:
                    features += 1
                    self._publish(("features", ns), {user_id: None})
            tables = 0
            for name in user_tables(self.tables):
                table = self.tables[name]
                if user_id in table:  # swapped by one assignment, like replace_table
                    self.tables[name] = {k: v for k, v in table.items() if k != user_id}
                    tables += 1
            vectors = self._forget_vectors(user_id)
            if self.path is not None and (events or features or tables or vectors):
                self.save(self.path)  # under the lock: no append changes what it encodes
        return counts(events, features, tables, vectors)

    def _forget_vectors(self, user_id: str) -> int:
        gone = 0
        with self._index_lock:
            for name, table in list(self.vector_tables.items()):
                row = table.users.row.get(user_id)
                if row is None:
                    continue
                users = table.users
                keep = [i for i in range(len(users.ids)) if i != row]
                kept = Vectors.of([users.ids[i] for i in keep], users.matrix[keep])
                smaller = dataclasses.replace(table, users=kept)
                self.vector_tables[name] = smaller
                index = self._indexes.get(name)
                if index is not None:  # the items, and so the index over them, stay
                    index.table = smaller
                gone += 1
        return gone

    def trim_events(self, older_than: float) -> int:
        """Delete every user's events stamped before ``older_than`` (a user left with none
        is dropped); how many. A user's list is replaced, not changed under a reader, with
        the write lock held per user, so appends keep flowing."""
        gone = 0
        for user_id in list(self.events):
            with self._write_lock:
                bucket = self.events.get(user_id)
                if not bucket or bucket[0].ts >= older_than:
                    continue
                cut = bisect_left(bucket, older_than, key=lambda e: e.ts)
                gone += cut
                if cut < len(bucket):
                    self.events[user_id] = bucket[cut:]
                else:
                    del self.events[user_id]
        return gone

    # -- persistence -----------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write a snapshot atomically (temp file + rename)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        vectors = {name: encode_table(t) for name, t in self.vector_tables.items()}
        tables = {name: {k: list(v) for k, v in t.items()} for name, t in self.tables.items()}
        state = (_FORMAT, self.features, tables, self.items, self.events, vectors)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(msgspec.msgpack.encode(state))
        os.replace(tmp, target)
        self.path = target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LocalBackend:
        """Load a snapshot written by :meth:`save` (msgpack, schema-checked while decoding)."""
        with open(path, "rb") as f:
            raw = msgspec.msgpack.decode(f.read(), type=list[msgspec.Raw])
        fmt = msgspec.msgpack.decode(raw[0], type=int) if raw else None
        if fmt not in (1, _FORMAT) or len(raw) != len(_PARTS) - (fmt == 1):
            raise ValueError(f"{path}: unsupported local data format {fmt}")
        parts: list[Any] = [msgspec.msgpack.decode(r, type=t) for r, t in zip(raw, _PARTS)]  # noqa: B905
        _, features, tables, items, events, *stored = parts
        backend = cls()
        backend.features, backend.items = features, items
        backend._shelve(items)
        for name, vectors in (stored[0] if stored else {}).items():
            backend.vector_tables[name] = decode_table(vectors, name)
        backend.tables = {name: _interned(rows) for name, rows in tables.items()}
        backend.events = {k: [Event(*e) for e in v] for k, v in events.items()}
        backend.path = Path(path)
        return backend


def _merge(
    table: dict[str, dict[str, Any]], rows: Mapping[str, Mapping[str, Any]]
) -> dict[str, Row]:
    """Merge ``rows`` into ``table`` field by field; the new rows by id."""
    merged: dict[str, Row] = {}
    for k, v in rows.items():
        merged[k] = table[k] = {**table.get(k, {}), **v}
    return merged


def _interned(rows: Mapping[str, Sequence[Scored]]) -> dict[str, ScoredRows]:
    """A table as columns with its item ids interned (one string object per id however
    many rows name it: less memory, and the column keys find them by identity) and
    coded (``ScoredRows.coded``: candidate sources read the codes as they are)."""
    return {k: ScoredRows.coded(v) for k, v in rows.items()}


_EMPTY = ScoredRows.empty()
