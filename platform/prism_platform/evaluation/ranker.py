"""``prism eval --train-ranker``: train the ``ctr`` ranker on the training side of the
split only, and serve it to the strategies being evaluated.

The training side is split again by the same protocol (its latest share held out). On
that inner split, the strategies run as a node runs them, with a placeholder model (every
score 0, so the merged order stands) in a request sampled for feature logging: each
ranker call hands over the candidates and the feature rows it would score, assembled from
the inner training backend (nothing after the inner cutoff). A candidate's label is
whether the user engaged with it in the inner held-out part. The platform's
``train_ranker`` fits LightGBM on a seeded 80 % of the users and reports AUC and NDCG@10
on the other 20 %; the version is registered in a throw-away store and installed in this
process's model handle, as a node's model service does.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from prism_platform.evaluation import recommenders as rec
from prism_platform.evaluation.split import Dataset, Split, split_data, training_backend
from prism_platform.models.candidate_features import RECALL_SCORE, candidate_spec
from prism_platform.models.store import ModelStore
from prism_platform.models.train import train_ranker
from prism_platform.models.trainset import TrainingSet
from prism_platform.scripts.invoke import OFFLINE_TIMEOUT_S, new_context
from prism_platform.scripts.runner import run_sync
from prism_platform.scripts.strategy import Strategy
from prism_sdk import DataClient, LocalBackend, Request, ranking
from prism_sdk.ranking import FeatureSpec, LoadedModel, LogisticModel, load_model

log = logging.getLogger("prism.eval")
MODEL = "ctr"
TRAIN_USERS = 3000  # inner held-out users whose candidates make the training set
ROUNDS = 200  # LightGBM boosting rounds


@dataclass
class RankerReport:
    model: str
    version: str
    train_rows: int
    validation_rows: int
    positives: int
    users: int
    metrics: dict[str, float] = field(default_factory=dict)


@contextmanager
def serving(model: LoadedModel) -> Iterator[None]:
    """``model`` installed in its handle for the block; the previous one restored."""
    previous = ranking.install(model)
    try:
        yield
    finally:
        if previous is None:
            ranking.uninstall(model.name)
        else:
            ranking.install(previous)


def placeholder(spec: FeatureSpec) -> LoadedModel:
    """A model of the recall score alone (monotone): the strategy's merged order stands."""
    at = spec.names.index(RECALL_SCORE)
    weights = [1.0 if j == at else 0.0 for j in range(len(spec.features))]
    coefs = LogisticModel(weights, 0.0, features=spec.names)
    probe = np.zeros((2, len(spec.features)), np.float32)
    probe[1, at] = 1.0
    raw = msgspec.json.encode(coefs).decode()
    return load_model(MODEL, "v0", kind="logistic", model=raw, spec=spec, probe=probe)


def train_in_the_loop(
    data: Dataset,
    split: Split,
    strategies: Sequence[tuple[Strategy, Any]],
    *,
    test_fraction: float,
    k: int,
    seed: int = 0,
    max_users: int = TRAIN_USERS,
) -> tuple[LoadedModel, RankerReport]:
    """Train ``ctr`` on the candidates of ``strategies`` over the inner split of the
    training side of ``split``; ValueError when no strategy calls the ranker."""
    train_only = Dataset(data.name, split.train, data.catalogue, data.half_life_days)
    inner = split_data(train_only, split.protocol, test_fraction)
    backend = training_backend(train_only, inner)
    spec = candidate_spec(str(r.get("category", "")) for r in data.catalogue.values())
    users = sorted(inner.test)
    rng = np.random.default_rng(seed)
    if len(users) > max_users:
        users = [users[i] for i in sorted(rng.choice(len(users), max_users, replace=False))]
    with serving(placeholder(spec)):
        x, y, group = _candidates(backend, strategies, users, inner.test, k)
    if not len(y):
        raise ValueError("--train-ranker: no strategy scored candidates with model 'ctr'")
    order = rng.permutation(len(users)).astype(np.float64)  # validation: random users
    rows = TrainingSet(x, y, order[group], group)
    with tempfile.TemporaryDirectory(prefix="prism-eval-") as tmp:
        store = ModelStore(Path(tmp))
        report = train_ranker(rows, spec, store, name=MODEL, rounds=ROUNDS, test_fraction=0.2)
        loaded = store.read(MODEL, report.version).load()
    log.info("event=eval_ranker rows=%d metrics=%s", len(y), report.metrics)
    return loaded, RankerReport(
        model=loaded.id,
        version=report.version,
        train_rows=report.rows["train"],
        validation_rows=report.rows["test"],
        positives=int(y.sum()),
        users=len(users),
        metrics=report.metrics,
    )


def _candidates(
    backend: LocalBackend,
    strategies: Sequence[tuple[Strategy, Any]],
    users: Sequence[str],
    truth: dict[str, set[str]],
    k: int,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int8], npt.NDArray[np.int64]]:
    """What the strategies handed model ``ctr`` for each user, labelled by ``truth``."""
    data = DataClient(backend)
    xs: list[npt.NDArray[np.float32]] = []
    ys: list[npt.NDArray[np.int8]] = []
    groups: list[npt.NDArray[np.int64]] = []
    for g, uid in enumerate(users):
        for strategy, config in strategies:
            req = Request(scene=strategy.name.split("/")[-1], user_id=uid, size=k,
                          context=rec.item_context(data, uid))  # fmt: skip
            ctx = new_context(req, config, data, OFFLINE_TIMEOUT_S, scored=[])
            try:
                run_sync(strategy, ctx, OFFLINE_TIMEOUT_S)
            except Exception as exc:
                log.warning("event=eval_ranker_user_failed user=%s error=%r", uid, exc)
                continue
            for batch in ctx.scored or ():
                if batch.model != MODEL:
                    continue
                rel = truth.get(uid, set())
                xs.append(batch.x)
                ys.append(np.array([it.id in rel for it in batch.items], np.int8))
                groups.append(np.full(len(batch.items), g, np.int64))
    if not xs:
        return np.empty((0, 0), np.float32), np.empty(0, np.int8), np.empty(0, np.int64)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(groups)
