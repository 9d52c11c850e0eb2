"""The pair sums every similarity job on Spark is built from, and integer codes for ids.

A similarity (ItemCF, UserCF, bought together) is a sum over groups (a user, an item,
a basket) of a term for each pair of the group's members. Each group's members are
gathered into one sorted array and its pairs generated from it, each unordered pair
once (``a < b``): no self-join, and half the pairs of one to shuffle and sum; the sums
are then mirrored to both directions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def member_lists(rows: DataFrame, group: str | list[str], member: Column) -> DataFrame:
    """``group``'s columns and ``xs``: each group's ``member`` values (distinct within a
    group; structs compare by their first field first), sorted."""
    from pyspark.sql import functions as F

    keys = [group] if isinstance(group, str) else group
    return rows.groupBy(*keys).agg(F.sort_array(F.collect_list(member)).alias("xs"))


def pair_sums(lists: DataFrame, term: Column, member: str | None = None) -> DataFrame:
    """``(a, b, total)`` for ``a != b``, both ways: over the rows of ``lists`` (sorted
    arrays ``xs``, as :func:`member_lists` makes them), the sum of ``term`` for each
    pair of a row's members; ``term`` may use ``x`` and ``y``, the pair's elements
    (``x`` first in the array), and the row's other columns. ``member``: the field of a
    struct element that names the member (default: the element itself)."""
    from pyspark.sql import functions as F

    position = F.col("i")
    later = F.slice("xs", position + 2, F.size("xs") - position - 1)  # 1-based: after x
    per_pair = (
        lists.select("*", F.posexplode("xs").alias("i", "x"))
        .select("*", F.explode(later).alias("y"))
        .select(
            (F.col("x")[member] if member else F.col("x")).alias("a"),
            (F.col("y")[member] if member else F.col("y")).alias("b"),
            term.alias("t"),
        )
    )
    once = per_pair.groupBy("a", "b").agg(F.sum("t").alias("total"))
    both = F.array(
        F.struct("a", "b", "total"),
        F.struct(F.col("b").alias("a"), F.col("a").alias("b"), "total"),
    )
    return once.select(F.explode(both).alias("p")).select("p.*")


def id_codes(rows: DataFrame, column: str) -> DataFrame:
    """``(id, code)``: the distinct values of ``column`` numbered from 0 in Spark's order
    of them (strings: by UTF-8 bytes, the tie-break of every top-k), so codes rank as
    the ids do. Deterministic (a recomputation numbers them alike); the numbering runs
    in one partition, fine for tens of millions of ids."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    ids = rows.select(F.col(column).alias("id")).distinct()
    return ids.select("id", (F.row_number().over(Window.orderBy("id")) - 1).alias("code"))


def encoded(rows: DataFrame, column: str, codes: DataFrame) -> DataFrame:
    """``rows`` with ``column`` replaced by its code in ``codes`` (:func:`id_codes`)."""
    from pyspark.sql import functions as F

    by_id = codes.select(F.col("id").alias(column), "code")
    others = [c for c in rows.columns if c != column]
    return rows.join(by_id, column).select(*others, F.col("code").alias(column))


def decoded(result: DataFrame, keys: DataFrame, items: DataFrame) -> DataFrame:
    """A result frame whose ``key`` and ``item`` are codes, with the ids of ``keys`` and
    ``items`` (:func:`id_codes`) in their place."""
    from pyspark.sql import functions as F

    for column, codes in (("key", keys), ("item", items)):
        named = codes.select(F.col("code").alias(f"{column}_code"), F.col("id").alias(column))
        result = result.withColumnRenamed(column, f"{column}_code").join(named, f"{column}_code")
    return result.drop("key_code", "item_code")
