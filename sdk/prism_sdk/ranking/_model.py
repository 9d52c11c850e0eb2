"""A loaded, validated model version: immutable, so serving swaps it by one assignment."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._assemble import Assembler
from ._errors import ModelError
from ._predictors import Predictor, Scores, parse_predictor
from ._spec import FeatureSpec, parse_spec

MIN_PROBE_ROWS = 2


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """One version of a named model, ready to score."""

    name: str
    version: str
    spec: FeatureSpec
    predictor: Predictor
    meta: Mapping[str, Any] = field(default_factory=dict)
    loaded_at: float = field(default_factory=time.time)
    assembler: Assembler = field(init=False)
    spec_hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "assembler", Assembler(self.spec))
        object.__setattr__(self, "spec_hash", self.spec.digest())

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    def predict(self, x: npt.NDArray[np.float32]) -> Scores:
        return self.predictor.predict(x)


def load_model(
    name: str,
    version: str,
    *,
    kind: str,
    model: str | bytes,
    spec: str | bytes | FeatureSpec,
    probe: npt.NDArray[np.float32],
    meta: Mapping[str, Any] | None = None,
    compiled: bool = False,
    cache_dir: Path | None = None,
) -> LoadedModel:
    """Parse, check against the spec and validate on ``probe``; raises :class:`ModelError`
    naming ``name@version`` and the culprit. ``compiled``: a LightGBM model compiled by
    lleaves, its object code cached in ``cache_dir`` (see ``_compiled``)."""
    where = f"model {name}@{version}"
    fs = spec if isinstance(spec, FeatureSpec) else parse_spec(spec, where)
    predictor = parse_predictor(kind, model, where, compiled=compiled, cache_dir=cache_dir)
    if predictor.n_features != len(fs.features):
        raise ModelError(
            f"{where}: the model takes {predictor.n_features} features, "
            f"the spec names {len(fs.features)}"
        )
    names = predictor.feature_names()
    if names is not None:
        for i, (got, want) in enumerate(zip(names, fs.names, strict=True)):
            if got != want:
                raise ModelError(
                    f"{where}: feature {i} is {got!r} in the model but {want!r} in the spec"
                )
    loaded = LoadedModel(name, version, fs, predictor, dict(meta or {}))
    validate(loaded, probe)
    return loaded


def validate(model: LoadedModel, probe: npt.NDArray[np.float32]) -> Scores:
    """Predict on a probe batch: outputs one finite score per row, not all equal, and
    probabilities in [0, 1] for classifiers. Returns the scores."""
    where = f"model {model.id}: probe"
    width = len(model.spec.features)
    if probe.ndim != 2 or probe.shape[1] != width or probe.shape[0] < MIN_PROBE_ROWS:
        raise ModelError(
            f"{where}: needs a matrix of at least {MIN_PROBE_ROWS} rows x {width} features, "
            f"got shape {probe.shape}"
        )
    try:
        scores = model.predict(np.ascontiguousarray(probe, np.float32))
    except Exception as exc:
        raise ModelError(f"{where}: predict raised {type(exc).__name__}: {exc}") from None
    if scores.shape != (probe.shape[0],):
        raise ModelError(f"{where}: expected {probe.shape[0]} scores, got shape {scores.shape}")
    bad = int(np.count_nonzero(~np.isfinite(scores)))
    if bad:
        raise ModelError(f"{where}: {bad} of {len(scores)} scores are not finite")
    if float(scores.max() - scores.min()) <= 1e-12:
        raise ModelError(f"{where}: every score is {scores[0]:.6g} (a constant model)")
    if model.predictor.classifier and (scores.min() < 0.0 or scores.max() > 1.0):
        raise ModelError(
            f"{where}: classifier scores outside [0, 1]: [{scores.min():.6g}, {scores.max():.6g}]"
        )
    return scores
