"""Which items are off the shelf, for the check of a ``nearest`` read's hits on Redis.

Layout, beside the forward index ``P{i}:ID`` (same hash tag: one cluster slot):

* ``P{i}#off`` a SET of the ids whose row has a ``status`` other than ``"on"``;
* ``P{i}#v`` a counter, bumped when a write changes who is in the set. It exists once
  the set is complete: the first writer that finds it missing builds the set from
  every item (one SCAN), then creates it at a random value, so a database that was
  flushed (or a failover to a replica that lagged) does not count again through values
  a node's copy was filed under.

A ``nearest`` read sends ``GET P{i}#v`` and ``SCARD P{i}#off`` in its round trip, then
checks its hits:

* against this node's copy of the set, fetched (``SMEMBERS``) when the counter moved
  since the copy was taken, as long as the set holds at most ``cap`` ids (a refetch
  then costs a few milliseconds, once per change and node);
* with ``SMISMEMBER`` of the hits (one round trip) when the set is larger;
* with an ``MGET`` of the hits' rows (one round trip, every row decoded) when the
  counter is missing: data written before the set existed, until a writer builds it.

Every way gives the same answer as the rows themselves: the copy is taken after the
counter was read and the writer bumps the counter after changing the set, so a copy
is never older than the counter it is filed under.

The first build is not atomic with writes: a writer of an older version (which does
not keep the set) or a second writer changing an item's status while the build scans
can leave that item's entry stale until its next write. Upgrade the writers (jobs,
imports) together, and let one write of items build the set before the others start.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._base import off_shelf
from .ann import Allowed
from .redis_io import CHUNK, GLOB_SPECIAL, chunks, decode_any, round_trip

if TYPE_CHECKING:
    from .redis_io import Client

CAP = 20_000
"""Above this many off-shelf ids a node asks Redis about each search's hits instead of
keeping a copy of the set."""


class RedisShelf:
    """The off-shelf set of a :class:`~prism_sdk.data.RedisBackend`'s forward index
    (``items``: its key prefix, ``P{i}:``)."""

    def __init__(self, client: Client, reader: Client, items: str, cap: int = CAP) -> None:
        self._client, self._reader, self._items = client, reader, items
        self.off_key, self.version_key = items[:-1] + "#off", items[:-1] + "#v"
        self.cap = cap
        self._copy: tuple[bytes | None, frozenset[str]] = (None, frozenset())
        self._complete = False  # this writer saw the counter: the set is maintained

    # -- reads -----------------------------------------------------------------
    def probe(self) -> list[tuple[Any, ...]]:
        """The commands a read with a shelf check adds to its round trip."""
        return [("GET", self.version_key), ("SCARD", self.off_key)]

    def allowed(self, version: bytes | None, size: int) -> Allowed:
        """The check of hits, given the replies to :meth:`probe`."""
        if version is None:
            return self._by_rows
        if size > self.cap:
            return self._by_members
        copied, off = self._copy
        if copied != version:  # taken after ``version`` was read: never older than it
            members = round_trip(self._reader, [("SMEMBERS", self.off_key)])[0]
            off = frozenset(m.decode() for m in members)
            self._copy = (version, off)
        return lambda ids: [i not in off for i in ids]

    def _by_members(self, ids: list[str]) -> list[bool]:
        flags = round_trip(self._reader, [("SMISMEMBER", self.off_key, *ids)])[0]
        return [not f for f in flags]

    def _by_rows(self, ids: list[str]) -> list[bool]:
        rows = round_trip(self._reader, [("MGET", *[self._items + i for i in ids])])[0]
        return [row is None or not off_shelf(decode_any(row)) for row in rows]

    # -- writes ----------------------------------------------------------------
    def prepare(self) -> None:
        """Before a write of items: build the set if nobody has (once per writer)."""
        if self._complete:
            return
        if not self._client.exists(self.version_key):
            self._build()
        self._complete = True

    def _build(self) -> None:
        glob = self._items.translate(GLOB_SPECIAL) + "*"
        start = len(self._items)
        for keys in chunks(self._client.scan_iter(match=glob, count=CHUNK)):
            rows: list[Any] = self._client.mget(keys)
            off = [_text(k)[start:] for k, row in zip(keys, rows, strict=True)
                   if row is not None and off_shelf(decode_any(row))]  # fmt: skip
            if off:
                self._client.sadd(self.off_key, *off)
        self._client.set(self.version_key, secrets.randbits(48))  # not from 1: see above

    def written(
        self,
        before: Mapping[str, Mapping[str, Any] | None],
        after: Mapping[str, Mapping[str, Any]],
    ) -> None:
        """Once rows ``before`` became ``after``: their entries in the set (rewritten
        either way, which repairs what a writer without the set left), then the counter
        if one of them moved in or out."""
        pipe: Any = self._client.pipeline(transaction=False)
        off = [k for k, row in after.items() if off_shelf(row)]
        on = [k for k, row in after.items() if not off_shelf(row)]
        if off:
            pipe.sadd(self.off_key, *off)
        if on:
            pipe.srem(self.off_key, *on)
        if any(off_shelf(before[k]) != off_shelf(row) for k, row in after.items()):
            self._bump(pipe)
        pipe.execute()

    def deleted(self, ids: list[str]) -> None:
        """Once items ``ids`` were deleted: out of the set, and the counter bumped."""
        if ids:
            pipe: Any = self._client.pipeline(transaction=False)
            pipe.srem(self.off_key, *ids)
            self._bump(pipe)
            pipe.execute()

    def _bump(self, pipe: Any) -> None:
        """The counter, one up (from a random value if it was gone: a flushed database)."""
        pipe.set(self.version_key, secrets.randbits(48), nx=True)
        pipe.incr(self.version_key)


def _text(key: bytes | str) -> str:
    return key.decode() if isinstance(key, bytes) else key
