"""Ranking with registered models ("kepler"): feature specs, vectorised feature
assembly, LightGBM / logistic-regression predictors and hot-swappable model handles.

In a strategy::

    ranker = prism_sdk.ranking.model("ctr")      # at module load

    def recommend(ctx):
        ...
        if ranker.ready:
            candidates = ranker.score(ctx, candidates)   # traced as stage scorer.ctr
"""

from ._assemble import Assembler
from ._errors import ModelError, ModelUnavailable
from ._handle import ModelHandle, install, model, uninstall
from ._model import LoadedModel, load_model, validate
from ._predictors import KINDS, LightGBMPredictor, LogisticModel, LogisticPredictor, Predictor
from ._spec import Feature, FeatureSpec, check_spec, parse_spec

__all__ = [
    "KINDS",
    "Assembler",
    "Feature",
    "FeatureSpec",
    "LightGBMPredictor",
    "LoadedModel",
    "LogisticModel",
    "LogisticPredictor",
    "ModelError",
    "ModelHandle",
    "ModelUnavailable",
    "Predictor",
    "check_spec",
    "install",
    "load_model",
    "model",
    "parse_spec",
    "uninstall",
    "validate",
]
