"""A ranking training set from logged behaviour, features RE-ASSEMBLED now (the
``--features reassembled`` path): every view is an exposure, labelled 1 when the user
clicked (or carted, ordered) the item soon after. Features come from
:meth:`prism_sdk.ranking.Assembler.assemble`, the code that serves, one batched read per
user; but from today's data, not the request's, so they may differ from what was served
(see ``served_trainset`` for the features as served). For data with no feature log, such
as the demo world's history or an imported MovieLens set."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from prism_platform.jobs.tables import ENGAGED
from prism_sdk import Context, DataBackend, DataClient, Event, Item, Request, StrategyConfig
from prism_sdk.ranking import Assembler, Feature, FeatureSpec

EXPOSURE = "view"


@dataclass(frozen=True, eq=False)
class TrainingSet:
    """One row per exposure: features, label, time and ``group`` (the user's number)."""

    x: npt.NDArray[np.float32]
    y: npt.NDArray[np.int8]
    ts: npt.NDArray[np.float64]
    group: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.y)

    def split(self, test_fraction: float) -> tuple[TrainingSet, TrainingSet]:
        """(before, after) the time that leaves ``test_fraction`` of rows after it."""
        cutoff = float(np.quantile(self.ts, 1.0 - test_fraction)) if len(self) else 0.0
        early = self.ts < cutoff
        return self._take(early), self._take(~early)

    def _take(self, mask: npt.NDArray[np.bool_]) -> TrainingSet:
        return TrainingSet(self.x[mask], self.y[mask], self.ts[mask], self.group[mask])


def default_spec(categories: Iterable[str]) -> FeatureSpec:
    """The default ranking features (the demo's): user profile, item price and
    category, and the user's affinity to the item's category."""
    return FeatureSpec(
        (
            Feature("user_gender", "user", "gender", vocab=("f", "m", "x")),
            Feature(
                "user_age_band",
                "user",
                "age_band",
                vocab=("18-24", "25-34", "35-44", "45-54", "55+"),
            ),
            Feature("item_price", "item", "price"),
            Feature("item_category", "item", "category", vocab=tuple(sorted(set(categories)))),
            Feature(
                "cat_affinity", "cross", "category", op="affinity", user_field="top_categories"
            ),
        )
    )


def followed(times: Iterable[float], ts: float, window_s: float) -> bool:
    """Whether one of ``times`` is at ``ts`` or up to ``window_s`` seconds after it."""
    return any(0.0 <= t - ts <= window_s for t in times)


def label_exposures(events: Sequence[Event], window_s: float) -> tuple[list[Event], list[int]]:
    """A user's views and, for each, 1 when a positive event on that item followed it
    within ``window_s`` seconds."""
    positive: dict[str, list[float]] = {}
    for ev in events:
        if ev.type in ENGAGED:
            positive.setdefault(ev.item_id, []).append(ev.ts)
    views = [ev for ev in events if ev.type == EXPOSURE]
    labels = [int(followed(positive.get(v.item_id, ()), v.ts, window_s)) for v in views]
    return views, labels


def build_training_set(
    backend: DataBackend,
    events: Mapping[str, Sequence[Event]],
    spec: FeatureSpec,
    *,
    window_s: float = 600.0,
    scene: str = "train",
) -> TrainingSet:
    """One row per logged exposure, features assembled as serving assembles them."""
    assembler = Assembler(spec)
    client = DataClient(backend)
    config = StrategyConfig()
    xs: list[npt.NDArray[np.float32]] = []
    ys: list[int] = []
    ts: list[float] = []
    groups: list[int] = []
    for g, (uid, user_events) in enumerate(events.items()):
        views, labels = label_exposures(user_events, window_s)
        if not views:
            continue
        ctx: Context[Any] = Context(Request(scene=scene, user_id=uid), config, client)
        xs.append(assembler.assemble(ctx, [Item(v.item_id) for v in views]))
        ys.extend(labels)
        ts.extend(v.ts for v in views)
        groups.extend([g] * len(views))
    width = len(spec.features)
    return TrainingSet(
        np.concatenate(xs) if xs else np.empty((0, width), np.float32),
        np.array(ys, np.int8),
        np.array(ts, np.float64),
        np.array(groups, np.int64),
    )
