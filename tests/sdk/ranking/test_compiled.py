"""The optional compiled LightGBM backend (lleaves): the same scores as LightGBM within
float64 rounding, compiled once per model text; the default stays LightGBM."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pytest

from prism_sdk import Context, Item, ranking
from prism_sdk.ranking import Assembler, FeatureSpec, LightGBMPredictor, ModelError, load_model
from prism_sdk.ranking._compiled import TOLERANCE, CompiledLightGBMPredictor

CtxFactory = Callable[..., Context[Any]]


def rows_with_gaps(n_features: int) -> np.ndarray:
    """Random rows, a fifth of the values missing (NaN), some far out of range."""
    rng = np.random.default_rng(11)
    x = rng.normal(0.5, 1.0, (300, n_features)).astype(np.float32)
    x[rng.random(x.shape) < 0.2] = np.nan
    return x


def test_compiled_scores_equal_lightgbm_within_rounding(
    model_text: str, spec: FeatureSpec, probe: np.ndarray, tmp_path: Path
) -> None:
    import lleaves  # noqa: F401  # in the test extra: missing, this fails (never skips)

    m = load_model(
        "ctr", "v1", kind="lightgbm", model=model_text, spec=spec, probe=probe,
        compiled=True, cache_dir=tmp_path,
    )  # fmt: skip
    assert isinstance(m.predictor, CompiledLightGBMPredictor) and m.predictor.classifier
    x = rows_with_gaps(len(spec.features))
    expected = lightgbm.Booster(model_str=model_text).predict(x)
    got = m.predict(x)
    assert np.abs(got - expected).max() <= TOLERANCE
    assert list(np.argsort(-got, kind="stable")) == list(np.argsort(-expected, kind="stable"))
    assert len(list(tmp_path.glob("*.o"))) == 1  # the object code is cached...
    again = load_model(
        "ctr", "v2", kind="lightgbm", model=model_text, spec=spec, probe=probe,
        compiled=True, cache_dir=tmp_path,
    )  # fmt: skip
    assert again.predict(x).tobytes() == got.tobytes()  # ...and loaded from there
    assert len(list(tmp_path.glob("*.o"))) == 1


def test_a_handle_ranks_the_same_with_either_backend(
    make_ctx: CtxFactory,
    spec: FeatureSpec,
    cands: list[Item],
    model_text: str,
    probe: np.ndarray,
) -> None:
    import lleaves  # noqa: F401  # in the test extra: missing, this fails (never skips)

    orders = []
    for compiled in (False, True):
        ranking.install(
            load_model(
                "either",
                "v1",
                kind="lightgbm",
                model=model_text,
                spec=spec,
                probe=probe,
                compiled=compiled,
            )  # fmt: skip
        )
        orders.append([it.id for it in ranking.model("either").score(make_ctx("u1"), cands)])
    ranking.uninstall("either")
    assert orders[0] == orders[1]
    x = Assembler(spec).assemble(make_ctx("u1"), cands)
    assert np.isnan(x).any()  # the candidates miss features: NaN handled alike


def test_default_is_lightgbm(model_text: str, spec: FeatureSpec, probe: np.ndarray) -> None:
    m = load_model("ctr", "v1", kind="lightgbm", model=model_text, spec=spec, probe=probe)
    assert isinstance(m.predictor, LightGBMPredictor)


def test_without_lleaves_the_error_names_the_extra(
    model_text: str, spec: FeatureSpec, probe: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "lleaves", None)  # import lleaves: ImportError
    with pytest.raises(
        ModelError, match=r"ctr@v1: .*needs lleaves: pip install 'prism-rec\[lleaves\]'"
    ):
        load_model(
            "ctr", "v1", kind="lightgbm", model=model_text, spec=spec, probe=probe, compiled=True
        )
