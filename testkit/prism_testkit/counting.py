"""A data backend that counts what a script asks of it: each data-source call (one
:class:`~prism_sdk.Read`: a table, a feature namespace, the forward index, events) by
source, and the keys asked. The ``DataClient`` counts the round trips (batches)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from prism_sdk import DataBackend, Read
from prism_sdk.data.columns import ColumnarBackend, Gathered, Table


class CountingBackend:
    """Wraps ``inner``; ``calls`` counts reads by ``kind:name`` (``table:i2i``,
    ``features:user``, ``items``); ``keys`` the keys they asked for. :meth:`counting`
    keeps a columnar backend columnar (its in-process reads count as ``columns``)."""

    def __init__(self, inner: DataBackend) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls: Counter[str] = Counter()
        self.keys = 0

    @staticmethod
    def counting(inner: DataBackend) -> CountingBackend:
        if isinstance(inner, ColumnarBackend):
            return _CountingColumnar(inner)
        return CountingBackend(inner)

    def reset(self) -> None:
        self.calls.clear()
        self.keys = 0

    def read(self, reads: Sequence[Read]) -> list[list[Any]]:
        for r in reads:
            self.calls[f"{r.kind}:{r.name}" if r.name else r.kind] += 1
            self.keys += len(r.keys)
        return self.inner.read(reads)

    def close(self) -> None:
        self.inner.close()


class _CountingColumnar(CountingBackend):
    def columns(self, tables: Sequence[Table], ids: Sequence[str]) -> list[Gathered]:
        self.calls["columns"] += 1
        self.keys += len(ids)
        inner: Any = self.inner
        result: list[Gathered] = inner.columns(tables, ids)
        return result
