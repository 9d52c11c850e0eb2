"""``prism job train-ranker --engine spark``: the served training set
(``served_trainset``) built by Spark, LightGBM trained on the driver.

Spark joins the exposures with the feature rows logged for them (request id from the
acm token, item id; an exposure reported twice counts once, the earliest) and labels
each: 1 when a click, cart or order on the item follows within ``window_s``, by the same
token or the same user. Only the labelled rows reach the driver, and at most
``max_rows`` of them: above that, whole requests are kept at random (by a hash of the
request id, so a request's rows stay together for NDCG) until the set fits. The driver
holds ``rows × (features + 3) × 8`` bytes and LightGBM's copy of them: the limit of
this path (2 million rows of 10 features: about 0.5 GB).

Inputs: the event log as files (``--events``: ``prism events export`` Parquet or CSV
with ``event_id``, ``type``, ``acm``, ``user_id``, ``item_id``, ``ts``), else the
configured event log, read page by page into a staging file; the feature log, read the
same way (rows of another spec skipped and counted, as in ``served_trainset``).
"""

from __future__ import annotations

import csv
import dataclasses
import math
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from prism_platform.demo.seed import open_data
from prism_platform.events.event import StoredEvent
from prism_platform.events.sink import open_sink, read_all
from prism_platform.feature_log import LoggedRows, open_feature_store
from prism_platform.jobs.tables import ENGAGED
from prism_platform.models.served_trainset import EXPOSURE, ServedStats, readable_matrices
from prism_platform.models.store import ModelStore
from prism_platform.models.train import TrainReport, train_ranker
from prism_platform.models.train_job import TrainJob, local_spec, serving_spec, shortfall
from prism_platform.models.trainset import TrainingSet
from prism_platform.settings import Settings
from prism_sdk.ranking import FeatureSpec

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

MAX_ROWS = 2_000_000
EVENT_COLUMNS = {
    "event_id": "string", "type": "string", "acm": "string",
    "user_id": "string", "item_id": "string", "ts": "double",
}  # fmt: skip
ACM_FIELDS = {"1": 7, "2": 9, "3": 13}
"""Fields of each acm token version (``prism_sdk._acm``); the request id is the 7th."""


def stage_logged_rows(
    records: Iterable[LoggedRows], spec: FeatureSpec, path: Path, stats: ServedStats
) -> None:
    """The logged rows of ``spec`` as CSV ``request_id, item_id, f0…`` (NaN as ``NaN``)."""
    width = len(spec.features)
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["request_id", "item_id", *(f"f{n}" for n in range(width))])
        for rec, x in readable_matrices(records, spec, stats):
            for item_id, row in zip(rec.item_ids, x.tolist(), strict=True):
                out.writerow([rec.request_id, item_id, *row])


def stage_events(records: Iterable[StoredEvent], path: Path) -> None:
    """Stored events as CSV of :data:`EVENT_COLUMNS`."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(EVENT_COLUMNS)
        out.writerows([getattr(ev, c) for c in EVENT_COLUMNS] for ev in records)


def read_table(spark: SparkSession, paths: Sequence[str], schema: dict[str, str]) -> DataFrame:
    """Parquet or CSV (by the first path's extension), columns of ``schema`` cast."""
    from pyspark.sql import functions as F

    csv_input = paths[0].lower().rstrip("/").endswith((".csv", ".csv.gz"))
    reader = spark.read.option("header", True).option("escape", '"').option("nanValue", "NaN")
    raw = reader.csv(list(paths)) if csv_input else reader.parquet(*paths)
    missing = [c for c in schema if c not in raw.columns]
    if missing:
        raise ValueError(f"{', '.join(paths)}: no column {', '.join(missing)}")
    return raw.select([F.col(c).cast(t).alias(c) for c, t in schema.items()])


def request_id(acm: Column) -> Column:
    """The request id of an acm token column (null when the token is malformed)."""
    from pyspark.sql import functions as F

    parts = F.split(acm, r"\.")
    size = F.size(parts)
    sized = F.lit(False)
    for version, fields in ACM_FIELDS.items():
        sized = sized | ((F.element_at(parts, 1) == version) & (size == fields))
    rid = F.element_at(parts, 7)
    return F.when(sized & (rid != ""), rid)


def training_rows(events: DataFrame, logged: DataFrame, window_s: float) -> DataFrame:
    """``(request_id, item_id, ts, label, f0…)``: one row per exposure with a logged row."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    exposures = (
        events.where(F.col("type") == EXPOSURE)
        .withColumn("request_id", request_id(F.col("acm")))
        .where(F.col("request_id").isNotNull())
    )
    first = Window.partitionBy("request_id", "item_id").orderBy("ts", "event_id")
    shown = (
        exposures.join(
            logged.select("request_id", "item_id"), ["request_id", "item_id"], "left_semi"
        )
        .withColumn("n", F.row_number().over(first))
        .where(F.col("n") == 1)
        .select("request_id", "item_id", "acm", "user_id", "ts")
    )
    engaged = events.where(F.col("type").isin(*ENGAGED)).select(
        "acm", "user_id", "item_id", F.col("ts").alias("t")
    )
    soon = (F.col("t") >= F.col("ts")) & (F.col("t") <= F.col("ts") + window_s)
    by_token = shown.join(engaged.drop("user_id", "item_id"), ["acm"]).where(soon)
    by_user = shown.join(engaged.drop("acm"), ["user_id", "item_id"]).where(soon)
    positive = (
        by_token.select("request_id", "item_id")
        .union(by_user.select("request_id", "item_id"))
        .distinct()
        .withColumn("label", F.lit(1))
    )
    return (
        shown.join(positive, ["request_id", "item_id"], "left")
        .join(logged, ["request_id", "item_id"])
        .withColumn("label", F.coalesce("label", F.lit(0)))
        .drop("acm", "user_id")
    )


def collect_training_set(
    rows: DataFrame, width: int, max_rows: int = MAX_ROWS, seed: int = 7
) -> tuple[TrainingSet, int]:
    """The rows on the driver (whole requests sampled down to about ``max_rows``), in
    order of time, request and item; and how many there were before sampling."""
    from pyspark.sql import functions as F

    rows = rows.cache()
    total = rows.count()
    if total > max_rows:
        bucket = F.abs(F.xxhash64(F.lit(seed), "request_id")) % 1_000_000
        rows = rows.where(bucket < math.floor(max_rows / total * 1_000_000))
    features = [f"f{n}" for n in range(width)]
    ordered = rows.orderBy("ts", "request_id", "item_id").select(
        "request_id", "ts", "label", *features
    )
    xs: list[list[float]] = []
    ys: list[int] = []
    ts: list[float] = []
    rids: list[str] = []
    for r in ordered.toLocalIterator():
        rids.append(r["request_id"])
        ts.append(r["ts"])
        ys.append(r["label"])
        xs.append([math.nan if r[f] is None else r[f] for f in features])
    rows.unpersist()
    _, group = np.unique(np.array(rids, dtype=object), return_inverse=True)
    data = TrainingSet(
        np.array(xs, np.float32).reshape(len(ys), width),
        np.array(ys, np.int8),
        np.array(ts, np.float64),
        group.astype(np.int64),
    )
    return data, total


def spark_served_training_set(
    spark: SparkSession,
    settings: Settings,
    spec: FeatureSpec,
    *,
    window_s: float = 600.0,
    events: Sequence[str] = (),
    max_rows: int = MAX_ROWS,
) -> tuple[TrainingSet, ServedStats, int]:
    """The served training set of ``spec`` built by Spark (see the module docstring),
    its stats (of the rows kept) and the rows there were before sampling."""
    from pyspark.sql import functions as F

    stats = ServedStats()
    width = len(spec.features)
    schema = {"request_id": "string", "item_id": "string"}
    schema |= {f"f{n}": "float" for n in range(width)}
    with tempfile.TemporaryDirectory(prefix="prism-spark-train-") as staging:
        rows_csv, events_csv = Path(staging, "rows.csv"), Path(staging, "events.csv")
        store = open_feature_store(settings)
        try:
            stage_logged_rows(read_all(store.read), spec, rows_csv, stats)
        finally:
            store.close()
        if not events:
            sink = open_sink(settings)
            try:
                stage_events(read_all(sink.read), events_csv)
            finally:
                sink.close()
            events = [str(events_csv)]
        log = read_table(spark, events, EVENT_COLUMNS)
        logged = read_table(spark, [str(rows_csv)], schema)
        stats.exposures = log.where(F.col("type") == EXPOSURE).count()
        data, total = collect_training_set(training_rows(log, logged, window_s), width, max_rows)
    stats.rows, stats.positives = len(data), int(data.y.sum())
    return data, stats, total


def run_spark_train_job(
    spark: SparkSession,
    settings: Settings,
    job: TrainJob,
    *,
    events: Sequence[str] = (),
    max_rows: int = MAX_ROWS,
) -> TrainReport:
    """``train_job.run_train_job`` with the served training set built by Spark (only
    served features: re-assembling them reads the local data whole, a local job)."""
    if job.features == "reassembled":
        raise ValueError("--engine spark trains on served features (--features served or auto)")
    store = ModelStore(settings.var_dir / "models")
    spec = serving_spec(store, job.name) or local_spec(open_data(settings))
    data, stats, total = spark_served_training_set(
        spark, settings, spec, window_s=job.window_s, events=events, max_rows=max_rows
    )
    short = shortfall(stats)
    if short is not None:
        raise ValueError(f"model {job.name}: {short}")
    return train_ranker(
        data, spec, store,
        name=job.name, kind=job.kind, rounds=job.rounds, test_fraction=job.test_fraction,
        features="served",
        trainset=dataclasses.asdict(stats) | {"engine": "spark", "rows_before_sampling": total},
    )  # fmt: skip
