"""``prism job train-ranker``: pick the training set, train, register.

``--features``:

* ``served``: the feature rows logged on the serving path, joined with the event log
  (``served_trainset``); fails, saying why, when fewer than :data:`MIN_SERVED_ROWS`
  exposures have logged rows of the spec (or one label is missing);
* ``reassembled``: features assembled now from the local backend for its event history
  (``trainset``), for data with no feature log (the demo world's history, MovieLens);
* ``auto`` (default): ``served`` when there is enough, else ``reassembled`` with a note
  saying why.

The spec trained is the serving version's (the logged rows were assembled with it), or
the default spec when the model has no version yet.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from prism_platform.demo.seed import open_data
from prism_platform.events.sink import open_sink, read_all
from prism_platform.feature_log import open_feature_store
from prism_platform.models.served_trainset import ServedStats, build_served_training_set
from prism_platform.models.store import ModelStore
from prism_platform.models.train import TrainReport, train_ranker
from prism_platform.models.trainset import TrainingSet, build_training_set, default_spec
from prism_platform.settings import Settings
from prism_sdk import DataBackend, LocalBackend
from prism_sdk.ranking import FeatureSpec, parse_spec

FEATURES = ("auto", "served", "reassembled")
MIN_SERVED_ROWS = 200


@dataclass(frozen=True)
class TrainJob:
    name: str = "ctr"
    kind: str = "lightgbm"
    rounds: int = 100
    test_fraction: float = 0.2
    features: str = "auto"
    window_s: float = 600.0


def run_train_job(settings: Settings, job: TrainJob) -> TrainReport:
    """Train and register a version of ``job.name`` (not activated); ValueError says
    why not."""
    store = ModelStore(settings.var_dir / "models")
    backend: DataBackend | None = None
    spec = serving_spec(store, job.name)
    note = ""
    if job.features != "reassembled":
        if spec is None:
            backend = open_data(settings)
            spec = local_spec(backend)
        data, stats = read_served(settings, spec, job.window_s)
        short = shortfall(stats)
        if short is None:
            return train_ranker(
                data, spec, store,
                name=job.name, kind=job.kind, rounds=job.rounds, test_fraction=job.test_fraction,
                features="served", trainset=dataclasses.asdict(stats),
            )  # fmt: skip
        if job.features == "served":
            raise ValueError(
                f"model {job.name}: {short}; serve traffic while a version is active (its "
                "requests log their features) or train with --features reassembled"
            )
        note = f"{short}: trained on re-assembled features instead"
    backend = backend or open_data(settings)
    spec = spec or local_spec(backend)
    local = _local(backend)
    data = build_training_set(local, local.events, spec)
    report = train_ranker(
        data, spec, store,
        name=job.name, kind=job.kind, rounds=job.rounds, test_fraction=job.test_fraction,
        trainset={"rows": len(data), "positives": int(data.y.sum())},
    )  # fmt: skip
    return dataclasses.replace(report, note=note)


def serving_spec(store: ModelStore, name: str) -> FeatureSpec | None:
    """The spec of the version ``current`` names (None before the first version)."""
    version = store.current(name)
    if version is None:
        return None
    return parse_spec(store.read(name, version).spec, f"model {name}@{version}")


def local_spec(backend: DataBackend) -> FeatureSpec:
    """The default spec over the local backend's item categories."""
    local = _local(backend)
    return default_spec(str(r.get("category", "")) for r in local.items.values())


def read_served(
    settings: Settings, spec: FeatureSpec, window_s: float
) -> tuple[TrainingSet, ServedStats]:
    """The logged rows of ``spec`` joined with the event log (both read whole)."""
    features, events = open_feature_store(settings), open_sink(settings)
    try:
        return build_served_training_set(
            read_all(features.read), read_all(events.read), spec, window_s=window_s
        )
    finally:
        features.close()
        events.close()


def shortfall(stats: ServedStats) -> str | None:
    """Why the served rows are not enough to train on, or None."""
    negatives = stats.rows - stats.positives
    if stats.rows >= MIN_SERVED_ROWS and stats.positives and negatives:
        return None
    return (
        f"only {stats.rows} exposures have logged features of this spec ({stats.positives} "
        f"positive; {MIN_SERVED_ROWS} with both labels needed; {stats.logged_rows} rows "
        f"logged, {stats.other_spec_rows} of another spec)"
    )


def _local(backend: DataBackend) -> LocalBackend:
    if not isinstance(backend, LocalBackend):
        raise ValueError(
            f"re-assembled training reads the event history of the local backend, "
            f"not {backend.name!r}; use --features served"
        )
    return backend
