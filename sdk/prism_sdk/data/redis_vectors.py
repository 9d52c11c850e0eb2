"""Vector tables in Redis, and the index each node builds from them.

Layout (``H`` is ``P{v:NAME}:``, every table's keys in one cluster slot):

* ``H V:meta`` msgpack ``{dim, items, users, chunks, meta}`` of version ``V``;
* ``H V:i:C`` chunk ``C`` of its item vectors: msgpack ``[[item, ...], float32 bytes]``;
* ``H V:u:USER`` one user's vector, float32 little-endian bytes;
* ``H p`` the current version, ``H prev`` the one before, ``H n`` the version counter;
  a version is ``COUNT.RANDOM`` (as a result table's: a node's index is filed under a
  version that no later table can have, even after the counter went back).

**Publishing** writes a version under fresh keys, flips ``p`` (``SET ... GET``), moves
the old current version to ``prev`` and unlinks the version ``prev`` named until then:
the previous version stays readable while nodes build the new one.

**Serving.** A node holds one :class:`VectorIndex` per table, built by :meth:`warm`
before the node is ready; a table published later is built by its first read (the read
waits); afterwards each read's pointer GET
tells when a new version is published, and the node builds it in a background thread
while the old one keeps serving (user vectors read from the old version's keys), then
swaps it in with one assignment. A version that cannot be built (missing keys, corrupt
data) is recorded in :meth:`RedisVectors.status` and the previous index keeps serving.
A user vector is read like a feature: one MGET of the batch's users per table.
Off-shelf hits are checked as :mod:`.redis_shelf` says (in the steady state, against
this node's copy of the off-shelf set: no more round trips).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np

from ._base import Read
from .ann import VectorIndex, answer
from .redis_io import CHUNK, chunks, encode, new_version, round_trip
from .vectors import Matrix, Vectors, VectorTable, VectorTableError, from_bytes, to_bytes

if TYPE_CHECKING:
    from .redis_io import Client
    from .redis_shelf import RedisShelf

log = logging.getLogger("prism.data.vectors")

_meta = msgspec.msgpack.Decoder(dict[str, Any]).decode
_chunk = msgspec.msgpack.Decoder(tuple[list[str], bytes]).decode


class RedisVectors:
    """The vector tables of a :class:`~prism_sdk.data.RedisBackend` (its clients and
    key prefix)."""

    def __init__(self, client: Client, reader: Client, prefix: str) -> None:
        self._client, self._reader, self.prefix = client, reader, prefix
        self._indexes: dict[str, VectorIndex] = {}
        self._failed: dict[str, tuple[str, str]] = {}  # table -> (version, why)
        self._builds: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def head(self, name: str) -> str:
        return f"{self.prefix}{{v:{name}}}:"

    # -- writes ----------------------------------------------------------------
    def replace(self, name: str, table: VectorTable) -> None:
        table.checked(name)
        head = self.head(name)
        version = new_version(self._client, head + "n")
        base = f"{head}{version}:"
        items = table.items
        n_chunks = 0
        for start in range(0, len(items.ids), CHUNK):
            rows = slice(start, start + CHUNK)
            blob = encode((items.ids[rows], to_bytes(items.matrix[rows])))
            self._client.set(f"{base}i:{n_chunks}", blob)
            n_chunks += 1
        users = table.users
        for part in chunks(range(len(users.ids))):
            self._client.mset({f"{base}u:{users.ids[i]}": to_bytes(users.matrix[i]) for i in part})
        meta = {
            "dim": table.dim, "items": len(items.ids), "users": len(users.ids),
            "chunks": n_chunks, "meta": dict(table.meta),
        }  # fmt: skip
        self._client.set(base + "meta", encode(meta))
        old = self._client.set(head + "p", version, get=True)
        if isinstance(old, bytes):
            older = self._client.set(head + "prev", old, get=True)
            if isinstance(older, bytes):
                self.unlink_version(name, older.decode())

    def unlink_version(self, name: str, version: str) -> None:
        pattern = f"{self.head(name)}{version}:*"
        for keys in chunks(self._client.scan_iter(match=pattern, count=CHUNK)):
            self._client.unlink(*keys)

    def forget_user(self, user_id: str, glob_prefix: str) -> int:
        """Delete the user's vector from the current and the previous version of every
        vector table (``glob_prefix``: the key prefix escaped for ``SCAN MATCH``); how
        many vectors went."""
        heads = [
            key.decode()[: -len("p")]
            for key in self._client.scan_iter(match=f"{glob_prefix}{{v:*}}:p", count=CHUNK)
        ]
        keys: list[str] = []
        for head in heads:
            versions = self._client.mget([head + "p", head + "prev"])
            keys += [f"{head}{v.decode()}:u:{user_id}" for v in versions if isinstance(v, bytes)]
        return sum(int(self._client.unlink(key)) for key in keys)

    # -- the index -------------------------------------------------------------
    def load(self, name: str, version: str) -> VectorIndex:
        """Read version ``version`` and build its index (raises what is wrong with it)."""
        base = f"{self.head(name)}{version}:"
        raw = self._reader.get(base + "meta")
        if not isinstance(raw, bytes):
            raise VectorTableError(f"vector table {name!r} version {version} has no meta key")
        try:
            meta = _meta(raw)
            dim, n_chunks = int(meta["dim"]), int(meta["chunks"])
            ids: list[str] = []
            parts: list[Matrix] = []
            keys = [f"{base}i:{c}" for c in range(n_chunks)]
            for c, blob in enumerate(self._reader.mget(keys) if keys else []):
                if not isinstance(blob, bytes):
                    raise VectorTableError(f"chunk {c} of {n_chunks} is missing")
                chunk_ids, data = _chunk(blob)
                ids += chunk_ids
                parts.append(from_bytes(data, len(chunk_ids), dim, f"chunk {c}"))
            if len(ids) != int(meta["items"]):
                raise VectorTableError(f"{len(ids)} items, the meta says {meta['items']}")
        except (msgspec.DecodeError, KeyError, ValueError, TypeError) as exc:
            raise VectorTableError(
                f"vector table {name!r} version {version} is corrupt: {exc}"
            ) from None
        matrix = np.concatenate(parts) if parts else np.zeros((0, dim), np.float32)
        users = Vectors.of([], np.zeros((0, dim), np.float32))
        described = {**(meta.get("meta") or {}), "users": str(meta["users"])}  # not loaded here
        table = VectorTable(users, Vectors.of(ids, matrix), described)
        return VectorIndex(table.checked(name), version)

    def _build(self, name: str, version: str) -> VectorIndex | None:
        """Build and swap in ``version``; on failure record why (the old one serves)."""
        try:
            index = self.load(name, version)
        except Exception as exc:
            why = f"{type(exc).__name__}: {exc}"
            log.warning("event=vectors_failed table=%s version=%s error=%s", name, version, why)
            self._failed[name] = (version, why)
            return None
        self._indexes[name] = index
        self._failed.pop(name, None)
        log.info("event=vectors_loaded table=%s %s", name, index.describe())
        return index

    def warm(self) -> None:
        """Build the index of every published table now (one that fails is recorded in
        :meth:`status`; its reads fail as before)."""
        pattern = f"{self.prefix}{{v:*}}:p"
        for key in self._reader.scan_iter(match=pattern, count=CHUNK):
            raw = key.decode() if isinstance(key, bytes) else str(key)
            name = raw[len(self.prefix) + 3 : -3]
            version = self._reader.get(raw)
            if isinstance(version, bytes):
                try:
                    self._first(name, version.decode())
                except VectorTableError:  # recorded in status(); its reads fail as before
                    pass

    def _build_later(self, name: str, version: str) -> None:
        with self._lock:
            running = self._builds.get(name)
            if running is not None and running.is_alive():
                return
            thread = threading.Thread(
                target=self._build, args=(name, version), name=f"vectors-{name}", daemon=True
            )
            self._builds[name] = thread
            thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Until the background builds started so far have ended."""
        for thread in list(self._builds.values()):
            thread.join(timeout)

    def status(self) -> dict[str, dict[str, Any]]:
        """Per table: the serving index (version, kind, sizes) and the last failure."""
        out: dict[str, dict[str, Any]] = {n: i.describe() for n, i in self._indexes.items()}
        for name, (version, why) in self._failed.items():
            out.setdefault(name, {})["error"] = f"version {version}: {why}"
        return out

    # -- reads -----------------------------------------------------------------
    def read(self, reads: Sequence[Read], shelf: RedisShelf) -> list[list[Any]]:
        """Answer vector reads: one round trip for the users' vectors, the pointers and
        the shelf's probe, then the searches (and the off-shelf check, see
        :mod:`.redis_shelf`) in this process. Each table's user vectors and index come
        from the one index snapshot taken before sending."""
        names = list(dict.fromkeys(r.name for r in reads))
        probe = shelf.probe() if any(r.kind == "nearest" for r in reads) else []
        for _ in range(3):
            used = {n: self._indexes.get(n) for n in names}
            commands: list[tuple[Any, ...]] = []
            users: list[int | None] = []  # index of each read's user-vector MGET
            for r in reads:
                index = used[r.name]
                if index is None or r.kind == "item_vectors" or r.query is not None or not r.keys:
                    users.append(None)
                    continue
                base = f"{self.head(r.name)}{index.version}:u:"
                users.append(len(commands))
                commands.append(("MGET", *[base + k for k in r.keys]))
            commands.extend(("GET", self.head(n) + "p") for n in names)
            commands.extend(probe)
            res = round_trip(self._reader, commands)
            res, shelf_replies = res[: len(res) - len(probe)], res[len(res) - len(probe) :]
            pointers = dict(zip(names, res[len(res) - len(names) :], strict=True))
            if not self._follow(pointers, used):
                break  # every published table had an index when the reads were sent
        allowed = shelf.allowed(*shelf_replies) if probe else None
        out: list[list[Any]] = []
        for r, at in zip(reads, users, strict=True):
            index = used[r.name] if pointers[r.name] is not None else None
            vectors = None if at is None else [_vector(v, index) for v in res[at]]
            if vectors is None and r.kind != "item_vectors" and r.query is None:
                vectors = [None] * len(r.keys)  # no index yet: nobody has a vector
            out.append(answer(index, r, vectors, allowed))
        return out

    def _follow(
        self, pointers: dict[str, bytes | None], used: dict[str, VectorIndex | None]
    ) -> bool:
        """Act on the published versions; True when a table had no index when the reads
        were sent and has one now (send them again)."""
        again = False
        for name, raw in pointers.items():
            if raw is None:
                continue
            version = raw.decode()
            if used[name] is None:
                self._first(name, version)
                again = True
                continue
            index = self._indexes.get(name)
            failed = self._failed.get(name)
            stale = index is not None and index.version != version
            if stale and (failed is None or failed[0] != version):
                self._build_later(name, version)
        return again

    def _first(self, name: str, version: str) -> None:
        """This node's first index of table ``name``, built now (once)."""
        with self._lock:
            if name in self._indexes:
                return
            failed = self._failed.get(name)
            if (failed is not None and failed[0] == version) or self._build(name, version) is None:
                raise VectorTableError(f"vector table {name!r}: {self._failed[name][1]}")


def _vector(raw: bytes | None, index: VectorIndex | None) -> Matrix | None:
    if raw is None or index is None or len(raw) != index.table.dim * 4:
        return None
    vector: Matrix = from_bytes(raw, 1, index.table.dim, "user vector")[0]
    return vector
