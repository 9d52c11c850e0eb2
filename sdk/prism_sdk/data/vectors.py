"""Vector tables: learned user and item vectors of one training, written and replaced
as a whole (``VectorWriter.replace_vectors``) and searched by inner product.

A table's user and item vectors share one space only within the same training: a
reader always takes both from the same version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import msgspec
import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]


class VectorTableError(ValueError):
    """A vector table that cannot serve (the message says why)."""


@dataclass(frozen=True, eq=False)
class Vectors:
    """Ids and their vectors, one row per id (float32, C order)."""

    ids: list[str]
    matrix: Matrix
    row: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "row", {k: i for i, k in enumerate(self.ids)})

    @classmethod
    def of(cls, ids: Sequence[str], matrix: npt.ArrayLike) -> Vectors:
        return cls(list(ids), np.ascontiguousarray(matrix, dtype=np.float32))

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1]) if self.matrix.ndim == 2 else 0

    def check(self, what: str, dim: int) -> None:
        m = self.matrix
        if m.ndim != 2 or m.shape != (len(self.ids), dim):
            raise VectorTableError(
                f"{what}: {len(self.ids)} ids and a {'x'.join(map(str, m.shape))} matrix "
                f"(expected {len(self.ids)}x{dim})"
            )
        if len(self.row) != len(self.ids):
            raise VectorTableError(f"{what}: duplicate ids")
        if not np.isfinite(m).all():
            raise VectorTableError(f"{what}: vectors with NaN or infinite values")

    def get(self, key: str) -> Matrix | None:
        i = self.row.get(key)
        return None if i is None else self.matrix[i]

    def gather(self, keys: Sequence[str]) -> VectorRows:
        """The vectors of ``keys`` (None for a key without one), gathered in one take."""
        get = self.row.get
        at = np.fromiter((get(k, -1) for k in keys), np.intp, len(keys))
        present = at >= 0
        matrix = self.matrix[np.where(present, at, 0)] if len(self.ids) else _zeros(at, self)
        matrix[~present] = 0.0
        return VectorRows(matrix, present)


def _zeros(at: npt.NDArray[np.intp], v: Vectors) -> Matrix:
    return np.zeros((len(at), v.dim), np.float32)


class VectorRows(list[Matrix | None]):
    """An item-vector read's answer: a list with one vector (or None) per key, that also
    holds them as one ``matrix`` (zero rows where ``present`` is False), so a caller
    scoring many candidates multiplies once instead of stacking rows."""

    def __init__(self, matrix: Matrix, present: npt.NDArray[np.bool_]) -> None:
        super().__init__(matrix)
        for i in np.flatnonzero(~present).tolist():
            self[i] = None
        self.matrix = matrix
        self.present = present


@dataclass(frozen=True, eq=False)
class VectorTable:
    """The user and item vectors of one training; ``meta`` says how they were made."""

    users: Vectors
    items: Vectors
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return self.items.dim

    def checked(self, name: str) -> VectorTable:
        """This table, or :class:`VectorTableError` naming what is wrong with it."""
        if not self.items.ids:
            raise VectorTableError(f"vector table {name!r} has no item vectors")
        self.items.check(f"vector table {name!r} items", self.dim)
        self.users.check(f"vector table {name!r} users", self.dim)
        return self


class StoredTable(msgspec.Struct, frozen=True):
    """A vector table as stored (the local file; the Redis meta and chunks)."""

    dim: int
    user_ids: list[str]
    users: bytes
    item_ids: list[str]
    items: bytes
    meta: dict[str, str] = {}


def to_bytes(m: Matrix) -> bytes:
    return np.ascontiguousarray(m, dtype="<f4").tobytes()


def from_bytes(data: bytes | memoryview, n: int, dim: int, what: str) -> Matrix:
    if len(data) != n * dim * 4:
        raise VectorTableError(f"{what}: {len(data)} bytes for {n} vectors of {dim} floats")
    return np.frombuffer(data, dtype="<f4").astype(np.float32).reshape(n, dim)


def encode_table(table: VectorTable) -> StoredTable:
    return StoredTable(
        table.dim, table.users.ids, to_bytes(table.users.matrix),
        table.items.ids, to_bytes(table.items.matrix), dict(table.meta),
    )  # fmt: skip


def decode_table(stored: StoredTable, name: str) -> VectorTable:
    users = from_bytes(stored.users, len(stored.user_ids), stored.dim, f"{name} users")
    items = from_bytes(stored.items, len(stored.item_ids), stored.dim, f"{name} items")
    table = VectorTable(
        Vectors(stored.user_ids, users), Vectors(stored.item_ids, items), dict(stored.meta)
    )
    return table.checked(name)


@runtime_checkable
class VectorWriter(Protocol):
    """What the embeddings job writes vector tables through (local and Redis backends)."""

    def replace_vectors(self, name: str, table: VectorTable) -> None:
        """Atomically replace vector table ``name``: readers see the old or the new
        version, never half; a table that cannot serve raises and changes nothing."""
        ...
