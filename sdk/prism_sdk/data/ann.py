"""The nearest-neighbour index of a vector table: top-k items by inner product.

A :class:`VectorIndex` is an immutable snapshot of one version of a table, built and
warmed (one search run) before anyone reads it; a backend swaps it in with one
assignment, so a read sees a whole old index or a whole new one.

Up to :data:`HNSW_ABOVE` items the index is Faiss ``IndexFlatIP`` (exact). Above, it
is ``IndexHNSWFlat`` over the vectors with one extra coordinate
``sqrt(max‖x‖² − ‖x‖²)`` (and 0 for the query): an L2 search there ranks by inner
product, and HNSW keeps its recall with L2 far better than with inner product on
unnormalised vectors (recall@200 0.97 against 0.90 with ``METRIC_INNER_PRODUCT``,
30,000 items of 64 dimensions). The hits are scored again exactly (their true inner
product) and sorted by it. Measured by ``bench/ann.py`` (one thread, k = 200, 64
dimensions): at 30,000 items exact search takes ~0.3 ms, HNSW ~0.2 ms at recall 0.97
(not worth its loss nor its build of seconds); at 100,000 exact takes ~2-4 ms and HNSW
~0.3 ms at recall 0.97; hence the threshold.

Excluded items, and items ``allowed`` rejects (off shelf), are dropped without losing
``k``: the search fetches ``k`` plus the excluded count plus a margin, and fetches
twice as many again while a query is short and the catalogue is not exhausted.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Collection, Sequence
from itertools import compress
from typing import Any

import numpy as np

from ._base import Read, Scored
from .vectors import Matrix, VectorTable

HNSW_ABOVE = 50_000
"""Items above which the index is approximate (HNSW): below, exact search takes under
half a millisecond a query on one core."""
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200  # 100 loses recall as the catalogue grows (0.86 at 100k)
HNSW_EF_SEARCH = 256
"""Candidate list size of an HNSW search (at least the number of hits fetched)."""
MARGIN = 0.25
"""Extra share of ``k`` fetched when an ``allowed`` check may reject hits."""

Allowed = Callable[[list[str]], list[bool]]
"""Whether each of the given item ids may be served (on shelf)."""

_faiss_lock = threading.Lock()
_faiss: Any = None


def faiss() -> Any:
    """Faiss, imported on first use (a script that never searches never pays for it),
    its searches on one thread each: a node runs many requests at once."""
    global _faiss
    with _faiss_lock:
        if _faiss is None:
            module = importlib.import_module("faiss")
            module.omp_set_num_threads(1)
            _faiss = module
    return _faiss


class VectorIndex:
    """Version ``version`` of a vector table and the index over its item vectors."""

    def __init__(self, table: VectorTable, version: str, *, hnsw_above: int = HNSW_ABOVE):
        self.table = table
        self.version = version
        items = table.items.matrix
        n, dim = items.shape
        fs = faiss()
        self.hnsw = self.kind_for(n, hnsw_above) == "hnsw"
        if self.hnsw:
            norms = np.einsum("ij,ij->i", items, items)
            extra = np.sqrt(np.maximum(norms.max() - norms, 0.0))
            index = fs.IndexHNSWFlat(dim + 1, HNSW_M)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.add(np.ascontiguousarray(np.hstack([items, extra[:, None]]), np.float32))
        else:
            index = fs.IndexFlatIP(dim)
            index.add(items)
        self._index = index
        self._params: dict[int, Any] = {}
        self._ids = np.asarray(table.items.ids, dtype=object)
        self.search(items[:1], 1)  # warm: the first search pays for lazy set-up

    @staticmethod
    def kind_for(n_items: int, hnsw_above: int = HNSW_ABOVE) -> str:
        return "hnsw" if n_items > hnsw_above else "flat"

    @property
    def kind(self) -> str:
        return "hnsw" if self.hnsw else "flat"

    @property
    def size(self) -> int:
        return len(self.table.items.ids)

    def describe(self) -> dict[str, Any]:
        t = self.table
        return {
            "version": self.version, "index": self.kind, "items": len(t.items.ids),
            "users": len(t.users.ids), "dim": t.dim, **t.meta,
        }  # fmt: skip

    def raw(self, queries: Matrix, fetch: int) -> tuple[np.ndarray, np.ndarray]:
        """Row indices (−1: none) and scores of the ``fetch`` best items per query, best
        first, scores exact inner products."""
        q = np.ascontiguousarray(queries, np.float32)
        if not self.hnsw:
            scores, rows = self._index.search(q, fetch)
            return rows, scores
        params = self._params.get(fetch)
        if params is None:  # read-only once made: shared by concurrent searches
            params = faiss().SearchParametersHNSW()
            params.efSearch = max(HNSW_EF_SEARCH, fetch)
            if len(self._params) < 64:
                self._params[fetch] = params
        q1 = np.zeros((len(q), q.shape[1] + 1), np.float32)
        q1[:, :-1] = q
        _, rows = self._index.search(q1, fetch, params=params)
        scores = np.matmul(self.table.items.matrix[np.maximum(rows, 0)], q[:, :, None])[..., 0]
        scores[rows < 0] = -np.inf
        order = np.argsort(-scores, axis=1, kind="stable")
        at = np.arange(len(q))[:, None]
        return rows[at, order], scores[at, order]

    def search(
        self,
        queries: Matrix,
        k: int,
        exclude: Collection[str] = (),
        allowed: Allowed | None = None,
    ) -> list[list[Scored]]:
        """The ``k`` best items per query row (fewer only when the catalogue has no more
        that are neither excluded nor rejected by ``allowed``)."""
        n = self.size
        out: list[list[Scored]] = [[] for _ in range(len(queries))]
        if k <= 0 or n == 0 or not len(queries):
            return out
        margin = int(k * MARGIN) + 1 if allowed is not None else 0
        fetch = min(n, k + len(exclude) + margin)
        pending = list(range(len(queries)))
        first: list[tuple[list[str], list[bool]]] = []  # allowed's first answers
        known: dict[str, bool] = {}  # all its answers, built when a refill needs them
        while pending:
            rows, scores = self.raw(queries[pending], fetch)
            hits = [self._unexcluded(r, s, exclude) for r, s in zip(rows, scores, strict=True)]
            if allowed is not None:
                hits = _allowed_hits(hits, allowed, first, known)
            short: list[int] = []
            for q, (ids, vals) in zip(pending, hits, strict=True):
                out[q] = list(zip(ids[:k], vals[:k], strict=True))
                if len(ids) < k and fetch < n:
                    short.append(q)
            pending, fetch = short, min(n, fetch * 2)
        return out

    def _unexcluded(
        self, rows: np.ndarray, scores: np.ndarray, exclude: Collection[str]
    ) -> tuple[list[str], list[float]]:
        found = rows >= 0
        ids: list[str] = self._ids[rows[found]].tolist()
        vals: list[float] = scores[found].tolist()
        if not exclude:
            return ids, vals
        keep = [i not in exclude for i in ids]
        return _kept(ids, vals, keep)


Hits = list[tuple[list[str], list[float]]]


def _allowed_hits(
    hits: Hits, allowed: Allowed, first: list[tuple[list[str], list[bool]]], known: dict[str, bool]
) -> Hits:
    """The hits ``allowed`` keeps, asking it once for every query's hits (one round
    trip); in a refill round, only about the items it was not asked about before."""
    if not first:
        asked = [i for ids, _ in hits for i in ids]
        flags = allowed(asked) if asked else []
        first.append((asked, flags))
        out: Hits = []
        at = 0
        for ids, vals in hits:
            out.append(_kept(ids, vals, flags[at : at + len(ids)]))
            at += len(ids)
        return out
    if not known:
        known.update(zip(*first[0], strict=True))
    ask = list({i: None for ids, _ in hits for i in ids if i not in known})
    known.update(zip(ask, allowed(ask), strict=True) if ask else ())
    return [_kept(ids, vals, [known[i] for i in ids]) for ids, vals in hits]


def _kept(ids: list[str], vals: list[float], ok: list[bool]) -> tuple[list[str], list[float]]:
    if all(ok):
        return ids, vals
    return list(compress(ids, ok)), list(compress(vals, ok))


def nearest(
    index: VectorIndex | None,
    queries: Sequence[Matrix | None],
    k: int,
    exclude: Collection[str],
    allowed: Allowed | None,
) -> list[list[Scored]]:
    """One search per query; a missing index or query gets no items (never an error)."""
    out: list[list[Scored]] = [[] for _ in queries]
    if index is None:
        return out
    have = [i for i, q in enumerate(queries) if q is not None and q.shape == (index.table.dim,)]
    if have:
        matrix = np.stack([queries[i] for i in have])  # type: ignore[misc]
        for i, hits in zip(have, index.search(matrix, k, exclude, allowed), strict=True):
            out[i] = hits
    return out


VECTOR_READS = frozenset({"user_vectors", "item_vectors", "nearest"})


def answer(
    index: VectorIndex | None,
    r: Read,
    users: Sequence[Matrix | None] | None = None,
    allowed: Allowed | None = None,
) -> list[Any]:
    """A vector read of ``index`` (None: the table does not exist: empty values).
    ``users``: the keys' user vectors when they were read elsewhere (Redis)."""
    if r.kind == "item_vectors":
        return [None] * len(r.keys) if index is None else index.table.items.gather(r.keys)
    if users is None:
        users = [None if index is None else index.table.users.get(k) for k in r.keys]
    if r.kind == "user_vectors":
        return list(users)
    if r.kind != "nearest":
        raise ValueError(f"not a vector read: {r.kind!r}")
    queries = users if r.query is None else [np.asarray(q, np.float32) for q in r.query]
    if len(queries) != len(r.keys):
        raise ValueError(f"nearest: {len(queries)} query vectors for {len(r.keys)} keys")
    k = 0 if r.limit is None else r.limit
    return nearest(index, queries, k, frozenset(r.exclude or ()), allowed)
