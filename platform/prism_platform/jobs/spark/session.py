"""The SparkSession a job runs in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MISSING = (
    "the Spark engine needs pyspark and Java 17 or later: pip install 'prism-rec[spark]' "
    "(or run the job with --engine local)"
)
DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.adaptive.enabled": "true",  # coalesces the many small shuffle partitions
    "spark.ui.showConsoleProgress": "false",
}


class SparkMissing(RuntimeError):
    """pyspark is not installed."""


def open_session(
    master: str = "local[2]", conf: Mapping[str, str] | None = None, app: str = "prism-jobs"
) -> SparkSession:
    """A session on ``master`` (``local[N]``, ``spark://host:port``, ``yarn``…) with
    :data:`DEFAULTS` and ``conf`` (which wins); one per process, as Spark has it: an active
    session is reused (and its settings that cannot change at run time stay)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkMissing(MISSING) from None
    builder = SparkSession.builder.master(master).appName(app)
    for key, value in {**DEFAULTS, **(conf or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
