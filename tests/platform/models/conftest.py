"""A ranker trained (for real, with LightGBM) on the small demo world, registered in a
store of its own; every test leaves the SDK's model handles empty. And the rows of the
default feature spec worked out from the raw data, the oracle of the assembled ones."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from prism_platform.models import ModelStore
from prism_platform.models.train import TrainReport, train_ranker
from prism_platform.models.trainset import build_training_set, default_spec
from prism_sdk import LocalBackend
from prism_sdk.ranking import FeatureSpec

NAME = "ranker_t"


@pytest.fixture(scope="session")
def demo_spec(demo_backend: LocalBackend) -> FeatureSpec:
    return default_spec(str(r["category"]) for r in demo_backend.items.values())


@pytest.fixture(scope="session")
def trained(
    demo_backend: LocalBackend, demo_spec: FeatureSpec, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, TrainReport]:
    """The models folder holding NAME@v1 (LightGBM, not activated) and its report."""
    root = tmp_path_factory.mktemp("models")
    report = train_ranker(
        build_training_set(demo_backend, demo_backend.events, demo_spec),
        demo_spec,
        ModelStore(root),
        name=NAME,
    )
    return root, report


GENDERS = ("f", "m", "x")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55+")


def default_spec_rows(
    backend: LocalBackend, user_id: str, item_ids: list[str]
) -> npt.NDArray[np.float32]:
    """The rows of ``default_spec`` for one user's candidates, worked out here from the
    backend's raw rows (not by the Assembler): gender and age band as their index in the
    spec's vocabularies, the price, the category's index among the sorted categories of
    all items, and the user's weight for the item's category, ``1 / (1 + rank)`` in
    ``top_categories`` (0 for a category not in it); NaN for anything missing."""
    nan = float("nan")

    def index(values: Sequence[object], value: object) -> float:
        return float(values.index(value)) if value in values else nan

    categories = sorted({str(row["category"]) for row in backend.items.values()})
    profile = backend.features.get("user", {}).get(user_id) or {}
    top = profile.get("top_categories")
    rows = []
    for item_id in item_ids:
        item = backend.items.get(item_id) or {}
        category, price = item.get("category"), item.get("price")
        if top is None:
            affinity = nan  # no profile: the feature's default
        else:
            affinity = 1.0 / (1 + top.index(category)) if category in top else 0.0
        rows.append(
            [
                index(GENDERS, profile.get("gender")),
                index(AGE_BANDS, profile.get("age_band")),
                nan if price is None else float(price),
                index(categories, category),
                affinity,
            ]
        )
    return np.array(rows, np.float32)
