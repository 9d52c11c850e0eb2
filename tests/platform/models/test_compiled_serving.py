"""A node with PRISM_LIGHTGBM_COMPILED=1 serves LightGBM versions compiled by lleaves,
compiling each once (the check in a child process and the node share the object code)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from prism_platform.models import ModelService, ModelStore
from prism_platform.models.store import COMPILED_ENV
from prism_platform.models.train import TrainReport
from prism_sdk import ranking
from prism_sdk.ranking import LightGBMPredictor
from prism_sdk.ranking._compiled import TOLERANCE, CompiledLightGBMPredictor

NAME = "ranker_t"


def test_compiled_versions_score_like_lightgbm(
    trained: tuple[Path, TrainReport], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lleaves  # noqa: F401  # in the test extra: missing, this fails (never skips)

    store = ModelStore(shutil.copytree(trained[0], tmp_path / "models"))
    plain = ModelService(store).load(NAME, "v1")
    assert isinstance(plain.predictor, LightGBMPredictor)  # the default
    monkeypatch.setenv(COMPILED_ENV, "1")
    compiled = ModelService(store).load(NAME, "v1")
    assert isinstance(compiled.predictor, CompiledLightGBMPredictor)
    assert ranking.model(NAME).current is compiled
    assert len(list((store.root / ".compiled").glob("*.o"))) == 1
    probe = store.read(NAME, "v1").probe
    assert np.abs(compiled.predict(probe) - plain.predict(probe)).max() <= TOLERANCE
