"""``prism job <name> --engine spark``: the options every job takes to run on Spark, and
running one (``jobs/spark/``). pyspark is imported only here, when Spark is asked for."""

from __future__ import annotations

import dataclasses
import functools
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any, TypeVar

import click

from prism_platform.cli.client import setup_logging
from prism_platform.cli.data import writing
from prism_platform.data.backend import open_backend
from prism_platform.settings import Settings
from prism_sdk import LocalBackend
from prism_sdk.data import DataWriter

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from prism_platform.jobs.spark.tables import Inputs

F = TypeVar("F", bound=Callable[..., Any])
DAY = 86400.0


@dataclass(frozen=True)
class Engine:
    """Where a job runs and what it reads and writes."""

    name: str = "local"
    master: str = "local[2]"
    events: tuple[str, ...] = ()
    """Interaction log files (Parquet/CSV); none: the local data's behaviour events."""
    items: str | None = None
    """Catalogue file; none: the local data's items."""
    out: str | None = None
    """A directory for Parquet tables; none: the data backend."""
    conf: tuple[str, ...] = ()
    max_items_per_user: int | None = None

    @property
    def spark(self) -> bool:
        return self.name == "spark"

    def spark_conf(self) -> dict[str, str]:
        pairs = [c.partition("=") for c in self.conf]
        bad = [c for c, (_, eq, _) in zip(self.conf, pairs, strict=True) if not eq]
        if bad:
            raise click.BadParameter(f"{', '.join(bad)}: expected KEY=VALUE", param_hint="--conf")
        return {k: v for k, _, v in pairs}


def engine_options(command: F) -> F:
    """Add ``--engine``, ``--master``, ``--events``, ``--items``, ``--out``, ``--conf``
    and ``--max-items-per-user``; the command gets them as ``engine: Engine``."""

    @functools.wraps(command)
    def run(**kwargs: Any) -> Any:
        names = [f.name for f in dataclasses.fields(Engine) if f.name != "name"]
        engine = Engine(kwargs.pop("engine_name"), **{n: kwargs.pop(n) for n in names})
        local_only = (engine.events, engine.items, engine.out, engine.conf)
        if not engine.spark and (any(local_only) or engine.max_items_per_user):
            raise click.UsageError(
                "--events, --items, --out, --conf and --max-items-per-user need --engine spark"
            )
        return command(engine=engine, **kwargs)

    options = [
        click.option(
            "--engine", "engine_name", type=click.Choice(("local", "spark")), default="local",
            show_default=True, help="local: in this process; spark: as a PySpark job",
        ),
        click.option(
            "--master", default="local[2]", show_default=True,
            help="Spark master: local[N], spark://HOST:PORT, yarn, k8s://…",
        ),
        click.option(
            "--events", multiple=True, metavar="PATH",
            help="Spark: interaction log (Parquet or CSV: user_id, item_id, type, ts; "
            "repeatable, globs and directories too); default: the local data's events",
        ),
        click.option(
            "--items", metavar="PATH",
            help="Spark: item catalogue (Parquet or CSV: item_id, category, status, title, "
            "shop); default: the local data's items",
        ),
        click.option(
            "--out", metavar="DIR",
            help="Spark: write each table as Parquet under DIR/<table> instead of the data backend",
        ),
        click.option("--conf", multiple=True, metavar="KEY=VALUE", help="Spark: a setting"),
        click.option(
            "--max-items-per-user", type=click.IntRange(1),
            help="Spark itemcf/usercf: keep only each user's N most recent items "
            "(bounds the pairs; default: all, the local engine's answer)",
        ),
    ]  # fmt: skip
    for option in reversed(options):
        run = option(run)
    return run  # type: ignore[return-value]


def open_spark(engine: Engine) -> SparkSession:
    from prism_platform.jobs.spark.session import SparkMissing, open_session

    try:
        return open_session(engine.master, engine.spark_conf())
    except SparkMissing as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def spark_inputs(
    spark: SparkSession, engine: Engine, local: LocalBackend | None, since_days: float | None
) -> Iterator[Inputs]:
    """The log and catalogue: the files named, else the local data's (``local``)."""
    from prism_platform.jobs.spark import inputs
    from prism_platform.jobs.spark.tables import Inputs

    since = time.time() - since_days * DAY if since_days else None
    with tempfile.TemporaryDirectory(prefix="prism-spark-") as staging:
        try:
            if engine.items:
                catalogue = inputs.read_catalogue(spark, engine.items)
            else:
                catalogue = inputs.catalogue_frame(spark, _need(local, "--items").items)
            if engine.events:
                events = inputs.read_events(spark, engine.events, since=since)
            else:
                rows = (
                    (user, ev.item_id, ev.type, ev.ts)
                    for user, evs in _need(local, "--events").events.items()
                    for ev in evs
                    if since is None or ev.ts >= since
                )
                events = inputs.stage_events(spark, rows, Path(staging))
        except inputs.InputError as exc:
            raise click.ClickException(str(exc)) from None
        catalogue = catalogue.cache()
        yield Inputs(inputs.on_catalogue(events, catalogue).cache(), catalogue)


def _need(local: LocalBackend | None, option: str) -> LocalBackend:
    if local is None:
        raise click.ClickException(
            f"the data backend is not the local data: name the input with {option}"
        )
    return local


def run_spark_job(
    name: str,
    engine: Engine,
    since_days: float | None = None,
    only: Callable[[LocalBackend | None], list[str] | None] | None = None,
    **options: Any,
) -> None:
    """Run job ``name`` on Spark and write its tables (see :class:`Engine`); print each
    table's keys and the seconds taken. ``only``: the items ``content`` covers;
    ``options``: the job's :class:`~prism_platform.jobs.spark.tables.Options`."""
    from prism_platform.jobs.spark.tables import Options, job_tables, write_tables

    opts = Options(max_items_per_user=engine.max_items_per_user, **options)

    setup_logging("info")
    t0 = perf_counter()
    spark = open_spark(engine)
    with ExitStack() as stack:
        writer: DataWriter | None = None
        local: LocalBackend | None = None
        if engine.out is None:
            writer = stack.enter_context(writing(f"job {name} (spark)"))
            local = writer if isinstance(writer, LocalBackend) else None
        elif not (engine.events and engine.items):
            local = stack.enter_context(_local_data())
        inputs = stack.enter_context(spark_inputs(spark, engine, local, since_days))
        wanted = only(local) if only is not None else None
        if wanted is not None:
            opts = dataclasses.replace(opts, content_only=_ids(spark, wanted))
        counts = write_tables(
            job_tables(name, inputs, opts),
            writer=writer if engine.out is None else None,
            out=engine.out,
        )
        for table, keys in counts.items():
            click.echo(f"{table}: {keys} keys")
        click.echo(f"{name}: {perf_counter() - t0:.2f} s (spark {engine.master})")
    if engine.out is not None:
        click.echo(f"job {name} (spark): written as Parquet under {engine.out}")


@contextmanager
def _local_data() -> Iterator[LocalBackend | None]:
    """The local data, read only (None when the data backend is another)."""
    settings = Settings()
    if settings.data_backend != "local":
        yield None
        return
    backend = open_backend(dataclasses.replace(settings, demo=False))
    try:
        yield backend if isinstance(backend, LocalBackend) else None
    finally:
        backend.close()


def _ids(spark: SparkSession, ids: list[str]) -> DataFrame:
    return spark.createDataFrame([(i,) for i in ids], "item_id string")
