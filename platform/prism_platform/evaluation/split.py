"""Data sets and the time split: everything before a global cutoff trains the tables,
the positives after it are what a good recommender should have found.

A global cutoff (rather than each user's last events) keeps the future out of the
offline tables: ItemCF and popularity are built from the past of *every* user only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from prism_platform.demo.world import EVENT_TYPES, generate_world
from prism_platform.importing.importer import ImportOptions, import_log
from prism_platform.importing.logs import RawLog, read_movielens_100k
from prism_platform.jobs.tables import ENGAGED
from prism_sdk import LocalBackend

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
    """``train``: the events before ``cutoff``; ``test``: each user's positive items
    (clicked, carted, ordered; in the catalogue) at or after it."""

    train: RawLog
    test: dict[str, set[str]]
    cutoff: float
    n_test_events: int


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
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test fraction must be between 0 and 1, got {test_fraction}")
    if not data.log.ts:
        raise ValueError(f"{data.name}: the interaction log is empty")
    ts = np.asarray(data.log.ts, np.float64)
    cutoff = float(np.quantile(ts, 1.0 - test_fraction))
    early = ts < cutoff
    if early.all() or not early.any():
        raise ValueError(f"{data.name}: too few distinct timestamps to split in time")
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
    return Split(train, test, cutoff, n_test)


def training_backend(data: Dataset, split: Split, now: float | None = None) -> LocalBackend:
    """A fresh backend built by the importer from the training events only: items, user
    features, every training event as realtime behaviour, and the offline tables.
    Timestamps are shifted so the cutoff is ``now``: strategies' recency windows look
    back from the moment of the split."""
    now = time.time() if now is None else now
    shift = now - split.cutoff
    tr = split.train
    train = RawLog(tr.users, tr.items, [t + shift for t in tr.ts], tr.types)
    opts = ImportOptions(
        realtime_days=0.0, shift_to_now=False, half_life_days=data.half_life_days, now=now
    )
    backend = LocalBackend()
    import_log(backend, train, data.catalogue, opts)
    return backend
