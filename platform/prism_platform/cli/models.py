"""``prism models``: the model registry of a running node."""

from __future__ import annotations

from typing import Any

import click

from prism_platform.cli.client import call, echo, url_option


def _admin(url: str, method: str, path: str, **kw: Any) -> None:
    echo(call(url, method, path, **kw))


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
