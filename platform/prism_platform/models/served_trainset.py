"""A ranking training set from the features AS SERVED: the rows the feature log kept
for each returned item, joined with the event log through the acm token.

* candidates: exposures whose token's request id and item id match a logged row (the
  first exposure of each pair counts; repeats are ignored);
* label 1 when a click, cart or order on the same item follows the exposure within
  ``window_s`` seconds, from the same acm token or the same user; else 0;
* time: the exposure's ``ts`` (for the time split); group: the request (for NDCG).

Logged rows of another feature spec (a different :meth:`FeatureSpec.digest`) are skipped
and counted, so a model never trains on columns that mean something else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from prism_platform.events.event import StoredEvent
from prism_platform.feature_log import LoggedRows
from prism_platform.jobs.tables import ENGAGED
from prism_platform.models.trainset import TrainingSet, followed
from prism_sdk import AcmError, parse_acm
from prism_sdk.ranking import FeatureSpec

EXPOSURE = "exposure"
Row = npt.NDArray[np.float32]


@dataclass
class ServedStats:
    """What the join found (reported by ``train-ranker``)."""

    logged_rows: int = 0
    other_spec_rows: int = 0
    unreadable_rows: int = 0
    exposures: int = 0
    unlogged_exposures: int = 0
    repeated_exposures: int = 0
    rows: int = 0
    positives: int = 0
    unparsable_acm: int = 0
    other_specs: dict[str, int] = field(default_factory=dict)


def readable_matrices(
    records: Iterable[LoggedRows], spec: FeatureSpec, stats: ServedStats
) -> Iterator[tuple[LoggedRows, npt.NDArray[np.float32]]]:
    """Each record logged under ``spec`` with its matrix; the others counted in
    ``stats`` (another spec, or a matrix that does not read back)."""
    digest, width = spec.digest(), len(spec.features)
    for rec in records:
        n = len(rec.item_ids)
        stats.logged_rows += n
        if rec.spec_hash != digest:
            stats.other_spec_rows += n
            key = f"{rec.model}@{rec.version}:{rec.spec_hash}"
            stats.other_specs[key] = stats.other_specs.get(key, 0) + n
            continue
        try:
            x = rec.matrix()
        except ValueError:
            x = None
        if x is None or x.shape[1] != width:
            stats.unreadable_rows += n
            continue
        yield rec, x


def logged_rows(
    records: Iterable[LoggedRows], spec: FeatureSpec, stats: ServedStats
) -> dict[tuple[str, str], Row]:
    """(request id, item id) → row, for the records logged under ``spec``."""
    out: dict[tuple[str, str], Row] = {}
    for rec, x in readable_matrices(records, spec, stats):
        for item_id, row in zip(rec.item_ids, x, strict=True):
            out[(rec.request_id, item_id)] = row
    return out


def build_served_training_set(
    records: Iterable[LoggedRows],
    events: Iterable[StoredEvent],
    spec: FeatureSpec,
    *,
    window_s: float = 600.0,
) -> tuple[TrainingSet, ServedStats]:
    """One row per exposure with a logged row; see the module docstring."""
    stats = ServedStats()
    rows = logged_rows(records, spec, stats)
    exposures: list[tuple[StoredEvent, str]] = []
    by_acm: dict[str, list[float]] = defaultdict(list)
    by_user_item: dict[tuple[str, str], list[float]] = defaultdict(list)
    for ev in events:
        if ev.type in ENGAGED:
            by_acm[ev.acm].append(ev.ts)
            by_user_item[(ev.user_id, ev.item_id)].append(ev.ts)
        elif ev.type == EXPOSURE:
            try:
                exposures.append((ev, parse_acm(ev.acm).request_id))
            except AcmError:
                stats.unparsable_acm += 1
    stats.exposures = len(exposures)
    xs: list[Row] = []
    ys: list[int] = []
    ts: list[float] = []
    groups: list[int] = []
    group_of: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    for ev, rid in exposures:
        key = (rid, ev.item_id)
        row = rows.get(key)
        if row is None:
            stats.unlogged_exposures += 1
            continue
        if key in seen:
            stats.repeated_exposures += 1
            continue
        seen.add(key)
        clicked = followed(by_acm.get(ev.acm, ()), ev.ts, window_s) or followed(
            by_user_item.get((ev.user_id, ev.item_id), ()), ev.ts, window_s
        )
        xs.append(row)
        ys.append(int(clicked))
        ts.append(ev.ts)
        groups.append(group_of.setdefault(rid, len(group_of)))
    stats.rows, stats.positives = len(ys), sum(ys)
    width = len(spec.features)
    data = TrainingSet(
        np.stack(xs) if xs else np.empty((0, width), np.float32),
        np.array(ys, np.int8),
        np.array(ts, np.float64),
        np.array(groups, np.int64),
    )
    return data, stats
