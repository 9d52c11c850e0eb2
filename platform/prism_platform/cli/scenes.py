"""Scenes of a running node: ``prism scene``, ``scene-set`` and ``recommend``."""

from __future__ import annotations

from typing import Any

import click

from prism_platform.cli.client import call, echo, json_option, url_option

read_timeout_option = click.option(
    "--read-timeout-ms",
    type=int,
    default=None,
    help="budget of a request's data reads [default: PRISM_REDIS_TIMEOUT_MS]",
)


@click.command()
@url_option
@click.option("--name", required=True)
@click.option("--description", default="")
@click.option("--deadline-ms", default=80, type=int, show_default=True)
@read_timeout_option
def scene(
    url: str, name: str, description: str, deadline_ms: int, read_timeout_ms: int | None
) -> None:
    """Create a scene (with a default experiment of one bucket, `base`)."""
    body = {"name": name, "description": description, "deadline_ms": deadline_ms}
    if read_timeout_ms is not None:
        body["read_timeout_ms"] = read_timeout_ms
    echo(call(url, "POST", "/admin/scenes", json=body))


@click.command("scene-set")
@url_option
@click.argument("name")
@click.option("--description", default=None)
@click.option("--deadline-ms", type=int, default=None)
@click.option("--max-size", type=int, default=None)
@read_timeout_option
@click.option("--default-read-timeout", is_flag=True, help="back to PRISM_REDIS_TIMEOUT_MS")
def scene_set(url: str, name: str, default_read_timeout: bool, **changes: Any) -> None:
    """Change settings of the scene NAME (only the options given)."""
    body = {k: v for k, v in changes.items() if v is not None}
    if default_read_timeout:
        body["read_timeout_ms"] = None
    if not body:
        raise click.UsageError("nothing to change: give at least one option")
    echo(call(url, "PATCH", f"/admin/scenes/{name}", json=body))


@click.command()
@url_option
@click.argument("scene")
@click.argument("user_id")
@click.option("--size", default=10, type=int, show_default=True)
@click.option("--context", "context_json", default="{}")
@click.option("--debug", is_flag=True)
def recommend(
    url: str, scene: str, user_id: str, size: int, context_json: str, debug: bool
) -> None:
    """Ask a running node for a recommendation."""
    body = {
        "scene": scene,
        "user_id": user_id,
        "size": size,
        "context": json_option(context_json, "--context"),
        "debug": debug,
    }
    echo(call(url, "POST", "/v1/recommend", json=body))
