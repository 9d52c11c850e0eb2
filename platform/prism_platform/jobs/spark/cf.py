"""ItemCF and UserCF on Spark: the weighting, neighbour limits and top-k of the local
jobs (``jobs/itemcf.py``, ``jobs/usercf.py``), computed from pairs instead of a
matrix product.

Item × item (or user × user) similarity is never materialised whole: the pairs are
generated per user (per item for UserCF) from its sorted interactions, each unordered
pair once (``jobs/spark/pairs.py``), and only pairs that share one exist. Ids are
numbered first (codes that rank as the ids do), so the pairs carry two integers. The
work grows with Σ n² / 2 over users (items) of n interactions: ``max_items_per_user``
bounds it by keeping a heavy user's most recent items only (an approximation; the
default, none, gives the local engine's answers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prism_platform.jobs.spark.pairs import decoded, encoded, id_codes, member_lists, pair_sums
from prism_platform.jobs.spark.results import top_k
from prism_platform.jobs.tables import ENGAGED

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def engaged_pairs(events: DataFrame, max_items_per_user: int | None = None) -> DataFrame:
    """Distinct ``(user_id, item_id)`` of the engaged events (click, cart, order): the
    binary matrix both jobs start from; with a cap, each user's most recent items."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    engaged = events.where(F.col("type").isin(*ENGAGED))
    if max_items_per_user is None:
        return engaged.select("user_id", "item_id").distinct()
    pairs = engaged.groupBy("user_id", "item_id").agg(F.max("ts").alias("last"))
    recent = Window.partitionBy("user_id").orderBy(F.desc("last"), F.asc("item_id"))
    pairs = pairs.withColumn("n", F.row_number().over(recent))
    return pairs.where(F.col("n") <= max_items_per_user).select("user_id", "item_id")


def cosine(pairs: DataFrame, row: str, col: str) -> DataFrame:
    """``(a, b, sim)``: the cosine of rows ``a != b`` of the binary ``row × col`` matrix
    ``pairs``, each column scaled by ``w = 1 / log(1 + |rows of col|)`` (inverse
    frequency, as the local jobs scale it): ``Σ w² / (|a| |b|)`` over their shared
    columns, ``|a|`` being ``sqrt(Σ w²)`` over the row's columns."""
    from pyspark.sql import functions as F

    def weight(n: Column) -> Column:
        return F.pow(1.0 / F.log1p(n.cast("double")), 2)

    per_col = pairs.groupBy(col).agg(weight(F.count("*")).alias("w2"))
    weighted = pairs.join(per_col, col)
    norms = weighted.groupBy(row).agg(F.sqrt(F.sum("w2")).alias("norm"))
    # each row's norm rides with it into the pairs: no join on the (larger) pair table
    member = F.struct(F.col(row).alias("m"), F.col("norm").alias("n"))
    lists = member_lists(pairs.join(norms, row), col, member)
    term = weight(F.size("xs")) / (F.col("x.n") * F.col("y.n"))
    return pair_sums(lists, term, member="m").withColumnRenamed("total", "sim")


def itemcf(
    events: DataFrame, *, top_k_items: int = 50, max_items_per_user: int | None = None
) -> DataFrame:
    """Table ``i2i``: ItemCF as ``jobs/itemcf.py`` computes it (cosine between items over
    the users who engaged with them, each user scaled by ``1 / log(1 + |items|)``)."""
    pairs = engaged_pairs(events, max_items_per_user)
    items = id_codes(pairs, "item_id").cache()
    sims = cosine(encoded(pairs, "item_id", items).cache(), "item_id", "user_id")
    return decoded(top_k(sims, "a", "b", "sim", top_k_items), items, items)


def usercf(
    events: DataFrame,
    *,
    neighbours: int = 50,
    top_n: int = 100,
    max_items_per_user: int | None = None,
) -> DataFrame:
    """Table ``u2i_usercf``: UserCF as ``jobs/usercf.py`` computes it (the ``neighbours``
    most similar users by inverse-frequency cosine; an item scores the summed similarity
    of the neighbours who have it; the user's own items excluded)."""
    from pyspark.sql import functions as F

    named = engaged_pairs(events, max_items_per_user)
    users, items = id_codes(named, "user_id").cache(), id_codes(named, "item_id").cache()
    pairs = encoded(encoded(named, "user_id", users), "item_id", items).cache()
    sims = cosine(pairs, "user_id", "item_id")
    # ranked by the rounded similarity; the unrounded one weighs, as in the local job
    nearest = top_k(sims, "a", "b", "sim", neighbours, keep=("sim",))
    scores = (
        nearest.select(F.col("key").alias("user_id"), F.col("item").alias("neighbour"), "sim")
        .join(pairs.withColumnRenamed("user_id", "neighbour"), "neighbour")
        .groupBy("user_id", "item_id")
        .agg(F.sum("sim").alias("score"))
        .join(pairs, ["user_id", "item_id"], "left_anti")
    )
    return decoded(top_k(scores, "user_id", "item_id", "score", top_n), users, items)
