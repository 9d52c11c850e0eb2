"""LightGBM scores through the C API call equal ``Booster.predict`` bit for bit."""

from __future__ import annotations

import lightgbm
import numpy as np

from prism_sdk.ranking import LightGBMPredictor
from prism_sdk.ranking._lightgbm_call import direct_predict


def test_the_direct_call_scores_as_booster_predict(model_text: str, probe: np.ndarray) -> None:
    predictor = LightGBMPredictor.from_text(model_text, "ctr@v1")
    assert predictor._direct is not None  # this LightGBM exposes what the call needs
    x = np.ascontiguousarray(probe, np.float32)
    expected = predictor.booster.predict(x)
    assert predictor._direct(x).tobytes() == expected.tobytes()
    assert predictor.predict(x).tobytes() == expected.tobytes()
    fortran = np.asfortranarray(x)  # not C-contiguous: Booster.predict, same scores
    assert predictor.predict(fortran).tobytes() == expected.tobytes()


def test_multiclass_models_keep_booster_predict() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((60, 3))
    params = {"objective": "multiclass", "num_class": 3, "verbose": -1, "min_data_in_leaf": 5}
    booster = lightgbm.train(params, lightgbm.Dataset(x, label=rng.integers(0, 3, 60)), 3)
    assert direct_predict(booster) is None
