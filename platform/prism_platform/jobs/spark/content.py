"""Content similarity on Spark: ``jobs/content.py``'s features (title TF-IDF as
scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` computes it, one-hot category and
shop; each block L2-normalised and weighted by :data:`FIELD_WEIGHTS`, then each row
normalised again) and cosine top-k, from pairs of items sharing a feature.

Words are runs of two or more word characters of the lower-cased title (Java's Unicode
``\\w`` here, Python's there: they agree on letters and digits, and may differ on a
combining mark).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from prism_platform.jobs.content import FIELD_WEIGHTS
from prism_platform.jobs.spark.results import top_k

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

WORD = r"(?U)\b\w\w+\b"


def features(catalogue: DataFrame, weights: Mapping[str, float] = FIELD_WEIGHTS) -> DataFrame:
    """``(item_id, feature, value)``: each item's normalised feature vector (sparse)."""
    from pyspark.sql import functions as F

    blocks = []
    if "title" in weights:
        words = catalogue.select(
            "item_id", F.explode(F.regexp_extract_all(F.lower("title"), F.lit(WORD), 0)).alias("w")
        )
        tf = words.groupBy("item_id", "w").agg(F.count("*").alias("tf"))
        n = catalogue.agg(F.count("*").alias("n"))  # documents: every item, titled or not
        idf = (
            tf.groupBy("w")
            .agg(F.count("*").alias("df"))
            .crossJoin(n)
            .select("w", (F.log((1.0 + F.col("n")) / (1.0 + F.col("df"))) + 1.0).alias("idf"))
        )
        title = tf.join(idf, "w").select(
            "item_id",
            F.concat(F.lit("title="), "w").alias("feature"),
            ((1.0 + F.log(F.col("tf").cast("double"))) * F.col("idf")).alias("v"),
        )
        blocks.append(_normalised(title, weights["title"]))
    for field, column in (("category", "categories"), ("shop", "shops")):
        if field in weights:
            one_hot = catalogue.select("item_id", F.explode(column).alias("value")).select(
                "item_id",
                F.concat(F.lit(f"{field}="), "value").alias("feature"),
                F.lit(1.0).alias("v"),
            )
            summed = one_hot.groupBy("item_id", "feature").agg(F.sum("v").alias("v"))
            blocks.append(_normalised(summed, weights[field]))
    if not blocks:
        return catalogue.select("item_id", F.lit("").alias("feature"), F.lit(0.0).alias("v"))
    rows = blocks[0]
    for block in blocks[1:]:
        rows = rows.unionByName(block)
    return _normalised(rows, 1.0)


def _normalised(block: DataFrame, weight: float) -> DataFrame:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    v = F.col("v")
    norm = F.sqrt(F.sum(v * v).over(Window.partitionBy("item_id")))
    return block.withColumn("v", v / norm * weight).where(F.col("v") != 0)


def content_similarity(
    catalogue: DataFrame,
    *,
    top_k_items: int = 50,
    only: DataFrame | None = None,
    weights: Mapping[str, float] = FIELD_WEIGHTS,
) -> DataFrame:
    """Table ``content_sim``: each item's ``top_k_items`` most similar items by the cosine
    of their features (every item is a candidate); only for the items of ``only`` (an
    ``item_id`` column), when given."""
    from pyspark.sql import functions as F

    vectors = features(catalogue, weights).cache()
    left = vectors.select(F.col("item_id").alias("a"), "feature", F.col("v").alias("va"))
    if only is not None:
        left = left.join(only.select(F.col("item_id").alias("a")), "a", "left_semi")
    right = vectors.select(F.col("item_id").alias("b"), "feature", F.col("v").alias("vb"))
    sims = (
        left.join(right, "feature")
        .where(F.col("a") != F.col("b"))
        .groupBy("a", "b")
        .agg(F.sum(F.col("va") * F.col("vb")).alias("sim"))
    )
    return top_k(sims, "a", "b", "sim", top_k_items)
