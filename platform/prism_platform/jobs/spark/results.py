"""Result tables as DataFrames of ``(key, item, score, rank)`` rows: the top-k every job
ends with, and where a table goes (the data layer's atomic replace, or Parquet).

The ranking is the local engine's (``jobs/_topk.py``): the score rounded to
:data:`~prism_platform.jobs._topk.SCORE_DECIMALS` descending, then the item id
ascending (Spark compares strings by their UTF-8 bytes, the order of Python's ``str``
comparison); scores that round to 0 are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from prism_platform.jobs._topk import SCORE_DECIMALS, Table
from prism_sdk.data import DataWriter

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

RESULT_COLUMNS = ("key", "item", "score", "rank")
"""A result table in Parquet: one row per (key, item); ``rank`` 1 is the best."""


def top_k(
    scores: DataFrame,
    key: str,
    item: str,
    score: Column | str,
    k: int,
    keep: Sequence[str] = (),
) -> DataFrame:
    """The ``k`` best ``item`` of each ``key`` as a result frame (:data:`RESULT_COLUMNS`,
    and the columns ``keep``), ``score`` rounded; only positive rounded scores.

    A ranking window, which Spark cuts to each task's ``k`` best per key before the
    shuffle (``WindowGroupLimit``): measured as fast as a top-k aggregate (``min_by``)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rounded = scores.select(
        F.col(key).alias("key"),
        F.col(item).alias("item"),
        F.round(score, SCORE_DECIMALS).alias("score"),
        *keep,
    ).where(F.col("score") > 0)
    order = Window.partitionBy("key").orderBy(F.desc("score"), F.asc("item"))
    return rounded.withColumn("rank", F.row_number().over(order)).where(F.col("rank") <= k)


def collect_table(result: DataFrame) -> Table:
    """A result frame as the table the data layer writes, rows best first (streamed to
    the driver one key at a time: the table must fit its memory, as it must the
    writer's)."""
    from pyspark.sql import functions as F

    rows = result.groupBy("key").agg(
        F.sort_array(F.collect_list(F.struct("rank", "item", "score"))).alias("rows")
    )
    # arrays of plain values: a Python Row per element would take 3× longer to collect
    rows = rows.select("key", F.col("rows.item").alias("items"), F.col("rows.score"))
    return {
        str(key): list(zip(map(str, items), map(float, scores), strict=True))
        for key, items, scores in rows.toLocalIterator()
    }


def replace_table(writer: DataWriter, name: str, result: DataFrame) -> int:
    """Collect table ``name`` and replace it atomically through ``writer``; its keys."""
    table = collect_table(result)
    writer.replace_table(name, table)
    return len(table)


def write_parquet(result: DataFrame, out: str, name: str) -> int:
    """Write table ``name`` as Parquet under ``out/name`` (overwritten; Spark writes the
    part files first and the ``_SUCCESS`` marker last: a bulk loader waits for it);
    its keys."""
    result = result.select(*RESULT_COLUMNS).cache()
    try:
        result.write.mode("overwrite").parquet(f"{out.rstrip('/')}/{name}")
        return int(result.select("key").distinct().count())
    finally:
        result.unpersist()
