"""Feature logging: the features a model scored in a request, handed to the platform.

When a request is sampled (:func:`sampled`, by request id), its
:class:`~prism_sdk.Context` carries a ``scored`` list and every
:meth:`~prism_sdk.ranking.ModelHandle.score` appends a :class:`ScoredBatch`: the very
float32 matrix the model predicted on, by reference (no copy on the request path). Once
the response is final the platform submits one :class:`ServedFeatures` to its
:class:`FeatureLog`; :meth:`ServedFeatures.rows` keeps the rows of the items the request
returned (only those can be exposed), off the request path.

:class:`MemoryFeatureLog` keeps submissions in memory (tests, notebooks; installed by
default with rate 0, i.e. off); the platform replaces it with a buffered writer to its
feature store.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .._scored import Matrix, ScoredBatch

_SPAN = float(1 << 32)


@dataclass(frozen=True, slots=True)
class ServedRows:
    """The rows one model version scored for the returned items, in response order."""

    model: str
    version: str
    spec_hash: str
    item_ids: tuple[str, ...]
    x: Matrix


@dataclass(frozen=True, slots=True)
class ServedFeatures:
    """What a sampled request scored (``batches``) and returned (item ids, in order)."""

    request_id: str
    scene: str
    user_id: str
    ts: float
    returned: tuple[str, ...]
    batches: tuple[ScoredBatch, ...]

    def rows(self) -> list[ServedRows]:
        """Per model version, the row of each returned item it scored (an item scored
        twice by one version: the later call's row)."""
        by_version: dict[tuple[str, str], list[ScoredBatch]] = {}
        for batch in self.batches:
            by_version.setdefault((batch.model, batch.version), []).append(batch)
        wanted = set(self.returned)
        out = []
        for batches in by_version.values():
            where: dict[str, tuple[int, int]] = {}  # item id -> (batch, row)
            for n, batch in enumerate(batches):
                for i, it in enumerate(batch.items):
                    if it.id in wanted:
                        where[it.id] = (n, i)
            ids = tuple(i for i in self.returned if i in where)
            if not ids:
                continue
            if len(batches) == 1:
                x = batches[0].x[[where[i][1] for i in ids]]
            else:
                x = np.stack([batches[where[i][0]].x[where[i][1]] for i in ids])
            first = batches[0]
            out.append(ServedRows(first.model, first.version, first.spec_hash, ids, x))
        return out


class FeatureLog(Protocol):
    """Where the platform hands sampled requests' features."""

    rate: float
    """The fraction of requests whose features are logged (see :func:`sampled`)."""

    def submit(self, served: ServedFeatures) -> bool:
        """Queue without ever blocking; False when the record was dropped."""
        ...


class MemoryFeatureLog:
    """Keeps up to ``capacity`` submissions in :attr:`served`; counts the rest as dropped."""

    def __init__(self, rate: float = 1.0, capacity: int = 10_000) -> None:
        self.rate = check_rate(rate)
        self.capacity = capacity
        self.served: list[ServedFeatures] = []
        self.dropped = 0

    def submit(self, served: ServedFeatures) -> bool:
        if len(self.served) >= self.capacity:
            self.dropped += 1
            return False
        self.served.append(served)
        return True


def check_rate(rate: float, name: str = "rate") -> float:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name} must be a fraction between 0 and 1, got {rate!r}")
    return float(rate)


def sampled(request_id: str, rate: float) -> bool:
    """Whether request ``request_id`` is logged at ``rate``: CRC-32 of the id below
    ``rate`` · 2³², so every node and every replay decides the same."""
    if rate >= 1.0:
        return True
    return rate > 0.0 and zlib.crc32(request_id.encode()) < rate * _SPAN


_LOG: list[FeatureLog] = [MemoryFeatureLog(rate=0.0)]


def feature_log() -> FeatureLog:
    """The installed feature log (a dispatcher built without one uses it)."""
    return _LOG[0]


def install_feature_log(log: FeatureLog) -> FeatureLog:
    """Make ``log`` the process-wide feature log; returns the one it replaced."""
    previous, _LOG[0] = _LOG[0], log
    return previous
