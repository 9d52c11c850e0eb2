"""``prism job itemcf|usercf|popular|content|all``: the offline recall jobs over the
local data's behaviour events (``prism data events`` / ``import``), each result table
replaced atomically in the backend ``PRISM_DATA_BACKEND`` names (see ``jobs/``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from time import perf_counter
from typing import Any

import click

from prism_sdk import LocalBackend

from .cli_data import _writing
from .jobs.tables import (
    Counts,
    Interactions,
    build_tables,
    write_content,
    write_itemcf,
    write_popular,
    write_usercf,
)
from .loading.importer import log_interactions
from .loading.logs import events_log

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
    from .cli import _setup_logging

    _setup_logging("info")
    with _writing(f"job {name}") as writer:
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
    inter = log_interactions(events_log(backend.events, since), items(backend))
    if not len(inter.ts):
        window = f" of the last {since_days:g} days" if since_days else ""
        raise click.ClickException(
            f"the local data has no behaviour events{window} on its items "
            "(append some with `prism data events` or `prism data import`)"
        )
    return inter


@click.command("itemcf")
@top_k_option(50, "similar items per item")
@since_option
def itemcf_cmd(top_k: int, since_days: float | None) -> None:
    """ItemCF → table i2i: item-to-item cosine over clicks, carts and orders, with
    inverse user frequency."""
    run_job(
        "itemcf",
        lambda w: {"i2i": len(write_itemcf(w, interactions(w, since_days), top_k=top_k))},
    )


@click.command("usercf")
@top_k_option(100, "items per user")
@since_option
def usercf_cmd(top_k: int, since_days: float | None) -> None:
    """UserCF → table u2i_usercf: per user, the items of the 50 most similar users
    (cosine over clicks, carts and orders), the user's own items excluded."""
    run_job("usercf", lambda w: write_usercf(w, interactions(w, since_days), top_k=top_k))


@click.command("popular")
@top_k_option(500, "items in popular/all")
@click.option("--top-per-category", default=200, show_default=True, type=click.IntRange(1))
@half_life_option
@since_option
def popular_cmd(
    top_k: int, top_per_category: int, half_life_days: float, since_days: float | None
) -> None:
    """Popular → tables popular (key all) and popular_cat (key: category): events
    weighted by type (view 1, click 2, cart 4, order 8), decayed with time."""

    def job(w: LocalBackend) -> Counts:
        return write_popular(
            w, interactions(w, since_days), now=time.time(), half_life_s=half_life_days * DAY,
            top_k=top_k, top_per_category=top_per_category,
        )  # fmt: skip

    run_job("popular", job)


@click.command("content")
@top_k_option(50, "similar items per item")
@click.option(
    "--cold-only", is_flag=True, help="only items with fewer than 10 neighbours in table i2i"
)
def content_cmd(top_k: int, cold_only: bool) -> None:
    """Content similarity → table content_sim: items with similar titles (TF-IDF) and the
    same category and shop, from the forward index alone (no events needed)."""

    def job(w: LocalBackend) -> Counts:
        cold_in = w.tables.get("i2i", {}) if cold_only else None
        return write_content(w, items(w), top_k=top_k, cold_in=cold_in)

    run_job("content", job)


@click.command("all")
@half_life_option
@since_option
def all_cmd(half_life_days: float, since_days: float | None) -> None:
    """Every job: i2i, u2i_usercf, popular, popular_cat, bought_together and content_sim
    (for every item)."""
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


JOB_COMMANDS = (itemcf_cmd, usercf_cmd, popular_cmd, content_cmd, all_cmd)
