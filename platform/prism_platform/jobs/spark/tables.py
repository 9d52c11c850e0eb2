"""Which result tables each job writes on Spark, as frames, and writing them: through
the data layer's atomic replace or as Parquet for a bulk loader.

The Spark counterpart of ``jobs/tables.py``; ``category_next`` and the embeddings stay
local-only (``prism job all --engine spark`` writes the other tables).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prism_platform.jobs.spark import bought_together, cf, content, popular
from prism_platform.jobs.spark.results import replace_table, write_parquet
from prism_sdk.data import DataWriter

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

JOBS = ("itemcf", "usercf", "popular", "bought-together", "content", "all")


@dataclass(frozen=True)
class Inputs:
    """The interaction log (on the catalogue's items) and the catalogue
    (``jobs/spark/inputs.py``)."""

    events: DataFrame
    catalogue: DataFrame


@dataclass(frozen=True)
class Options:
    """Each job's knobs, defaults as the local engine's."""

    top_k: int | None = None
    """The job's own top-k (``--top-k``); None: its default."""
    now: float = 0.0
    half_life_s: float = 3 * 86400.0
    top_per_category: int = 200
    max_items_per_user: int | None = None
    content_only: DataFrame | None = None
    """``content``: rows only for these items (an ``item_id`` column)."""


def job_tables(job: str, inputs: Inputs, opts: Options = Options()) -> dict[str, DataFrame]:
    """The tables ``job`` writes (``all``: every job's), by name."""
    if job == "all":
        each = dataclasses.replace(opts, top_k=None)  # every job's own default
        return {n: f for one in JOBS[:-1] for n, f in job_tables(one, inputs, each).items()}
    k, cap = opts.top_k, opts.max_items_per_user
    if job == "itemcf":
        return {"i2i": cf.itemcf(inputs.events, top_k_items=k or 50, max_items_per_user=cap)}
    if job == "usercf":
        return {"u2i_usercf": cf.usercf(inputs.events, top_n=k or 100, max_items_per_user=cap)}
    if job == "popular":
        overall, per_cat = popular.popular(
            inputs.events, inputs.catalogue, now=opts.now, half_life_s=opts.half_life_s,
            top_overall=k or 500, top_per_category=opts.top_per_category,
        )  # fmt: skip
        return {"popular": overall, "popular_cat": per_cat}
    if job == "bought-together":
        return {
            "bought_together": bought_together.bought_together(inputs.events, top_k_items=k or 30)
        }
    if job == "content":
        return {
            "content_sim": content.content_similarity(
                inputs.catalogue, top_k_items=k or 50, only=opts.content_only
            )
        }
    raise ValueError(f"no Spark job {job!r} (jobs: {', '.join(JOBS)})")


def write_tables(
    tables: Mapping[str, DataFrame], *, writer: DataWriter | None = None, out: str | None = None
) -> dict[str, int]:
    """Each table replaced atomically through ``writer``, or written as Parquet under
    ``out``; keys per table."""
    if (writer is None) == (out is None):
        raise ValueError("write the tables through a writer or to Parquet, one of them")
    if out is not None:
        return {name: write_parquet(frame, out, name) for name, frame in tables.items()}
    assert writer is not None
    return {name: replace_table(writer, name, frame) for name, frame in tables.items()}
