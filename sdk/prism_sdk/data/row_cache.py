"""A node's memory of decoded result-table rows, for the Redis backend.

A result table's version never changes once its pointer names it (see
:mod:`.redis_backend`), so the rows of ``P{t:NAME}:V:KEY`` decoded once are the rows of
that key for as long as ``V`` is served. :class:`RowCache` keeps them by that Redis key:
a read sends an ``MGET`` only for the keys it does not hold, and the pointer ``GET``
that ends every round trip still decides whether the version read is the current
one (a replaced table misses, and its old keys age out).

What makes it exact:

* versions are never reused: a version is the table's counter *and* a random part, so
  a counter that goes back (a flushed database, a failover to a replica that lagged)
  cannot name rows this node decoded under an older table;
* tables keyed by user (``u2i_…``) are not kept: forgetting a user deletes their row
  from the current version in place (see :mod:`.erase`), on whichever node ran it.

The memory is bounded by rows (a key without rows counts as one); the least recently
read keys go first. Its hits share the :class:`~.scored.ScoredRows` they return with
later reads, as the embedded backend's tables do: rows are not to be changed in place.
They keep the ids' vocabulary codes once a stage asked for them, so a candidate source
built from a hit does no work per row.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from .erase import USER_TABLE_PREFIX
from .scored import ScoredRows

DEFAULT_ROWS = 500_000
"""About 40 MB of decoded rows with short ids (``bench/data_reads.py`` prints the figure)."""


def kept(table: str) -> bool:
    """Whether the rows of ``table`` may be kept (not a table keyed by user)."""
    return not table.startswith(USER_TABLE_PREFIX)


class RowCache:
    """Decoded rows by Redis key, at most ``max_rows`` rows (``max_rows`` ≥ 1)."""

    def __init__(self, max_rows: int = DEFAULT_ROWS) -> None:
        if max_rows < 1:
            raise ValueError(f"max_rows is at least 1, got {max_rows}")
        self.max_rows = max_rows
        self._rows: OrderedDict[str, ScoredRows] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = self.evicted = 0

    def get_many(self, keys: list[str]) -> list[ScoredRows | None]:
        """The rows held for each key (``None``: not held); the held ones become the most
        recently read."""
        rows = self._rows
        hits = 0
        with self._lock:
            found = [rows.get(key) for key in keys]
            for key, hit in zip(keys, found, strict=True):
                if hit is not None:  # (not found.count(None): that compares rows)
                    rows.move_to_end(key)
                    hits += 1
            self.hits += hits
            self.misses += len(keys) - hits
        return found

    def put_many(self, pairs: list[tuple[str, ScoredRows]]) -> None:
        """Keep each key's rows (the newest read), making room by forgetting the least
        recently read keys; rows larger than the whole cache are not kept."""
        rows = self._rows
        with self._lock:
            for key, value in pairs:
                size = max(len(value.ids), 1)
                if size > self.max_rows:
                    continue
                old = rows.pop(key, None)
                if old is not None:
                    self._size -= max(len(old.ids), 1)
                rows[key] = value
                self._size += size
            while self._size > self.max_rows:
                _, gone = rows.popitem(last=False)
                self._size -= max(len(gone.ids), 1)
                self.evicted += 1

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            self._size = 0

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "keys": len(self._rows),
                "rows": self._size,
                "max_rows": self.max_rows,
                "hits": self.hits,
                "misses": self.misses,
                "evicted": self.evicted,
            }
