"""Train a ranking model on a training set, report AUC and NDCG@10 on a time split and
register the version (``prism job train-ranker``; see ``train_job`` for where the
training set comes from)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from prism_platform.models.store import ModelStore
from prism_platform.models.trainset import TrainingSet
from prism_sdk.ranking import FeatureSpec, LogisticModel, load_model

log = logging.getLogger("prism.models")

LGB_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "verbose": -1,
    "deterministic": True,
    "seed": 7,
    "num_threads": 1,  # OpenMP spin-waits crawl when the cores are busy serving
}
PROBE_ROWS = 256


@dataclass(frozen=True)
class TrainReport:
    name: str
    version: str
    kind: str
    metrics: dict[str, float]
    rows: dict[str, int]
    seconds: float
    features: str = "reassembled"
    trainset: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def fit_lightgbm(data: TrainingSet, spec: FeatureSpec, rounds: int = 100) -> str:
    """A binary LightGBM classifier as LightGBM's text model format."""
    import lightgbm

    categorical = [f.name for f in spec.features if f.vocab is not None]
    dataset = lightgbm.Dataset(
        data.x, label=data.y, feature_name=spec.names, categorical_feature=categorical
    )
    booster = lightgbm.train(LGB_PARAMS, dataset, num_boost_round=rounds)
    return str(booster.model_to_string())


def fit_logistic(data: TrainingSet, spec: FeatureSpec) -> str:
    """A scikit-learn logistic regression, exported as coefficients JSON (NaN → 0)."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(max_iter=500).fit(np.nan_to_num(data.x, nan=0.0), data.y)
    model = LogisticModel(
        [float(c) for c in lr.coef_[0]], float(lr.intercept_[0]), features=spec.names
    )
    return msgspec.json.encode(model).decode()


def auc(y: npt.NDArray[np.int8], scores: npt.NDArray[np.float64]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, scores)) if 0 < y.sum() < len(y) else float("nan")


def ndcg_at(
    k: int, y: npt.NDArray[np.int8], scores: npt.NDArray[np.float64], group: npt.NDArray[np.int64]
) -> float:
    """Mean NDCG@k over groups (users) with at least one positive."""
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    values = []
    order = np.lexsort((-scores, group))
    g, lab = group[order], y[order].astype(np.float64)
    bounds = np.flatnonzero(np.diff(g)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(g)], strict=True):
        rel = lab[lo:hi]
        if hi <= lo or rel.sum() == 0:
            continue
        ideal = np.sort(rel)[::-1][:k]
        values.append(float(rel[:k] @ discount[: len(rel[:k])] / (ideal @ discount[: len(ideal)])))
    return float(np.mean(values)) if values else float("nan")


def train_ranker(
    data: TrainingSet,
    spec: FeatureSpec,
    store: ModelStore,
    *,
    name: str = "ctr",
    kind: str = "lightgbm",
    rounds: int = 100,
    test_fraction: float = 0.2,
    features: str = "reassembled",
    trainset: dict[str, Any] | None = None,
) -> TrainReport:
    """Fit on the rows before the time split, evaluate on the rows after it and register
    the version (not activated); ``features`` and ``trainset`` are recorded in its meta."""
    t0 = perf_counter()
    train, test = data.split(test_fraction)
    if len(train) == 0 or len(test) == 0 or train.y.min() == train.y.max():
        raise ValueError(
            f"model {name}: not enough labelled exposures to train "
            f"({len(train)} train rows, {len(test)} test rows)"
        )
    log.info("event=trainset rows=%d positives=%d", len(data), int(data.y.sum()))
    model = fit_lightgbm(train, spec, rounds) if kind == "lightgbm" else fit_logistic(train, spec)
    probe = test.x[:PROBE_ROWS]
    scores = load_model(name, "candidate", kind=kind, model=model, spec=spec, probe=probe).predict(
        test.x
    )
    metrics = {
        "auc": round(auc(test.y, scores), 4),
        "ndcg@10": round(ndcg_at(10, test.y, scores, test.group), 4),
        "ndcg@10_random": round(
            ndcg_at(10, test.y, np.random.default_rng(0).random(len(test)), test.group), 4
        ),
        "positive_rate": round(float(test.y.mean()), 4),
    }
    rows = {"train": len(train), "test": len(test)}
    meta = {"metrics": metrics, "rows": rows, "features": features, "trainset": trainset or {}}
    version = store.register(name, kind=kind, model=model, spec=spec, probe=probe, meta=meta)
    seconds = perf_counter() - t0
    log.info("event=ranker_trained model=%s version=%s metrics=%s", name, version, metrics)
    return TrainReport(
        name, version, kind, metrics, rows, round(seconds, 2), features, trainset or {}
    )
