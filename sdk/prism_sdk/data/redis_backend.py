"""The production backend: Redis (or Redis Cluster) through redis-py + hiredis, RESP2.

Layout (``P`` is the key prefix, default ``prism:``; every value is msgspec msgpack):

* ``P{t:NAME}:V:KEY`` one blob per key of version ``V`` of result table ``NAME``:
  its item ids and their scores as packed doubles, behind a format byte (see
  :mod:`.redis_io`), read back as a :class:`ScoredRows`; ``P{t:NAME}:p`` holds the current
  version, ``P{t:NAME}:n`` the version counter (a version is ``COUNT.RANDOM``, never
  reused; versions written before the random part are plain counts, still read).
* ``P{i}:ID`` an item of the forward index; ``P{i}#off`` the ids of those off the shelf,
  ``P{i}#v`` its change counter (see :mod:`.redis_shelf`); ``P{f:NS}:KEY`` the features
  of ``KEY``.
* ``P{v:NAME}:…`` vector table ``NAME`` (see :mod:`.redis_vectors`).
* ``Pe:USER`` a ZSET of the user's events scored by ``ts``; members are an 8-byte
  big-endian write sequence (ties in ``ts`` read newest-written first, and equal
  events stay distinct) followed by ``[ts, item, type]``. Each user keeps the
  newest ``events_cap`` events.

Scores live inside packed blobs because parsing zset scores dominates client time.

**One round trip per ``read``.** Every read of a batch goes into one write: one
MGET per table/items/features read, one ZREVRANGEBYSCORE per user of an events or
unclicked read (the window's events; exposures minus clicks are counted client-side,
which costs less than a Lua script decoding msgpack on the server).
Table versions are cached; the round trip ends with a GET of the pointer of every
table it read. When a pointer differs from the cached version (first read, or the
table was replaced) the cache is updated and only those table reads are sent again.
A node keeps the rows it decoded for a version (:mod:`.row_cache`, ``row_cache_rows``,
0: off) and fetches only the keys it does not hold; the pointer GET still checks them.
Vector reads (``user_vectors``, ``item_vectors``, ``nearest``) are the exception: one
round trip of their own (a ``nearest`` checks its hits' shelf status against the node's
copy of the off-shelf set, see :mod:`.redis_shelf`).

**Atomic replacement.** :meth:`RedisBackend.replace_table` loads a new version under
fresh keys, flips the pointer with one ``SET ... GET``, then UNLINKs the previous
version's keys (SCAN). A reader never sees a half-loaded table: the pointer GET
comes *after* the data MGETs on the same connection, every version is fresh (INCR)
so the pointer names it during one interval only, and a version is deleted only
after the pointer left it; so if the pointer still names the version that was
read, that version was complete and alive throughout.
Concurrent replacements of one table are last-flip-wins; a writer that dies before
its flip leaves its unreferenced version behind (no reader ever sees it).

**Cluster.** The hash tags above keep every multi-key command and a table's pointer
and data in one slot, so the pipeline stays valid and the ordering argument holds
per node (a table, the item index, and each feature namespace sit on one node
each). A cluster pipeline costs one round trip per node involved.

**Failures.** With ``timeout_ms`` reads use their own client: that socket timeout,
no retries; :meth:`RedisBackend.read_within` replaces the timeout with a budget for
the whole round trip (a scene's read budget, see :mod:`.redis_budget`). A connection
error or timeout opens a :class:`CircuitBreaker` for ``breaker_s``: reads then fail
at once (the DataClient returns empty values and flags them), except that after a
timeout a read with a larger budget still tries; one read probes when the cooldown
ends, and the pool reconnects by itself.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from math import inf
from typing import TYPE_CHECKING, Any

from ._base import Event, Read, Scored, unclicked
from .ann import VECTOR_READS
from .breaker import CircuitBreaker
from .erase import USER_NAMESPACES, counts, user_tables
from .redis_budget import deadline
from .redis_io import (
    CHUNK,
    GLOB_SPECIAL,
    SEQ,
    chunks,
    connect,
    connection_errors,
    decode_any,
    decode_event,
    decode_rows,
    encode,
    encode_event,
    encode_rows,
    new_version,
    ping_every_server,
    round_trip,
    timed_out,
)
from .redis_shelf import RedisShelf
from .redis_vectors import RedisVectors
from .row_cache import DEFAULT_ROWS, RowCache, kept
from .scored import ScoredRows
from .vectors import VectorTable

if TYPE_CHECKING:
    from .redis_io import Client

_MAX_ROUNDS = 8
Held = tuple[list[str], list[ScoredRows | None]]


class RedisBackend:
    """``RedisBackend.from_url("redis://host:6379/0", prefix="prism:")``.

    ``round_trips`` counts the round trips sent by :meth:`read` (one per call in the
    steady state). ``timeout_ms`` is the read client's own timeout (``reader``'s), what
    a read without a budget may wait. ``row_cache_rows`` bounds the decoded table rows
    this node keeps (:attr:`row_cache`, ``None`` with ``0``; see :mod:`.row_cache`).
    """

    name = "redis"

    def __init__(
        self,
        client: Client,
        prefix: str = "prism:",
        events_cap: int = 1000,
        *,
        reader: Client | None = None,
        breaker_s: float = 1.0,
        timeout_ms: float | None = None,
        events_max_age_s: float | None = None,
        row_cache_rows: int = DEFAULT_ROWS,
    ) -> None:
        self._client = client
        self._reader = reader or client
        self._own_budget_s = inf if timeout_ms is None else timeout_ms / 1000
        self._down = connection_errors()
        self.breaker = CircuitBreaker(breaker_s)
        self.prefix = prefix
        self.events_cap = events_cap
        self.events_max_age_s = events_max_age_s
        self.round_trips = 0
        self._versions: dict[str, str | None] = {}  # table -> cached version (None: absent)
        self._last_seq = 0
        self.vectors = RedisVectors(client, self._reader, prefix)
        self.shelf = RedisShelf(client, self._reader, self._items())
        self.row_cache = RowCache(row_cache_rows) if row_cache_rows > 0 else None

    @classmethod
    def from_url(
        cls,
        url: str,
        prefix: str = "prism:",
        *,
        cluster: bool = False,
        events_cap: int = 1000,
        timeout_ms: float | None = None,
        breaker_s: float = 1.0,
        events_max_age_s: float | None = None,
        row_cache_rows: int = DEFAULT_ROWS,
        **kwargs: Any,
    ) -> RedisBackend:
        """Connect (see :func:`.redis_io.connect`); writes keep redis-py's defaults."""
        client, reader = connect(url, cluster=cluster, timeout_ms=timeout_ms, **kwargs)
        return cls(
            client, prefix, events_cap, reader=reader, breaker_s=breaker_s,
            timeout_ms=timeout_ms, events_max_age_s=events_max_age_s,
            row_cache_rows=row_cache_rows,
        )  # fmt: skip

    @property
    def client(self) -> Client:
        return self._client

    # -- keys ------------------------------------------------------------------
    def _table(self, name: str) -> str:
        return f"{self.prefix}{{t:{name}}}:"

    def _items(self) -> str:
        return f"{self.prefix}{{i}}:"

    def _features(self, namespace: str) -> str:
        return f"{self.prefix}{{f:{namespace}}}:"

    def _events(self, user_id: str) -> str:
        return f"{self.prefix}e:{user_id}"

    # -- reads -----------------------------------------------------------------
    def read(self, reads: Sequence[Read]) -> list[list[Any]]:
        return self._guarded(reads, self._own_budget_s)

    def read_within(self, reads: Sequence[Read], budget_s: float) -> list[list[Any]]:
        """:meth:`read`, giving up ``budget_s`` from now (connecting, sending and every
        reply together) instead of after the read client's own timeout."""
        with deadline(budget_s):
            return self._guarded(reads, budget_s)

    def _guarded(self, reads: Sequence[Read], budget_s: float) -> list[list[Any]]:
        self.breaker.check(budget_s)
        try:
            out = self._read(reads)
        except self._down as exc:
            self.breaker.failure(exc, budget_s if timed_out(exc) else inf)
            raise
        self.breaker.success()
        return out

    def _read(self, reads: Sequence[Read]) -> list[list[Any]]:
        out: list[list[Any]] = [[] for _ in reads]
        vec = [i for i, r in enumerate(reads) if r.kind in VECTOR_READS]
        if vec:
            answers = self.vectors.read([reads[i] for i in vec], self.shelf)
            for i, values in zip(vec, answers, strict=True):
                out[i] = values
        todo = [i for i, r in enumerate(reads) if r.keys and r.kind not in VECTOR_READS]
        for _ in range(_MAX_ROUNDS):
            if not todo:
                return out
            todo = self._read_round(reads, todo, out)
        raise RuntimeError(f"table versions kept changing during {_MAX_ROUNDS} read rounds")

    def _read_round(
        self, reads: Sequence[Read], todo: list[int], out: list[list[Any]]
    ) -> list[int]:
        """Send ``todo`` in one round trip; fill ``out``; return the reads to send again."""
        commands: list[tuple[Any, ...]] = []
        sent: list[tuple[int, int, str | None]] = []  # (read, commands issued, version read)
        tables: dict[str, int] = {}  # table -> index of its pointer GET
        held: dict[int, Held] = {}  # table read -> its keys and the rows the cache held
        for i in todo:
            r = reads[i]
            if r.kind == "table":
                tables.setdefault(r.name, len(tables))
                ver = self._versions.get(r.name)
                if ver is None:  # unknown or absent: the pointer GET decides
                    sent.append((i, 0, None))
                    continue
                base = f"{self._table(r.name)}{ver}:"
                keys = [base + k for k in r.keys]
                if self.row_cache is not None and kept(r.name):
                    hits = self.row_cache.get_many(keys)
                    held[i] = (keys, hits)
                    keys = [key for key, rows in zip(keys, hits, strict=True) if rows is None]
                if keys:
                    commands.append(("MGET", *keys))
                sent.append((i, 1 if keys else 0, ver))
            elif r.kind == "items" or r.kind == "features":
                base = self._items() if r.kind == "items" else self._features(r.name)
                commands.append(("MGET", *[base + k for k in r.keys]))
                sent.append((i, 1, None))
            elif r.kind == "events" or r.kind == "unclicked":
                commands.extend(self._events_commands(r))
                sent.append((i, len(r.keys), None))
            else:
                raise ValueError(f"unknown read kind {r.kind!r}")
        commands.extend(("GET", self._table(name) + "p") for name in tables)
        self.round_trips += 1
        res = round_trip(self._reader, commands)
        pointers = res[len(res) - len(tables) :]
        stale: list[int] = []
        pos = 0
        for i, n, ver in sent:
            r = reads[i]
            values = res[pos : pos + n]
            pos += n
            if r.kind == "table":
                raw = pointers[tables[r.name]]
                current = None if raw is None else raw.decode()
                self._versions[r.name] = current
                if current is None:
                    out[i] = [[] for _ in r.keys]
                elif current != ver:
                    stale.append(i)
                else:
                    out[i] = self._table_rows(values[0] if values else [], held.get(i), r.limit)
            elif r.kind == "events":
                out[i] = [self._decode_events(r, members) for members in values]
            elif r.kind == "unclicked":
                out[i] = [unclicked(self._decode_events(None, members)) for members in values]
            else:
                out[i] = [None if v is None else decode_any(v) for v in values[0]]
        return stale

    def _events_commands(self, r: Read) -> list[tuple[Any, ...]]:
        low: float | str = "-inf" if r.since is None else r.since
        page: tuple[Any, ...] = ()
        if r.limit is not None and r.types is None and r.kind == "events":
            page = ("LIMIT", 0, max(r.limit, 1))
        return [("ZREVRANGEBYSCORE", self._events(k), "+inf", low, *page) for k in r.keys]

    def _table_rows(
        self, values: list[bytes | None], held: Held | None, limit: int | None
    ) -> list[ScoredRows]:
        """A table read's rows: ``values`` decoded, in the gaps of what the row cache held
        (and kept there)."""
        decoded = [ScoredRows.empty() if v is None else decode_rows(v) for v in values]
        if held is None or self.row_cache is None:
            out = decoded
        else:
            keys, hits = held
            fetched = iter(decoded)
            out = [next(fetched) if rows is None else rows for rows in hits]
            self.row_cache.put_many(
                [(key, rows) for key, rows, hit in zip(keys, out, hits, strict=True) if hit is None]
            )
        if limit is None:
            return out
        return [r if len(r.ids) <= limit else r[:limit] for r in out]

    @staticmethod
    def _decode_events(r: Read | None, members: list[bytes]) -> list[Event]:
        """Same semantics as the local backend: a limit below 1 still yields one event."""
        events = [decode_event(memoryview(m)[SEQ.size :]) for m in members]
        if r is None:
            return events
        if r.types is not None:
            types = r.types
            events = [e for e in events if e.type in types]
        if r.limit is not None:
            del events[max(r.limit, 1) :]
        return events

    def close(self) -> None:
        if self._reader is not self._client:
            self._reader.close()
        self._client.close()

    # -- writes ----------------------------------------------------------------
    def replace_table(self, name: str, rows: Mapping[str, Sequence[Scored]]) -> None:
        head = self._table(name)
        version = new_version(self._client, head + "n")
        base = f"{head}{version}:"
        for chunk in chunks(rows.items()):
            self._client.mset({base + k: encode_rows(v) for k, v in chunk})
        old = self._client.set(head + "p", version, get=True)
        self._versions[name] = version
        if isinstance(old, bytes):
            self._unlink_matching(f"{head}{old.decode()}:".translate(GLOB_SPECIAL) + "*")

    def replace_vectors(self, name: str, table: VectorTable) -> None:
        """Publish a new version of vector table ``name`` (see :mod:`.redis_vectors`)."""
        self.vectors.replace(name, table)

    def warm(self) -> None:
        """Connect the reader (a first read would otherwise connect inside its request's
        read budget) and build this node's index of every published vector table now."""
        ping_every_server(self._reader)
        self.vectors.warm()

    def vector_status(self) -> dict[str, dict[str, Any]]:
        """Per vector table: this node's serving index and its last failed version."""
        return self.vectors.status()

    def _unlink_matching(self, pattern: str) -> None:
        for keys in chunks(self._client.scan_iter(match=pattern, count=CHUNK)):
            self._client.unlink(*keys)

    def upsert_items(self, rows: Mapping[str, Mapping[str, Any]]) -> None:
        self.shelf.prepare()
        self._merge(self._items(), rows, self.shelf)

    def delete_items(self, ids: Iterable[str]) -> None:
        self.shelf.prepare()
        base = self._items()
        for chunk in chunks(ids):
            self._client.unlink(*[base + k for k in chunk])
            self.shelf.deleted(chunk)

    def upsert_features(self, namespace: str, rows: Mapping[str, Mapping[str, Any]]) -> None:
        self._merge(self._features(namespace), rows)

    def _merge(
        self, base: str, rows: Mapping[str, Mapping[str, Any]], shelf: RedisShelf | None = None
    ) -> None:
        """Read-modify-write per chunk: field-level merge like the local backend (and, for
        items, the off-shelf set in the same write).

        Concurrent writers of the same key are last-writer-wins for the whole blob.
        """
        for chunk in chunks(rows.items()):
            old: list[Any] = self._client.mget([base + k for k, _ in chunk])
            before: dict[str, dict[str, Any] | None] = {
                k: None if prev is None else decode_any(prev)
                for (k, _), prev in zip(chunk, old, strict=True)
            }
            after = {k: {**(before[k] or {}), **new} for k, new in chunk}
            self._client.mset({base + k: encode(row) for k, row in after.items()})
            if shelf is not None:
                shelf.written(before, after)

    def append_events(self, user_id: str, events: Iterable[Event]) -> None:
        members: dict[bytes, float] = {}
        for e in events:
            ts = float(e.ts)
            members[SEQ.pack(self._next_seq()) + encode_event(e)] = ts
        if not members:
            return
        key = self._events(user_id)
        pipe = self._client.pipeline(transaction=False)
        pipe.zadd(key, members)
        pipe.zremrangebyrank(key, 0, -self.events_cap - 1)
        if self.events_max_age_s is not None:
            pipe.zremrangebyscore(key, "-inf", f"({time.time() - self.events_max_age_s!r}")
            pipe.expire(key, max(1, math.ceil(self.events_max_age_s)))
        pipe.execute()

    def _next_seq(self) -> int:
        """Nanosecond clock, strictly increasing within this process."""
        self._last_seq = max(time.time_ns(), self._last_seq + 1)
        return self._last_seq

    # -- forgetting ------------------------------------------------------------
    def _glob_prefix(self) -> str:
        return self.prefix.translate(GLOB_SPECIAL)

    def forget_user(self, user_id: str) -> dict[str, int]:
        """Delete the user's events, rows in the user feature namespaces and in the
        current version of every ``u2i_`` table, and vectors (see :mod:`.erase`)."""
        glob = self._glob_prefix()
        key = self._events(user_id)
        pipe = self._client.pipeline(transaction=False)
        pipe.zcard(key)
        pipe.unlink(key)
        for ns in USER_NAMESPACES:
            pipe.unlink(self._features(ns) + user_id)
        n_events, _, *features = pipe.execute()
        names = [
            k.decode()[len(self.prefix) + len("{t:") : -len("}:p")]
            for k in self._client.scan_iter(match=f"{glob}{{t:u2i_*}}:p", count=CHUNK)
        ]
        tables = 0
        for name in user_tables(names):
            head = self._table(name)
            version = self._client.get(head + "p")
            if isinstance(version, bytes):
                tables += int(self._client.unlink(f"{head}{version.decode()}:{user_id}"))
        vectors = self.vectors.forget_user(user_id, glob)
        return counts(int(n_events), sum(int(f) for f in features), tables, vectors)

    def trim_events(self, older_than: float) -> int:
        """Delete every user's events stamped before ``older_than`` (one SCAN of the
        users' keys; a user left with none has no key any more); how many."""
        gone = 0
        keys = self._client.scan_iter(match=f"{self._glob_prefix()}e:*", count=CHUNK)
        for chunk in chunks(keys):
            pipe = self._client.pipeline(transaction=False)
            for key in chunk:
                pipe.zremrangebyscore(key, "-inf", f"({older_than!r}")
            gone += sum(int(n) for n in pipe.execute())
        return gone
