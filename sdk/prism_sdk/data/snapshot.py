"""Data snapshots: what a run read, recorded once and served back.

:class:`RecordingBackend` wraps a backend and keeps the first answer to every read of
every key; :meth:`DataSnapshot.save` writes them to a JSON file and
:class:`SnapshotBackend` answers reads from it, so two runs over one snapshot see the
same data (a replay then shows what changed in the strategy, not in the data). A read
the snapshot does not hold raises :class:`SnapshotMiss`: the request's ``DataClient``
records a data error (the answer is degraded) and the backend counts it in ``misses``.

A read is kept per key: ``(kind, name, key)``, plus for ``events`` and ``unclicked``
the window (``window_s``: the read's ``since`` as seconds before the read, rounded),
for ``events`` the event types and for ``nearest`` the excluded ids (in ``types``; a
query vector's key names the vector, see ``DataClient.nearest``). Lists (``table`` and
``nearest`` rows, ``events``) are kept with the
``limit`` they were read with: a later read of a smaller limit, or of any limit once the
list came back shorter than its limit (it is whole), is served from the same entry.

The file (format version 1, ``docs/operators/traffic.md``)::

    {"format": "prism-data-snapshot", "v": 1, "created": 1796449734.2, "source": "local",
     "reads": [{"kind": "table", "name": "i2i", "key": "42", "limit": 30,
                "window_s": null, "types": null, "value": [["17", 0.5], ...]}, ...]}
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from ._base import DataBackend, Event, Read

FORMAT = "prism-data-snapshot"
VERSION = 1
LISTS = frozenset({"table", "events", "nearest"})
VECTORS = frozenset({"user_vectors", "item_vectors"})
WINDOWED = frozenset({"events", "unclicked"})

Key = tuple[str, str, str, float | None, tuple[str, ...] | None]
"""(kind, name, key, window_s, types)."""


class SnapshotMiss(LookupError):
    """A read the data snapshot does not hold."""


class SnapshotError(ValueError):
    """A file that is not a data snapshot (the message names the file)."""


class Entry(msgspec.Struct, frozen=True):
    kind: str
    name: str
    key: str
    value: Any
    limit: int | None = None
    window_s: float | None = None
    types: list[str] | None = None


class SnapshotFile(msgspec.Struct, frozen=True):
    format: str
    v: int
    reads: list[Entry]
    created: float = 0.0
    source: str = ""


def window_of(read: Read, now: float) -> float | None:
    """The read's window in whole seconds before ``now`` (``None``: no ``since``)."""
    if read.kind not in WINDOWED or read.since is None:
        return None
    return float(round(now - read.since))


def key_of(read: Read, key: str, now: float) -> Key:
    types = read.types if read.kind == "events" else None
    if read.kind == "nearest" and read.exclude:
        types = tuple(sorted(read.exclude))
    return (read.kind, read.name, key, window_of(read, now), types)


def _covers(stored_limit: int | None, stored_len: int, want: int | None) -> bool:
    """A list read with ``stored_limit`` that returned ``stored_len`` rows answers a read
    of ``want`` rows: it was not cut, or cut below ``want``."""
    if stored_limit is None or stored_len < stored_limit:
        return True
    return want is not None and want <= stored_limit


class DataSnapshot:
    """Recorded reads by key, with their limit (lists) and value (as read back)."""

    def __init__(self, source: str = "", created: float | None = None) -> None:
        self.source = source
        self.created = time.time() if created is None else created
        self.entries: dict[Key, tuple[int | None, Any]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, read: Read, key: str, now: float) -> Any:
        """The value of ``key`` for ``read``; :class:`SnapshotMiss` when not recorded."""
        k = key_of(read, key, now)
        found = self.entries.get(k)
        if found is None:
            raise SnapshotMiss(_describe(k, read.limit))
        limit, value = found
        if read.kind not in LISTS:
            return value
        if not _covers(limit, len(value), read.limit):
            raise SnapshotMiss(_describe(k, read.limit) + f" (recorded: limit {limit})")
        return value if read.limit is None else value[: read.limit]

    def add(self, read: Read, key: str, value: Any, now: float) -> None:
        """Keep ``value`` unless an answer that covers this read is kept already."""
        k = key_of(read, key, now)
        found = self.entries.get(k)
        if found is not None:
            if read.kind not in LISTS:
                return
            limit, kept = found
            if _covers(limit, len(kept), read.limit):
                return
        self.entries[k] = (read.limit, _plain(read.kind, value))

    # -- the file ---------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        out = Path(path)
        reads = [
            Entry(kind, name, key, value, limit, window, list(types) if types else None)
            for (kind, name, key, window, types), (limit, value) in self.entries.items()
        ]
        doc = SnapshotFile(FORMAT, VERSION, reads, self.created, self.source)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_bytes(msgspec.json.encode(doc, enc_hook=_enc_hook))
        tmp.replace(out)
        return out

    @classmethod
    def load(cls, path: str | Path) -> DataSnapshot:
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise SnapshotError(f"cannot read the data snapshot {path}: {exc.strerror}") from None
        try:
            doc = msgspec.json.decode(raw, type=SnapshotFile)
        except msgspec.DecodeError as exc:
            raise SnapshotError(f"{path} is not a data snapshot: {exc}") from None
        if doc.format != FORMAT or doc.v != VERSION:
            raise SnapshotError(
                f"{path}: format {doc.format!r} version {doc.v} (this reader: {FORMAT} {VERSION})"
            )
        snap = cls(doc.source, doc.created)
        for e in doc.reads:
            types = tuple(e.types) if e.types is not None else None
            key: Key = (e.kind, e.name, e.key, e.window_s, types)
            snap.entries[key] = (e.limit, _native(e.kind, e.value))
        return snap


class RecordingBackend:
    """``inner``'s answers, each read of each key kept once in ``snapshot``."""

    def __init__(self, inner: DataBackend, snapshot: DataSnapshot | None = None) -> None:
        self.inner = inner
        self.snapshot = snapshot if snapshot is not None else DataSnapshot(inner.name)
        self.name = f"recording:{inner.name}"
        self._lock = threading.Lock()

    def read(self, reads: Sequence[Read]) -> list[list[Any]]:
        out = self.inner.read(reads)
        now = time.time()
        with self._lock:
            for r, values in zip(reads, out, strict=True):
                for key, value in zip(r.keys, values, strict=True):
                    self.snapshot.add(r, key, value, now)
        return out

    def close(self) -> None:
        return None  # the inner backend belongs to its owner


class SnapshotBackend:
    """Answers reads from a :class:`DataSnapshot`; ``misses`` counts the keys it did not
    hold (each raised :class:`SnapshotMiss`, failing that round trip)."""

    def __init__(self, snapshot: DataSnapshot, name: str = "snapshot") -> None:
        self.snapshot = snapshot
        self.name = name
        self.misses = 0
        self.missed: list[str] = []
        """The first few missing reads, described."""
        self._lock = threading.Lock()

    def read(self, reads: Sequence[Read]) -> list[list[Any]]:
        now = time.time()
        out: list[list[Any]] = []
        for r in reads:
            values = []
            for key in r.keys:
                try:
                    values.append(self.snapshot.lookup(r, key, now))
                except SnapshotMiss as exc:
                    with self._lock:
                        self.misses += 1
                        if len(self.missed) < 10:
                            self.missed.append(str(exc))
                    raise
            out.append(values)
        return out

    def close(self) -> None:
        return None


def _describe(k: Key, limit: int | None) -> str:
    kind, name, key, window, types = k
    parts = [kind] + ([name] if name else []) + [repr(key)]
    if window is not None:
        parts.append(f"window {window:g}s")
    if types is not None:
        parts.append(f"types {','.join(types)}")
    if limit is not None:
        parts.append(f"limit {limit}")
    return "not in the data snapshot: " + " ".join(parts)


def _plain(kind: str, value: Any) -> Any:
    """A copy of a read's value as JSON-ready data (lists stay lists)."""
    if kind in VECTORS:
        return None if value is None else [float(x) for x in value]
    if kind == "table" or kind == "nearest":
        return [(str(i), float(s)) for i, s in value]
    if kind == "events":
        return [Event(float(e[0]), str(e[1]), str(e[2])) for e in value]
    if kind == "unclicked":
        return dict(value)
    return None if value is None else dict(value)


def _native(kind: str, value: Any) -> Any:
    """A value read from the file as a backend returns it."""
    if kind in VECTORS:
        return None if value is None else np.asarray(value, np.float32)
    if kind == "table" or kind == "nearest":
        return [(str(i), float(s)) for i, s in value]
    if kind == "events":
        return [Event(float(ts), str(item), str(typ)) for ts, item, typ in value]
    return value


def _enc_hook(obj: Any) -> Any:
    """numpy scalars and arrays (feature rows may hold them) as plain numbers and lists."""
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        return tolist()
    if isinstance(obj, Iterable):
        return list(obj)
    raise NotImplementedError(f"cannot store {type(obj).__name__} in a data snapshot")
