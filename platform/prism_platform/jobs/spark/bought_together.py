"""Bought together on Spark: ``jobs/bought_together.py``'s baskets and normalised
co-purchase counts, from the pairs of each basket's items instead of a matrix product."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prism_platform.jobs.spark.pairs import member_lists, pair_sums
from prism_platform.jobs.spark.results import top_k
from prism_platform.jobs.tables import BOUGHT

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def bought_together(
    events: DataFrame, *, window_s: float = 3 * 86400.0, top_k_items: int = 30
) -> DataFrame:
    """Table ``bought_together``: co-purchase counts of items in the same basket (a
    user's carts and orders, a new basket after a gap of more than ``window_s``),
    normalised by ``sqrt(n_i × n_j)`` (``n``: the baskets holding the item)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    bought = events.where(F.col("type").isin(*BOUGHT)).select("user_id", "item_id", "ts")
    in_time = Window.partitionBy("user_id").orderBy("ts")
    gap = F.col("ts") - F.lag("ts").over(in_time)
    starts = bought.withColumn("new", F.when(gap <= window_s, 0).otherwise(1))
    # a running count of the basket starts, equal timestamps counted together (a range
    # frame): such events have no gap between them, so they share a basket
    baskets = (
        starts.withColumn("basket", F.sum("new").over(in_time))
        .select("user_id", "basket", "item_id")
        .distinct()
        .cache()
    )
    counts = baskets.groupBy("item_id").agg(F.count("*").alias("n"))
    # an item's basket count rides with it: the pairs need no join
    member = F.struct(F.col("item_id").alias("m"), F.col("n"))
    lists = member_lists(baskets.join(counts, "item_id"), ["user_id", "basket"], member)
    pairs = pair_sums(lists, F.lit(1)).select(
        F.col("a.m").alias("a"),
        F.col("b.m").alias("b"),
        (F.col("total") / F.sqrt(F.col("a.n").cast("double") * F.col("b.n"))).alias("score"),
    )
    return top_k(pairs, "a", "b", "score", top_k_items)
