"""The data-source protocol: every read is batched.

A backend answers a list of :class:`Read` operations in one call, so a backend
with a network hop (Redis, the remote proxy) can serve a whole request's reads in
one round trip. Each read returns one value per key, aligned with ``keys``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .vectors import Matrix

ReadKind = Literal[
    "features", "table", "items", "events", "unclicked", "user_vectors", "item_vectors", "nearest"
]

EXPOSURE = "exposure"
ENGAGED = frozenset({"click", "cart", "order"})
"""Event types that count as a reaction to an exposure (the ``unclicked`` read)."""

Scored = tuple[str, float]
"""An (item id, score) pair of a result table, best first."""


class Event(NamedTuple):
    """One realtime behaviour event of a user."""

    ts: float
    item_id: str
    type: str


class Read(NamedTuple):
    """One batched read.

    * ``features``: ``name`` is the namespace (``user``, ``item``); one ``dict | None`` per key.
    * ``table``: ``name`` is the result table (``i2i``, ``popular``…); one sequence of
      :data:`Scored` rows per key (a list, or a :class:`ScoredRows`), best first, cut
      to ``limit``.
    * ``items``: the forward index; one ``dict | None`` per item id.
    * ``events``: one ``list[Event]`` per user id, newest first, of ``types`` (all when
      ``None``) not older than ``since`` (unix seconds), cut to ``limit``.
    * ``unclicked``: one ``dict[item id, exposure count]`` per user id: the items exposed
      since ``since`` and not clicked, carted or ordered since then, most recently exposed
      first (see :func:`unclicked`); ``limit`` and ``types`` are ignored.
    * ``user_vectors`` / ``item_vectors``: ``name`` is a vector table (``emb``); one
      float32 vector (a numpy array) or ``None`` per user / item id.
    * ``nearest``: ``name`` is a vector table; per key, the ``limit`` items with the
      largest inner product with the key's user vector (or with row ``i`` of ``query``
      for key ``i``: the keys then only name the vectors), as :data:`Scored` rows, best
      first, without the ids in ``exclude`` nor items off shelf; a user without a vector
      gets none.
    """

    kind: ReadKind
    keys: Sequence[str]
    name: str = ""
    limit: int | None = None
    since: float | None = None
    types: tuple[str, ...] | None = None
    query: Matrix | None = None  # nearest: one query vector per key
    exclude: tuple[str, ...] | None = None


def off_shelf(row: Mapping[str, Any] | None) -> bool:
    """What a forward-index row says: missing rows and rows without a ``status`` are on
    the shelf, any status but ``"on"`` is off (the backends' rule for ``nearest``)."""
    return row is not None and row.get("status", "on") != "on"


def unclicked(newest_first: Iterable[Event]) -> dict[str, int]:
    """Exposure count per item exposed in ``newest_first`` and never engaged with there."""
    counts: dict[str, int] = {}
    engaged: set[str] = set()
    for e in newest_first:
        if e.type == EXPOSURE:
            counts[e.item_id] = counts.get(e.item_id, 0) + 1
        elif e.type in ENGAGED:
            engaged.add(e.item_id)
    if not engaged:
        return counts
    return {i: n for i, n in counts.items() if i not in engaged}


@runtime_checkable
class DataBackend(Protocol):
    """What a strategy's data sources read from."""

    name: str

    def read(self, reads: Sequence[Read]) -> list[list[Any]]:
        """Answer every read, in order; one result list per read aligned with its keys."""
        ...

    def close(self) -> None: ...

    # A backend with a network hop may also offer ``read_within(reads, budget_s)``:
    # ``read`` giving up after ``budget_s`` seconds (see DataClient's read budget).


@runtime_checkable
class DataWriter(Protocol):
    """What loaders and offline jobs write through."""

    def replace_table(self, name: str, rows: Mapping[str, Sequence[Scored]]) -> None:
        """Atomically replace a whole result table (readers see old or new, never half)."""
        ...

    def upsert_items(self, rows: Mapping[str, Mapping[str, Any]]) -> None: ...

    def delete_items(self, ids: Iterable[str]) -> None: ...

    def upsert_features(self, namespace: str, rows: Mapping[str, Mapping[str, Any]]) -> None: ...

    def append_events(self, user_id: str, events: Iterable[Event]) -> None: ...
