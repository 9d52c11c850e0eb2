"""Model formats, loaded from safe text (never pickle): LightGBM's text model format
and logistic regression as coefficients + intercept JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from ._compiled import CompiledLightGBMPredictor
from ._errors import ModelError
from ._lightgbm_call import direct_predict

Scores = npt.NDArray[np.float64]
KINDS = ("lightgbm", "logistic")


class Predictor(Protocol):
    """Scores a float32 matrix, one score per row."""

    kind: str
    classifier: bool  # scores are probabilities in [0, 1]
    n_features: int

    def feature_names(self) -> list[str] | None: ...

    def predict(self, x: npt.NDArray[np.float32]) -> Scores: ...


class LightGBMPredictor:
    """A LightGBM booster (``Booster(model_str=...)``).

    LightGBM aborts the process on some malformed files (a truncated one is enough):
    the platform loads every version in a child process first.
    """

    kind = "lightgbm"

    def __init__(self, booster: Any, classifier: bool) -> None:
        self.booster = booster
        self.classifier = classifier
        self.n_features = int(booster.num_feature())
        self._direct = direct_predict(booster)

    @classmethod
    def from_text(cls, text: str, where: str) -> LightGBMPredictor:
        import lightgbm

        try:
            booster = lightgbm.Booster(model_str=text)
        except Exception as exc:  # LightGBMError, or worse on garbage input
            raise ModelError(f"{where}: cannot parse the LightGBM model: {exc}") from None
        return cls(booster, is_classifier(text))

    def feature_names(self) -> list[str] | None:
        return list(self.booster.feature_name())

    def predict(self, x: npt.NDArray[np.float32]) -> Scores:
        direct = self._direct
        if (
            direct is not None
            and x.dtype == np.float32
            and x.ndim == 2
            and x.shape[1] == self.n_features
            and x.flags.c_contiguous
        ):
            return direct(x)
        return np.asarray(self.booster.predict(x), np.float64)


class LogisticModel(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The JSON form of a logistic regression: ``sigmoid(x · coef + intercept)``."""

    coef: list[float]
    intercept: float
    features: list[str] | None = None


class LogisticPredictor:
    """Logistic regression (e.g. scikit-learn's, exported as coefficients). Missing
    inputs (NaN) count as 0."""

    kind = "logistic"
    classifier = True

    def __init__(self, model: LogisticModel) -> None:
        self.model = model
        self.coef = np.asarray(model.coef, np.float64)
        self.intercept = float(model.intercept)
        self.n_features = len(self.coef)

    @classmethod
    def from_json(cls, raw: str | bytes, where: str) -> LogisticPredictor:
        try:
            model = msgspec.json.decode(raw, type=LogisticModel)
        except msgspec.DecodeError as exc:
            raise ModelError(f"{where}: bad logistic model JSON: {exc}") from None
        if not np.all(np.isfinite(model.coef + [model.intercept])):
            raise ModelError(f"{where}: logistic coefficients are not all finite")
        return cls(model)

    def feature_names(self) -> list[str] | None:
        return self.model.features if self.model.features is not None else None

    def predict(self, x: npt.NDArray[np.float32]) -> Scores:
        z = np.nan_to_num(x, nan=0.0).astype(np.float64) @ self.coef + self.intercept
        out: Scores = 1.0 / (1.0 + np.exp(-z))
        return out


def is_classifier(lightgbm_text: str) -> bool:
    """Whether a LightGBM text model's objective outputs probabilities."""
    objective = next(
        (ln.split("=", 1)[1] for ln in lightgbm_text.splitlines() if ln.startswith("objective=")),
        "",
    )
    return objective.startswith(("binary", "cross_entropy"))


def parse_predictor(
    kind: str,
    text: str | bytes,
    where: str,
    *,
    compiled: bool = False,
    cache_dir: Path | None = None,
) -> Predictor:
    """``compiled``: a LightGBM model compiled by lleaves (see ``_compiled``), its object
    code cached in ``cache_dir``."""
    if kind == "lightgbm":
        raw = text.decode() if isinstance(text, bytes) else text
        if compiled:
            LightGBMPredictor.from_text(raw, where)  # LightGBM's own parse checks the text
            return CompiledLightGBMPredictor.from_text(
                raw, where, classifier=is_classifier(raw), cache_dir=cache_dir
            )
        return LightGBMPredictor.from_text(raw, where)
    if kind == "logistic":
        return LogisticPredictor.from_json(text, where)
    raise ModelError(f"{where}: unknown model kind {kind!r} (known: {', '.join(KINDS)})")
