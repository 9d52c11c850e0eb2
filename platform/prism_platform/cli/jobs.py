"""``prism job``: the offline jobs. ``itemcf|usercf|popular|bought-together|content|embeddings|all``
are the recall jobs over the local data's behaviour events (``prism data events`` /
``import``), each result table replaced atomically in the backend ``PRISM_DATA_BACKEND``
names (see ``jobs/``); ``train-ranker`` trains a ranking model (see ``models/``). With
``--engine spark`` they run as PySpark jobs (``cli/spark_jobs.py``, ``jobs/spark/``)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from time import perf_counter
from typing import Any

import click

from prism_platform.cli.client import echo, setup_logging
from prism_platform.cli.data import writing
from prism_platform.cli.spark_jobs import Engine, engine_options, open_spark, run_spark_job
from prism_platform.errors import PrismPlatformError
from prism_platform.jobs.tables import (
    COLD_NEIGHBOURS,
    Counts,
    Interactions,
    build_tables,
    write_bought_together,
    write_content,
    write_embeddings,
    write_itemcf,
    write_popular,
    write_usercf,
)
from prism_platform.settings import Settings
from prism_sdk import LocalBackend
from prism_sdk.ranking import ModelError

DAY = 86400.0
Job = Callable[[LocalBackend], Counts]


def top_k_option(default: int, what: str) -> Callable[[Any], Any]:
    return click.option(
        "--top-k", default=default, show_default=True, type=click.IntRange(1, 10_000), help=what
    )


since_option = click.option(
    "--since-days",
    type=click.FloatRange(0, min_open=True),
    help="only events of the last N days (default: every stored event)",
)
half_life_option = click.option(
    "--half-life-days",
    default=3.0,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    help="popularity halves every N days",
)


def run_job(name: str, job: Job) -> None:
    """Open the local data, run ``job`` on it, save it only when the job succeeded, and
    print each table's row count and the seconds taken."""
    setup_logging("info")
    with writing(f"job {name}") as writer:
        if not isinstance(writer, LocalBackend):
            raise click.ClickException(
                f"prism job {name} reads the items and behaviour events of the local data "
                "(PRISM_DATA_BACKEND=local)"
            )
        t0 = perf_counter()
        counts = job(writer)
        for table, rows in counts.items():
            click.echo(f"{table}: {rows} rows")
        click.echo(f"{name}: {perf_counter() - t0:.2f} s")


def items(backend: LocalBackend) -> dict[str, dict[str, Any]]:
    if not backend.items:
        raise click.ClickException(
            "the local data has no items (load them with `prism data load --kind items` "
            "or `prism data import`; the demo world served with PRISM_DEMO=1 is not local "
            "data: `prism demo seed` builds its tables)"
        )
    return backend.items


def interactions(backend: LocalBackend, since_days: float | None) -> Interactions:
    """The backend's behaviour events (of the last ``since_days``) on its items."""
    since = time.time() - since_days * DAY if since_days else float("-inf")
    from prism_platform.importing.importer import log_interactions  # scipy: not at start-up
    from prism_platform.importing.logs import events_log

    inter = log_interactions(events_log(backend.events, since), items(backend))
    if not len(inter.ts):
        window = f" of the last {since_days:g} days" if since_days else ""
        raise click.ClickException(
            f"the local data has no behaviour events{window} on its items "
            "(append some with `prism data events` or `prism data import`)"
        )
    return inter


@click.group()
def job() -> None:
    """Offline jobs."""


@job.command("itemcf")
@top_k_option(50, "similar items per item")
@since_option
@engine_options
def itemcf_cmd(top_k: int, since_days: float | None, engine: Engine) -> None:
    """ItemCF → table i2i: item-to-item cosine over clicks, carts and orders, with
    inverse user frequency."""
    if engine.spark:
        return run_spark_job("itemcf", engine, since_days, top_k=top_k)
    run_job(
        "itemcf",
        lambda w: {"i2i": len(write_itemcf(w, interactions(w, since_days), top_k=top_k))},
    )


@job.command("usercf")
@top_k_option(100, "items per user")
@since_option
@engine_options
def usercf_cmd(top_k: int, since_days: float | None, engine: Engine) -> None:
    """UserCF → table u2i_usercf: per user, the items of the 50 most similar users
    (cosine over clicks, carts and orders), the user's own items excluded."""
    if engine.spark:
        return run_spark_job("usercf", engine, since_days, top_k=top_k)
    run_job("usercf", lambda w: write_usercf(w, interactions(w, since_days), top_k=top_k))


@job.command("popular")
@top_k_option(500, "items in popular/all")
@click.option("--top-per-category", default=200, show_default=True, type=click.IntRange(1))
@half_life_option
@since_option
@engine_options
def popular_cmd(
    top_k: int,
    top_per_category: int,
    half_life_days: float,
    since_days: float | None,
    engine: Engine,
) -> None:
    """Popular → tables popular (key all) and popular_cat (key: category): events
    weighted by type (view 1, click 2, cart 4, order 8), decayed with time."""
    if engine.spark:
        return run_spark_job(
            "popular", engine, since_days, top_k=top_k, top_per_category=top_per_category,
            now=time.time(), half_life_s=half_life_days * DAY,
        )  # fmt: skip

    def build(w: LocalBackend) -> Counts:
        return write_popular(
            w, interactions(w, since_days), now=time.time(), half_life_s=half_life_days * DAY,
            top_k=top_k, top_per_category=top_per_category,
        )  # fmt: skip

    run_job("popular", build)


@job.command("content")
@top_k_option(50, "similar items per item")
@click.option(
    "--cold-only", is_flag=True, help="only items with fewer than 10 neighbours in table i2i"
)
@engine_options
def content_cmd(top_k: int, cold_only: bool, engine: Engine) -> None:
    """Content similarity → table content_sim: items with similar titles (TF-IDF) and the
    same category and shop, from the forward index alone (no events needed)."""
    if engine.spark:
        only = cold_items if cold_only else None
        return run_spark_job("content", engine, None, only, top_k=top_k)

    def build(w: LocalBackend) -> Counts:
        cold_in = w.tables.get("i2i", {}) if cold_only else None
        return write_content(w, items(w), top_k=top_k, cold_in=cold_in)

    run_job("content", build)


def cold_items(local: LocalBackend | None) -> list[str]:
    """The local data's items with fewer than 10 neighbours in table i2i."""
    if local is None:
        raise click.ClickException("--cold-only reads table i2i of the local data")
    i2i = local.tables.get("i2i", {})
    return [i for i in local.items if len(i2i.get(i, ())) < COLD_NEIGHBOURS]


@job.command("bought-together")
@top_k_option(30, "items per item")
@since_option
@engine_options
def bought_together_cmd(top_k: int, since_days: float | None, engine: Engine) -> None:
    """Bought together → table bought_together: items carted or ordered in the same
    basket (a user's purchases less than 3 days apart), counts normalised by
    sqrt(n_i × n_j)."""
    if engine.spark:
        return run_spark_job("bought-together", engine, since_days, top_k=top_k)
    run_job(
        "bought-together",
        lambda w: write_bought_together(w, interactions(w, since_days), top_k=top_k),
    )


@job.command("embeddings")
@click.option("--method", type=click.Choice(("als", "bpr")), default="als", show_default=True)
@click.option("--factors", default=64, show_default=True, type=click.IntRange(2, 1024))
@click.option("--regularization", default=0.01, show_default=True, type=click.FloatRange(0))
@click.option("--iterations", default=15, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--alpha", default=1.0, show_default=True, type=click.FloatRange(0, min_open=True),
    help="ALS: confidence per unit of event weight",
)  # fmt: skip
@click.option(
    "--threads", default=0, show_default=True, help="0: every core", type=click.IntRange(0)
)
@click.option("--seed", default=0, show_default=True, help="random state of the initial vectors")
@click.option("--name", default="emb", show_default=True, help="vector table")
@top_k_option(50, "similar items per item in i2i_emb")
@since_option
def embeddings_cmd(
    method: str,
    factors: int,
    regularization: float,
    iterations: int,
    alpha: float,
    threads: int,
    seed: int,
    name: str,
    top_k: int,
    since_days: float | None,
) -> None:
    """Embeddings → vector table emb (user and item vectors, matrix factorisation of the
    events weighted by type: view 1, click 2, cart 4, order 8) and table i2i_emb (item
    neighbours by the cosine of their vectors)."""
    from prism_platform.jobs.embeddings import Training  # scipy, implicit: not at start-up

    training = Training(
        "bpr" if method == "bpr" else "als", factors, regularization, iterations, alpha,
        seed=seed, threads=threads,
    )  # fmt: skip
    run_job(
        "embeddings",
        lambda w: write_embeddings(
            w, interactions(w, since_days), training=training, name=name, top_k=top_k
        ),
    )


@job.command("all")
@half_life_option
@since_option
@engine_options
def all_cmd(half_life_days: float, since_days: float | None, engine: Engine) -> None:
    """Every job: i2i, u2i_usercf, popular, popular_cat, bought_together, category_next
    and content_sim (for every item); with --engine spark all but category_next."""
    if engine.spark:
        return run_spark_job(
            "all", engine, since_days, now=time.time(), half_life_s=half_life_days * DAY
        )
    run_job(
        "all",
        lambda w: build_tables(
            w,
            interactions(w, since_days),
            now=time.time(),
            half_life_s=half_life_days * DAY,
            items=w.items,
            content="all",
        ),  # fmt: skip
    )


@job.command("train-ranker")
@click.option("--name", default="ctr", show_default=True, help="model name")
@click.option("--kind", type=click.Choice(("lightgbm", "logistic")), default="lightgbm")
@click.option("--rounds", default=100, show_default=True, help="LightGBM boosting rounds")
@click.option("--test-fraction", default=0.2, show_default=True, help="latest rows held out")
@click.option(
    "--features",
    type=click.Choice(("auto", "served", "reassembled")),
    default="auto",
    show_default=True,
    help="served: the feature log joined with the events; reassembled: built now from the "
    "local data's history; auto: served when enough rows were logged",
)
@click.option("--window-s", default=600.0, show_default=True, help="a click this soon after counts")
@click.option("--activate", is_flag=True, help="validate and point `current` at the version")
@engine_options
@click.option(
    "--max-rows", default=2_000_000, show_default=True, type=click.IntRange(1),
    help="Spark: rows brought to the driver to train on (whole requests sampled above it)",
)  # fmt: skip
def train_ranker_cmd(
    name: str,
    kind: str,
    rounds: int,
    test_fraction: float,
    features: str,
    window_s: float,
    activate: bool,
    engine: Engine,
    max_rows: int,
) -> None:
    """Train a ranker (clicks, carts and orders are the positives), report AUC and
    NDCG@10 on a time split and register the version under var/models (running nodes
    load it once it is activated). With --engine spark the served training set is
    joined by Spark (--events: the event log as exported files) and LightGBM trains on
    the driver."""
    from prism_platform.models import ModelService, ModelStore
    from prism_platform.models.train_job import TrainJob, run_train_job

    if engine.items or engine.out or engine.max_items_per_user:
        raise click.UsageError("train-ranker takes no --items, --out or --max-items-per-user")
    try:
        settings = Settings()
        train = TrainJob(name, kind, rounds, test_fraction, features, window_s)
        if engine.spark:
            from prism_platform.models.spark_trainset import run_spark_train_job

            report = run_spark_train_job(
                open_spark(engine), settings, train, events=engine.events, max_rows=max_rows
            )
        else:
            report = run_train_job(settings, train)
    except (ValueError, PrismPlatformError, ModelError) as exc:
        raise click.ClickException(str(exc)) from None
    out = dataclasses.asdict(report)
    if activate:
        try:
            ModelService(ModelStore(settings.var_dir / "models")).activate(name, report.version)
        except PrismPlatformError as exc:
            raise click.ClickException(
                f"{report.version} registered, not activated: {exc}"
            ) from None
        out["activated"] = True
    echo(out)
