"""A ranker trained (for real, with LightGBM) on the small demo world, registered in a
store of its own; every test leaves the SDK's model handles empty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from prism_platform.models import ModelStore
from prism_platform.models.train import TrainReport, train_ranker
from prism_platform.models.trainset import build_training_set, default_spec
from prism_sdk import LocalBackend, ranking
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


@pytest.fixture(autouse=True)
def _no_models_left_installed() -> Iterator[None]:
    yield
    for name in (NAME, "ctr"):
        ranking.uninstall(name)
