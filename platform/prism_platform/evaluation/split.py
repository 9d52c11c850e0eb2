"""Data sets and the two split protocols (``prism eval --split``):

* ``global``: everything before one cutoff time trains the tables, the positives after
  it are what a good recommender should have found. The future stays out of the offline
  tables: ItemCF and popularity are built from the past of *every* user only.
* ``per-user``: each user's latest share of interactions is held out (the usual
  MovieLens protocol). There is no single cutoff: the tables are built from every user's
  earlier interactions, which for some users are later than another user's held-out
  ones (the protocol's known leak, documented in docs/strategies/evaluation.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from prism_platform.demo.seed import DEMO_TRAINING
from prism_platform.demo.world import EVENT_TYPES, generate_world
from prism_platform.importing.importer import ImportOptions, import_log
from prism_platform.importing.logs import RawLog, read_movielens_100k
from prism_platform.jobs.tables import ENGAGED
from prism_sdk import Event, LocalBackend
from prism_sdk.data.vectors import VectorTable

DEMO_HALF_LIFE_DAYS = 3.0  # the demo world's popularity decay (jobs.tables default)


@dataclass(frozen=True, eq=False)
class Dataset:
    """An interaction log, its item catalogue and the popularity half-life to use."""

    name: str
    log: RawLog
    catalogue: dict[str, dict[str, Any]]
    half_life_days: float


@dataclass(frozen=True, eq=False)
class Split:
    """``train``: the training events; ``test``: each user's held-out positive items
    (clicked, carted, ordered; in the catalogue). ``cutoff``: the global split's cutoff,
    or for ``per-user`` the newest training event (the tables' clock); ``cutoffs``: each
    user's own cutoff (the time of their first held-out event), where it differs."""

    train: RawLog
    test: dict[str, set[str]]
    cutoff: float
    n_test_events: int
    protocol: str = "global"
    cutoffs: dict[str, float] = field(default_factory=dict)

    def seen(self) -> dict[str, set[str]]:
        """Each user's positive items in training."""
        out: dict[str, set[str]] = {}
        tr = self.train
        for u, i, t in zip(tr.users, tr.items, tr.types, strict=True):
            if t in ENGAGED:
                out.setdefault(u, set()).add(i)
        return out


def demo_dataset(seed: int = 7, **sizes: int) -> Dataset:
    """The synthetic demo world (``generate_world``) as a log; timestamps relative to now."""
    world = generate_world(seed, **sizes)
    now = time.time()
    log = RawLog(
        users=[str(u + 1) for u in world.ev_user.tolist()],
        items=[str(i + 1) for i in world.ev_item.tolist()],
        ts=(world.ev_ts + now).tolist(),
        types=np.array(EVENT_TYPES)[world.ev_type].tolist(),
    )
    return Dataset("demo", log, world.item_rows(), DEMO_HALF_LIFE_DAYS)


def movielens_dataset(folder: str) -> Dataset:
    """MovieLens 100K files (``u.data``, ``u.item``) read by the importer's reader."""
    log, catalogue = read_movielens_100k(folder)
    return Dataset("movielens-100k", log, catalogue, ImportOptions().half_life_days)


def time_split(data: Dataset, test_fraction: float) -> Split:
    """Cut at the time that leaves ``test_fraction`` of all events after it."""
    _check(data, test_fraction)
    ts = np.asarray(data.log.ts, np.float64)
    cutoff = float(np.quantile(ts, 1.0 - test_fraction))
    early = ts < cutoff
    if early.all() or not early.any():
        raise ValueError(f"{data.name}: too few distinct timestamps to split in time")
    split = _split(data, early)
    return Split(split.train, split.test, cutoff, split.n_test_events)


def _check(data: Dataset, test_fraction: float) -> None:
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test fraction must be between 0 and 1, got {test_fraction}")
    if not data.log.ts:
        raise ValueError(f"{data.name}: the interaction log is empty")


def _split(data: Dataset, early: npt.NDArray[np.bool_]) -> Split:
    """Training: the events where ``early``; truth: the others' positives."""
    before = np.flatnonzero(early).tolist()
    log = data.log
    train = RawLog(
        users=[log.users[n] for n in before],
        items=[log.items[n] for n in before],
        ts=[log.ts[n] for n in before],
        types=[log.types[n] for n in before],
    )
    test: dict[str, set[str]] = {}
    n_test = 0
    for n in np.flatnonzero(~early).tolist():
        if log.types[n] in ENGAGED and log.items[n] in data.catalogue:
            test.setdefault(log.users[n], set()).add(log.items[n])
            n_test += 1
    return Split(train, test, 0.0, n_test)


def per_user_split(data: Dataset, test_fraction: float) -> Split:
    """Hold out each user's latest ``test_fraction`` of interactions (rounded; a user
    keeps at least one training event; ties in time keep the log's order)."""
    _check(data, test_fraction)
    log = data.log
    ts = np.asarray(log.ts, np.float64)
    codes = {u: n for n, u in enumerate(dict.fromkeys(log.users))}
    user = np.array([codes[u] for u in log.users], np.int64)
    order = np.lexsort((np.arange(len(ts)), ts, user))
    counts = np.bincount(user)
    n_test = np.minimum(np.floor(counts * test_fraction + 0.5), counts - 1).astype(np.int64)
    sorted_user = user[order]
    rank = np.arange(len(order)) - np.searchsorted(sorted_user, sorted_user)
    held = np.zeros(len(ts), bool)
    held[order] = rank >= (counts - n_test)[sorted_user]
    if held.all() or not held.any():
        raise ValueError(f"{data.name}: too few interactions per user to hold any out")
    cutoffs = {log.users[n]: log.ts[n] for n in order[held[order]][::-1].tolist()}
    split = _split(data, ~held)
    newest = float(ts[~held].max())
    return Split(split.train, split.test, newest, split.n_test_events, "per-user", cutoffs)


def split_data(data: Dataset, protocol: str, test_fraction: float) -> Split:
    """The split of ``protocol`` (``global`` or ``per-user``)."""
    if protocol == "global":
        return time_split(data, test_fraction)
    if protocol == "per-user":
        return per_user_split(data, test_fraction)
    raise ValueError(f"unknown split protocol {protocol!r} (global or per-user)")


def training_backend(data: Dataset, split: Split, now: float | None = None) -> LocalBackend:
    """A fresh backend built by the importer from the training events only: items, user
    features, the offline tables, the candidate ranker's features
    (``candidate_features``) and the vector table ``emb`` (trained like the demo's),
    with every training event as realtime behaviour.

    The clock: timestamps are shifted so the cutoff is ``now`` (the tables' popularity
    decay counts from it). Each user's events are shifted by their own cutoff
    (``per-user``), so recency windows look back from the moment of that user's split."""
    now = time.time() if now is None else now
    shift = now - split.cutoff
    tr = split.train
    train = RawLog(tr.users, tr.items, [t + shift for t in tr.ts], tr.types)
    opts = ImportOptions(
        realtime_days=0.0, shift_to_now=False, half_life_days=data.half_life_days, now=now,
        vectors=DEMO_TRAINING, vector_neighbours=False,  # no strategy reads i2i_emb here
    )  # fmt: skip
    backend = LocalBackend()
    import_log(_WithoutEvents(backend), train, data.catalogue, opts)
    per_user: dict[str, list[Event]] = {}
    for u, i, t, k in zip(tr.users, tr.items, tr.ts, tr.types, strict=True):
        if i in data.catalogue:
            own = now - split.cutoffs.get(u, split.cutoff)
            per_user.setdefault(u, []).append(Event(t + own, i, k))
    for u, events in per_user.items():
        events.sort()
        backend.append_events(u, events)
    return backend


class _WithoutEvents:
    """A writer passing everything but events on (they are written per user)."""

    def __init__(self, backend: LocalBackend) -> None:
        self._backend = backend

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def append_events(self, user_id: str, events: Iterable[Event]) -> None:
        pass

    def replace_vectors(self, name: str, table: VectorTable) -> None:
        self._backend.replace_vectors(name, table)
