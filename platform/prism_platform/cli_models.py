"""``prism models`` (the model registry of a running node) and ``prism job`` (offline
jobs: ``train-ranker``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import click

from prism_sdk.ranking import ModelError

from .errors import PrismPlatformError
from .settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def url_option(f: F) -> F:
    """``--url`` of the node to talk to (``prism_platform.cli``'s option)."""
    from .cli import url_option

    return url_option(f)


def _admin(url: str, method: str, path: str, **kw: Any) -> None:
    from .cli import _call, _echo

    _echo(_call(url, method, path, **kw))


@click.group()
def models() -> None:
    """Ranking models: list versions, activate one (validated before it serves)."""


@models.command("list")
@url_option
def models_list(url: str) -> None:
    """Every model: versions, the current pointer, what is served, the last rejection."""
    _admin(url, "GET", "/admin/models")


@models.command("activate")
@click.argument("name")
@click.argument("version")
@url_option
def models_activate(name: str, version: str, url: str) -> None:
    """Validate VERSION of model NAME on its probe batch and serve it (a version that
    fails validation changes nothing)."""
    _admin(url, "POST", f"/admin/models/{name}/activate", json={"version": version})


@models.command("reload")
@url_option
def models_reload(url: str) -> None:
    """Check every current pointer now and load what changed."""
    _admin(url, "POST", "/admin/models/reload")


@click.group()
def job() -> None:
    """Offline jobs."""


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
def train_ranker_cmd(
    name: str,
    kind: str,
    rounds: int,
    test_fraction: float,
    features: str,
    window_s: float,
    activate: bool,
) -> None:
    """Train a ranker (clicks, carts and orders are the positives), report AUC and
    NDCG@10 on a time split and register the version under var/models (running nodes
    load it once it is activated)."""
    from .models import ModelService, ModelStore
    from .models.train_job import TrainJob, run_train_job

    try:
        settings = Settings()
        report = run_train_job(
            settings, TrainJob(name, kind, rounds, test_fraction, features, window_s)
        )
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
    from .cli import _echo

    _echo(out)
