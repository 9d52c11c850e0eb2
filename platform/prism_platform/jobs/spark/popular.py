"""Popular items on Spark: ``jobs/popular.py``'s decayed, type-weighted scores, overall
and per category, over the on-shelf items of the catalogue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from prism_platform.jobs.popular import DEFAULT_TYPE_WEIGHTS
from prism_platform.jobs.spark.results import top_k

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def popular(
    events: DataFrame,
    catalogue: DataFrame,
    *,
    now: float,
    half_life_s: float = 3 * 86400.0,
    top_overall: int = 500,
    top_per_category: int = 200,
    type_weights: Mapping[str, float] = DEFAULT_TYPE_WEIGHTS,
) -> tuple[DataFrame, DataFrame]:
    """Tables ``popular`` (key ``all``) and ``popular_cat`` (key: category): per item,
    the sum over its events of ``type weight × 0.5 ** (age / half_life)``."""
    from pyspark.sql import functions as F

    weight = F.lit(0.0)
    for name, w in type_weights.items():
        weight = F.when(F.col("type") == name, F.lit(float(w))).otherwise(weight)
    age = F.greatest(F.lit(float(now)) - F.col("ts"), F.lit(0.0))
    scores = (
        events.select("item_id", (weight * F.pow(F.lit(2.0), -age / half_life_s)).alias("s"))
        .groupBy("item_id")
        .agg(F.sum("s").alias("score"))
        .where(F.col("score") > 0)
        .join(catalogue.where("eligible").select("item_id", "category"), "item_id")
        .cache()
    )
    overall = top_k(scores.withColumn("all", F.lit("all")), "all", "item_id", "score", top_overall)
    return overall, top_k(scores, "category", "item_id", "score", top_per_category)
