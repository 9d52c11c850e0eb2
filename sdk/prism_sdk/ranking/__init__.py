"""Ranking with registered models ("kepler"): feature specs, vectorised feature
assembly, LightGBM / logistic-regression predictors and hot-swappable model handles.

In a strategy::

    ranker = prism_sdk.ranking.model("ctr")      # at module load

    def recommend(ctx):
        ...
        if ranker.ready:
            candidates = ranker.score(ctx, candidates)   # traced as stage scorer.ctr

In a request sampled for feature logging, what ``score`` predicted on is handed to the
platform (``FeatureLog``), which stores the rows of the returned items for training.
"""

from .._scored import ScoredBatch
from ._assemble import Assembler
from ._errors import ModelError, ModelUnavailable
from ._feature_log import (
    FeatureLog,
    MemoryFeatureLog,
    ServedFeatures,
    ServedRows,
    check_rate,
    feature_log,
    install_feature_log,
    sampled,
)
from ._handle import ModelHandle, install, model, uninstall
from ._model import LoadedModel, load_model, validate
from ._predictors import KINDS, LightGBMPredictor, LogisticModel, LogisticPredictor, Predictor
from ._spec import Feature, FeatureSpec, check_spec, parse_spec

__all__ = [
    "KINDS",
    "Assembler",
    "Feature",
    "FeatureLog",
    "FeatureSpec",
    "LightGBMPredictor",
    "LoadedModel",
    "LogisticModel",
    "LogisticPredictor",
    "MemoryFeatureLog",
    "ModelError",
    "ModelHandle",
    "ModelUnavailable",
    "Predictor",
    "ScoredBatch",
    "ServedFeatures",
    "ServedRows",
    "check_rate",
    "check_spec",
    "feature_log",
    "install",
    "install_feature_log",
    "load_model",
    "model",
    "parse_spec",
    "sampled",
    "uninstall",
    "validate",
]
