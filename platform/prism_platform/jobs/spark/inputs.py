"""What the Spark jobs read: the interaction log and the item catalogue, as DataFrames.

The interaction log (Parquet or CSV with a header; any other columns are ignored, so
``prism events export`` files serve as they are):

======== ====== ==========================================================
column   type   meaning
======== ====== ==========================================================
user_id  string who
item_id  string what
type     string ``view``, ``click``, ``cart`` or ``order`` (others, such as the
                event log's ``exposure``, count in no job)
ts       double unix seconds
======== ====== ==========================================================

The catalogue: ``item_id``, ``category``, ``eligible`` (on shelf: popular tables list
only those), and for content similarity ``title``, ``categories`` and ``shops`` (the
field's values, a list field giving several). Events on items outside it are dropped,
as the local engine drops them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prism_platform.jobs.content import field_values
from prism_platform.jobs.tables import UNKNOWN_CATEGORY, item_category

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

EVENT_COLUMNS = {"user_id": "string", "item_id": "string", "type": "string", "ts": "double"}
CATALOGUE_SCHEMA = (
    "item_id string, category string, eligible boolean, title string, "
    "categories array<string>, shops array<string>"
)
FORMATS = ("parquet", "csv")


class InputError(ValueError):
    """An input path or its columns are unusable; the message says which."""


def input_format(paths: Sequence[str], fmt: str | None = None) -> str:
    """``fmt``, else from the first path's extension (``.csv``, ``.csv.gz``: CSV;
    anything else, a directory of part files included: Parquet)."""
    if fmt:
        return fmt
    name = paths[0].lower().rstrip("/")
    return "csv" if name.endswith((".csv", ".csv.gz")) else "parquet"


def read_events(
    spark: SparkSession, paths: Sequence[str], fmt: str | None = None, since: float | None = None
) -> DataFrame:
    """The interaction log at ``paths`` (files, directories or globs), columns cast to
    :data:`EVENT_COLUMNS`, rows with a missing one dropped; ``since``: not older."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    if not paths:
        raise InputError("no interaction log given")
    kind = input_format(paths, fmt)
    reader = spark.read.option("header", True).option("escape", '"')
    try:
        raw = reader.csv(list(paths)) if kind == "csv" else reader.parquet(*paths)
    except AnalysisException as exc:
        raise InputError(f"cannot read {', '.join(paths)}: {exc.getMessage()}") from None
    missing = [c for c in EVENT_COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(
            f"{', '.join(paths)}: no column {', '.join(missing)} (needed: "
            f"{', '.join(EVENT_COLUMNS)}; found: {', '.join(raw.columns)})"
        )
    events = raw.select([F.col(c).cast(t).alias(c) for c, t in EVENT_COLUMNS.items()]).dropna()
    return events if since is None else events.where(F.col("ts") >= since)


def stage_events(
    spark: SparkSession, rows: Iterable[tuple[str, str, str, float]], folder: Path
) -> DataFrame:
    """In-memory ``(user_id, item_id, type, ts)`` rows as a DataFrame, through a CSV file
    in ``folder`` (Spark reads a file several times faster than it takes rows from Python)."""
    path = folder / "events.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(EVENT_COLUMNS)
        out.writerows(rows)
    return read_events(spark, [str(path)], "csv")


def catalogue_frame(spark: SparkSession, items: Mapping[str, Mapping[str, Any]]) -> DataFrame:
    """The catalogue of forward-index rows (the local data's items), fields read as the
    local engine reads them."""
    rows = [
        (
            item_id,
            item_category(row),
            row.get("status", "on") == "on",
            str(row.get("title") or ""),
            field_values(row.get("category")),
            field_values(row.get("shop")),
        )
        for item_id, row in items.items()
    ]
    return spark.createDataFrame(rows, CATALOGUE_SCHEMA)


def read_catalogue(spark: SparkSession, path: str, fmt: str | None = None) -> DataFrame:
    """A catalogue file (Parquet or CSV with a header): ``item_id``; optional
    ``category``, ``status`` (``on`` unless given), ``title`` and ``shop`` (one value)."""
    from pyspark.sql import functions as F

    kind = input_format([path], fmt)
    reader = spark.read.option("header", True).option("escape", '"')
    raw = reader.csv(path) if kind == "csv" else reader.parquet(path)
    if "item_id" not in raw.columns:
        raise InputError(f"{path}: no column item_id (columns: {', '.join(raw.columns)})")

    def text(name: str) -> Any:
        return F.col(name).cast("string") if name in raw.columns else F.lit(None).cast("string")

    def values(name: str) -> Any:
        value = text(name)
        return F.when((value.isNull()) | (value == ""), F.array().cast("array<string>")).otherwise(
            F.array(value)
        )

    category = text("category")
    return raw.select(
        text("item_id").alias("item_id"),
        F.when((category.isNull()) | (category == ""), F.lit(UNKNOWN_CATEGORY))
        .otherwise(category)
        .alias("category"),
        F.coalesce(text("status"), F.lit("on")).eqNullSafe("on").alias("eligible"),
        F.coalesce(text("title"), F.lit("")).alias("title"),
        values("category").alias("categories"),
        values("shop").alias("shops"),
    ).where(F.col("item_id").isNotNull())


def on_catalogue(events: DataFrame, catalogue: DataFrame) -> DataFrame:
    """The events on items of ``catalogue``."""
    return events.join(catalogue.select("item_id"), "item_id", "left_semi")
