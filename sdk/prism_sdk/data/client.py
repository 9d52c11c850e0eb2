"""What a strategy script calls: ``ctx.data``.

Every method is a thin builder of :class:`Read` operations. Reads issued inside
``with ctx.data.batch() as b:`` are sent to the backend in one call when the block
ends; elsewhere each call is one backend round trip. A failing backend never
raises into the script: the read returns empty values, ``ctx.data.errors`` records
why, and the platform flags the response.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any, Generic, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from .._errors import BudgetExceeded
from ._base import DataBackend, Event, Read, Scored
from .columns import ColumnarBackend, Gathered, Table
from .vectors import Matrix
from .vocabulary import Codes

T = TypeVar("T")
ReadWithin = Callable[[Sequence[Read], float], list[list[Any]]]
"""A backend's ``read_within(reads, budget_s)``: a read that gives up after the budget."""


class ReadBudgetSpent(TimeoutError):
    """The request's read budget is spent: the read was not sent."""


_COLUMNAR: dict[type, bool] = {}
_EMPTY_BY_KIND: dict[str, Any] = {
    "features": None, "items": None, "table": (), "events": (), "nearest": (),
}  # fmt: skip
Side = Literal["user", "item"]
Query = str | npt.ArrayLike
"""What :meth:`DataClient.nearest` searches with: a user id (its vector) or a vector."""


class Pending(Generic[T]):
    """The future value of a read issued inside a batch; ``.value`` after the block."""

    __slots__ = ("_set", "_value")

    def __init__(self) -> None:
        self._value: Any = None
        self._set = False

    @property
    def value(self) -> T:
        if not self._set:
            raise RuntimeError("read inside `with ctx.data.batch()` used before the block ended")
        return self._value  # type: ignore[no-any-return]

    def _resolve(self, value: Any) -> None:
        self._value = value
        self._set = True


class DataClient:
    """The data sources of one request.

    ``read_budget_ms`` bounds the time all of its reads may wait on a backend with a
    network hop: each round trip gets what the earlier ones left; once it is spent,
    reads fail (empty values, an error) without being sent.

    :meth:`limit` bounds the round trips and keys of the reads that follow (a strategy's
    budget): a read past either raises :class:`BudgetExceeded`, unsent.

    ``remember_items``: keep the forward-index rows its reads answered, which
    :meth:`items_of_request` hands out again without a round trip (the platform's
    completion of a response's items; a client that lives longer than one request must
    not, it would answer from old rows).
    """

    __slots__ = (
        "_backend", "_batch", "_budget_left_s", "_read_within", "errors", "round_trips",
        "keys_read", "_limited", "_max_round_trips", "_max_keys", "_limits", "_rows",
    )  # fmt: skip

    def __init__(
        self,
        backend: DataBackend,
        read_budget_ms: float | None = None,
        *,
        remember_items: bool = False,
    ) -> None:
        self._backend = backend
        self._rows: dict[str, Any] | None = {} if remember_items else None
        self._batch: list[tuple[Read, Pending[Any]]] | None = None
        self.round_trips = 0
        self.keys_read = 0
        self._limited = False
        self._max_round_trips = 0
        self._max_keys = 0
        self._limits = (0, 0)  # the limits as given to limit(), for the error message
        self.errors: list[str] = []
        self._budget_left_s: float | None = None
        self._read_within: ReadWithin | None = None
        if read_budget_ms is not None:  # most scenes have none: no lookup per request
            self._budget_left_s = read_budget_ms / 1000
            self._read_within = getattr(backend, "read_within", None)

    @property
    def backend_name(self) -> str:
        return self._backend.name

    # -- the core --------------------------------------------------------------
    def limit(self, round_trips: int | None, keys: int) -> None:
        """From now on, at most ``round_trips`` more round trips and ``keys`` more keys
        (``None``: no limit, as after :meth:`unlimit`)."""
        self._limited = True
        self._max_round_trips = self.round_trips + (1 << 62 if round_trips is None else round_trips)
        self._max_keys = self.keys_read + keys
        self._limits = (round_trips or 0, keys)

    def unlimit(self) -> None:
        self._limited = False

    def execute(self, reads: Sequence[Read]) -> list[list[Any]]:
        """Send reads to the backend in one round trip; empty values on failure."""
        if self._limited:
            self._spend(reads)
        try:
            if self._budget_left_s is None or self._read_within is None:
                self.round_trips += 1
                out = self._backend.read(reads)
            else:
                out = self._execute_within(reads, self._read_within, self._budget_left_s)
        except Exception as exc:  # a data failure degrades, it never breaks the request
            self.errors.append(f"{self._backend.name}: {type(exc).__name__}: {exc}")
            return [[_empty(r.kind) for _ in r.keys] for r in reads]
        rows = self._rows
        if rows is not None:
            for r, values in zip(reads, out, strict=True):
                if r.kind == "items":
                    rows.update(zip(r.keys, values, strict=True))
        return out

    def items_of_request(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """The forward-index rows of ``ids`` as this client's reads answered them (see
        ``remember_items``); those it has not read, read now (one round trip, or none)."""
        rows = self._rows
        if rows is None:
            return self.execute((Read("items", ids),))[0]
        missing = [i for i in ids if i not in rows]
        if not missing:
            return [rows[i] for i in ids]
        read = self.execute((Read("items", missing),))[0]  # remembered unless it failed
        if len(missing) == len(ids):
            return read
        found = dict(zip(missing, read, strict=True))
        return [found[i] if i in found else rows[i] for i in ids]

    def _spend(self, reads: Sequence[Read]) -> None:
        keys = self.keys_read + sum(len(r.keys) for r in reads)
        trips, most_keys = self._limits
        if self.round_trips >= self._max_round_trips:
            raise BudgetExceeded(
                f"read budget spent: {trips} data round trips, the most a strategy may make "
                "per request (send reads together: `with ctx.data.batch() as b:`)"
            )
        if keys > self._max_keys:
            raise BudgetExceeded(
                f"read budget spent: this read would bring the request to "
                f"{keys - self._max_keys + most_keys:,} keys, more than the {most_keys:,} a "
                "strategy may read per request"
            )
        self.keys_read = keys

    def _execute_within(
        self, reads: Sequence[Read], read_within: ReadWithin, budget_s: float
    ) -> list[list[Any]]:
        if budget_s <= 0:
            raise ReadBudgetSpent("the request's read budget is spent: read not sent")
        self.round_trips += 1
        t0 = time.monotonic()
        try:
            return read_within(reads, budget_s)
        finally:
            self._budget_left_s = budget_s - (time.monotonic() - t0)

    def _one(self, read: Read) -> list[Any]:
        if self._batch is not None:
            raise RuntimeError("inside `with ctx.data.batch()` use the batch's methods")
        return self.execute((read,))[0]

    def batch(self) -> Batch:
        """Collect reads and send them in one round trip when the ``with`` block ends."""
        return Batch(self)

    @property
    def ok(self) -> bool:
        """False when any read of this request failed (its values came back empty)."""
        return not self.errors

    def columns(
        self, tables: Sequence[Table], ids: Sequence[str], codes: Codes | None = None
    ) -> list[Gathered] | None:
        """The backend's in-process columns of ``tables`` (forward index, item feature
        namespaces) and the rows of ``ids`` in them (the local backend; see
        ``data.columns``); None when rows must be read (Redis, remote, mock). ``codes``:
        the ids' codes in ``data.vocabulary``, by which the backend remembers their rows."""
        backend = self._backend
        columnar = _COLUMNAR.get(type(backend))
        if columnar is None:  # a Protocol isinstance costs ~10 us: once per backend type
            columnar = _COLUMNAR[type(backend)] = isinstance(backend, ColumnarBackend)
        if not columnar:
            return None
        if codes is None:
            return backend.columns(tables, ids)  # type: ignore[attr-defined,no-any-return]
        return backend.columns(tables, ids, codes)  # type: ignore[attr-defined,no-any-return]

    # -- conveniences ----------------------------------------------------------
    def table(self, name: str, key: str, limit: int | None = None) -> list[Scored]:
        return list(self._one(Read("table", (key,), name, limit))[0])

    def tables(
        self, name: str, keys: Sequence[str], limit: int | None = None
    ) -> list[list[Scored]]:
        return [list(v) for v in self._one(Read("table", keys, name, limit))]

    def features(self, namespace: str, key: str) -> dict[str, Any] | None:
        return self._one(Read("features", (key,), namespace))[0]  # type: ignore[no-any-return]

    def features_many(self, namespace: str, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        return self._one(Read("features", keys, namespace))

    def items(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        return self._one(Read("items", ids))

    def events(
        self,
        user_id: str,
        types: Sequence[str] | None = None,
        within_s: float | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        return list(self._one(_events_read((user_id,), types, within_s, limit))[0])

    def unclicked(self, user_id: str, within_s: float) -> dict[str, int]:
        """Items exposed to the user in the last ``within_s`` seconds and not clicked,
        carted or ordered since: item id -> exposure count (to down-weight them)."""
        return self._one(_unclicked_read((user_id,), within_s))[0]  # type: ignore[no-any-return]

    def vectors(
        self, namespace: str, ids: Sequence[str], side: Side = "user"
    ) -> list[Matrix | None]:
        """The ``side`` vectors of ``ids`` in vector table ``namespace`` (None: no vector)."""
        return self._one(_vectors_read(namespace, ids, side))

    def nearest(
        self, namespace: str, query: Query, k: int, exclude: Collection[str] = ()
    ) -> list[Scored]:
        """The ``k`` items of vector table ``namespace`` with the largest inner product
        with ``query`` (a user id: its vector; or a vector), best first, none of
        ``exclude`` nor off shelf; a user without a vector gets none."""
        return list(self._one(_nearest_read(namespace, [query], k, exclude))[0])


class Batch:
    """``with ctx.data.batch() as b: p = b.table("i2i", keys)`` then ``p.value``."""

    __slots__ = ("_client", "_reads")

    def __init__(self, client: DataClient) -> None:
        self._client = client
        self._reads: list[tuple[Read, Pending[Any]]] = []

    def __enter__(self) -> Batch:
        self._client._batch = self._reads
        return self

    def __exit__(self, *exc: object) -> None:
        self._client._batch = None
        if exc[0] is not None or not self._reads:
            return
        results = self._client.execute([r for r, _ in self._reads])
        for (_, pending), value in zip(self._reads, results, strict=True):
            pending._resolve(value)

    def _add(self, read: Read) -> Pending[Any]:
        p: Pending[Any] = Pending()
        self._reads.append((read, p))
        return p

    def tables(
        self, name: str, keys: Sequence[str], limit: int | None = None
    ) -> Pending[list[Sequence[Scored]]]:
        """One sequence of rows per key (a list, or from Redis a :class:`ScoredRows`)."""
        return self._add(Read("table", keys, name, limit))

    def features_many(
        self, namespace: str, keys: Sequence[str]
    ) -> Pending[list[dict[str, Any] | None]]:
        return self._add(Read("features", keys, namespace))

    def items(self, ids: Sequence[str]) -> Pending[list[dict[str, Any] | None]]:
        return self._add(Read("items", ids))

    def events(
        self,
        user_ids: Sequence[str],
        types: Sequence[str] | None = None,
        within_s: float | None = None,
        limit: int | None = None,
    ) -> Pending[list[list[Event]]]:
        return self._add(_events_read(user_ids, types, within_s, limit))

    def unclicked(self, user_ids: Sequence[str], within_s: float) -> Pending[list[dict[str, int]]]:
        """:meth:`DataClient.unclicked` for many users, in the batch's round trip."""
        return self._add(_unclicked_read(user_ids, within_s))

    def vectors(
        self, namespace: str, ids: Sequence[str], side: Side = "user"
    ) -> Pending[list[Matrix | None]]:
        return self._add(_vectors_read(namespace, ids, side))

    def nearest(
        self, namespace: str, queries: Sequence[Query], k: int, exclude: Collection[str] = ()
    ) -> Pending[list[Sequence[Scored]]]:
        """:meth:`DataClient.nearest` for many user ids, or many vectors (not mixed)."""
        return self._add(_nearest_read(namespace, queries, k, exclude))


def _vectors_read(namespace: str, ids: Sequence[str], side: Side) -> Read:
    return Read("user_vectors" if side == "user" else "item_vectors", ids, namespace)


def _nearest_read(
    namespace: str, queries: Sequence[Query], k: int, exclude: Collection[str]
) -> Read:
    ex = tuple(exclude) if exclude else None
    if all(isinstance(q, str) for q in queries):
        return Read("nearest", [str(q) for q in queries], namespace, k, exclude=ex)
    if any(isinstance(q, str) for q in queries):
        raise TypeError("nearest: user ids and vectors in one read")
    matrix = np.asarray(queries, np.float32)
    if matrix.ndim != 2:
        raise TypeError(f"nearest: query vectors of shape {matrix.shape[1:]}, not 1-dimensional")
    keys = [
        "vector:" + hashlib.blake2b(row.tobytes(), digest_size=12).hexdigest() for row in matrix
    ]
    return Read("nearest", keys, namespace, k, query=matrix, exclude=ex)


def _events_read(
    user_ids: Sequence[str], types: Sequence[str] | None, within_s: float | None, limit: int | None
) -> Read:
    since = None if within_s is None else time.time() - within_s
    kinds = None if types is None else tuple(types)
    return Read("events", user_ids, limit=limit, since=since, types=kinds)


def _unclicked_read(user_ids: Sequence[str], within_s: float) -> Read:
    return Read("unclicked", user_ids, since=time.time() - within_s)


def _empty(kind: str) -> Any:
    return {} if kind == "unclicked" else _EMPTY_BY_KIND.get(kind)
